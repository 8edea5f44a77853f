// Multi-vector (late-interaction) embeddings: one vector per token, compared with MaxSim.
// encore::ColBERT computes them as PyLate's ColBERT model does (pylate 1.6: the transformer's
// token states through the Dense projections, L2-normalized per token; queries with the
// "[Q] " prefix token and [MASK] expansion, documents with "[D] " and the punctuation
// skip-list); bge-m3's ColBERT output (encore/bge_m3.h) uses the same MultiVector.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

namespace encore {

// The vectors of one text: `rows` vectors of `dim` floats, row-major, in token order.
struct MultiVector {
  std::vector<float> values;
  int64_t rows = 0, dim = 0;
  std::vector<int32_t> token_ids;  // the token each row belongs to
  std::string error;               // set instead when this input failed

  const float* row(int64_t i) const { return values.data() + i * dim; }
};

// MaxSim (ColBERT's late interaction): the sum over the query's vectors of the largest dot
// product with any of the document's vectors, accumulated in double; 0 for an empty query.
// A document with no vectors gives 0 per query vector (the max over nothing is taken as 0,
// as a padded zero row gives in PyLate's batched scoring).
float maxsim(const MultiVector& query, const MultiVector& document);

struct ColBERTOptions {
  int query_length = 0;     // 0: config_sentence_transformers.json's (PyLate's default 32)
  int document_length = 0;  // 0: config_sentence_transformers.json's (PyLate's default 180)
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

class ColBERT {
 public:
  // DIR: a PyLate ColBERT directory (modules.json: Transformer then one or more Dense
  // modules; config_sentence_transformers.json with the prefixes, lengths, skip-list and
  // query expansion settings), or a Stanford ColBERT checkpoint as PyLate loads one
  // (config.json architectures HF_ColBERT, the projection `linear.weight` in the checkpoint,
  // artifact.metadata's prefixes and lengths).
  static ColBERT load(const std::string& dir, const ColBERTOptions& options = {});
  // Whether DIR holds a ColBERT model: a PyLate directory (config_sentence_transformers.json's
  // model_type "ColBERT", or a pylate.* module in modules.json) or a Stanford checkpoint.
  static bool is_colbert_directory(const std::string& dir);
  // PyLate's encode(texts, is_query=...): queries give query_length vectors (with expansion),
  // documents one per kept token (padding and skip-list tokens removed).
  std::vector<MultiVector> encode(const std::vector<std::string>& texts, bool is_query) const;

  // One text as the model sees it, for a caller that batches itself (encore serve): its ids
  // (prefix and expansion included) and how many leading positions are attended (the [MASK]
  // expansion of a query is not, unless attend_to_expansion_tokens). Throws on a tokenizer error.
  struct Input {
    std::vector<int32_t> ids;
    size_t attended = 0;
    bool is_query = false;
  };
  Input prepare(const std::string& text, bool is_query) const;
  // The vectors of prepared inputs, queries and documents mixed, as one batch (a text's vectors
  // do not depend on the rest of the batch).
  std::vector<MultiVector> run(const std::vector<Input>& inputs) const;
  int64_t dimensions() const;  // the last Dense module's width
  int query_length() const;
  int document_length() const;
  std::string describe() const;  // "ColBERT(query_length 32, document_length 180, Dense(384->128, ...))"
  const Tokenizer& tokenizer() const;
  const Model& model() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
