// encore::BgeM3: bge-m3's three outputs as FlagEmbedding (1.4.2) BGEM3FlagModel.encode computes
// them, from one forward pass of its XLM-R body per text: the dense vector (the <s> token's
// final hidden state), the sparse lexical weights (relu(sparse_linear(h)) per token, the max
// per token id) and the ColBERT vectors (colbert_linear(h) for every token after <s>), with
// its two scores (compute_lexical_matching_score, colbert_score).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encore/model.h"
#include "encore/multi_vector.h"
#include "encore/sparse_encoder.h"
#include "encore/tokenizer.h"

namespace encore {

struct BgeM3Options {
  // Tokens per text, <s> and </s> included (longer texts are cut). 0: FlagEmbedding's
  // default, 512 (not bge-m3's 8192), capped to the model's positions; more than the
  // positions allow is an error.
  int max_length = 0;
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;  // the XLM-R body's GEMMs; the heads run in float32
  bool normalize = true;  // normalize_embeddings: L2-normalize dense and ColBERT
  // FlagEmbedding's use_fp16=True (its default) on the CPU: every weight, the heads too,
  // rounded to float16, then float32 arithmetic. Off: the checkpoint's weights (use_fp16=False).
  bool fp16_weights = false;
};

// One text's three outputs (BGEM3FlagModel.encode's dense_vecs, lexical_weights and
// colbert_vecs entries).
struct BgeM3Embedding {
  std::vector<float> dense;  // dimensions() floats
  // The lexical weights by token id ascending (FlagEmbedding's dict keeps the order of first
  // occurrence; the pairs are the same).
  SparseEmbedding sparse;
  MultiVector colbert;  // one row per token after <s> (the final </s> included)
  std::string error;    // set instead when this input failed
};

class BgeM3 {
 public:
  // DIR: a bge-m3 directory (BAAI/bge-m3 or a model fine-tuned with FlagEmbedding): an
  // XLMRobertaModel with its tokenizer, colbert_linear.pt and sparse_linear.pt.
  static BgeM3 load(const std::string& dir, const BgeM3Options& options = {});
  // All three outputs of each text, from one forward pass.
  std::vector<BgeM3Embedding> encode(const std::vector<std::string>& texts) const;
  // The same with this call's max_length (encode(max_length=...); 0: the loaded one), at most
  // what the model's positions allow.
  std::vector<BgeM3Embedding> encode(const std::vector<std::string>& texts, int max_length) const;
  // The outputs of sequences already tokenized (<s> ... </s>), as one ragged batch: for a caller
  // that tokenizes and batches itself (encore serve). A text's outputs do not depend on the batch.
  std::vector<BgeM3Embedding> run(const TokenBatch& batch) const;
  // compute_lexical_matching_score: the sum over the token ids both have of the products of
  // their weights (accumulated in double).
  static float lexical_score(const SparseEmbedding& a, const SparseEmbedding& b);
  // colbert_score: MaxSim (encore::maxsim) divided by the query's row count.
  static float colbert_score(const MultiVector& query, const MultiVector& passage);
  int64_t dimensions() const;          // the dense width (hidden size)
  int64_t colbert_dimensions() const;  // colbert_linear's output width
  int max_length() const;
  std::string describe() const;  // "bge-m3(xlm-roberta, dense 1024, sparse, colbert 1024, max_length 512)"
  const Tokenizer& tokenizer() const;
  const Model& model() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
