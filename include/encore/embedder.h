// encore::Embedder: sentence embeddings exactly as sentence-transformers computes them.
//
// A sentence-transformers directory is read as the library reads it, in the formats of
// every release from 2.x on: modules.json and each module's files. encore runs the
// Transformer (any architecture Model::load runs), StaticEmbedding, Pooling (every mode,
// include_prompt), Dense (every torch.nn activation that takes no arguments, bias,
// use_residual), Normalize, LayerNorm, Dropout and Router / Asym modules, and
// config_sentence_transformers.json's prompts, default_prompt_name, similarity_fn_name and
// truncate_dim. A module of any other type is an Error naming it: never a skipped module.
// A plain Hugging Face directory gets mean pooling, as sentence-transformers builds it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

namespace encore {

enum class Pooling { Cls, Max, Mean, MeanSqrtLen, WeightedMean, LastToken };
const char* pooling_name(Pooling p);  // the config spelling: "cls", "mean", "mean_sqrt_len_tokens", ...
Pooling pooling_from_name(const std::string& name);

struct EmbedderOptions {
  std::optional<std::string> pooling;  // override the Pooling module: cls, mean, max, mean_sqrt_len_tokens, ...
  // nullopt: the model's modules decide (sentence-transformers' default). true: every output
  // has unit length (encode's normalize_embeddings=True: after the dimension cut). false: the
  // model's final Normalize module is not run and nothing is normalized.
  std::optional<bool> normalize;
  int dimensions = 0;   // truncate_dim: keep the first N dimensions (0: the model's truncate_dim, if any)
  int max_length = 0;   // 0: the Transformer module's max_seq_length
  int batch_size = 64;  // texts per forward pass
  int threads = 0;      // 0: OpenMP default
  ComputeType dtype = ComputeType::F32;  // the Transformer's GEMMs (see docs/performance.md for accuracy)
};

// The per-call arguments of sentence-transformers' encode().
struct EmbedRequest {
  // The route through a Router / Asym module ("query", "document", or a route's name); ""
  // takes the default route. "query" and "document" also select the prompt of that name
  // when no prompt is given, as encode_query() and encode_document() do.
  std::string task;
  std::optional<std::string> prompt_name;  // a key of the model's prompts (an Error otherwise)
  std::optional<std::string> prompt;       // the prompt itself; wins over prompt_name
  // Tokens per text, special tokens included (0: the Transformer's max_seq_length; more than
  // the model's positions is an Error). sentence-transformers' settable max_seq_length.
  int max_length = 0;
  // Texts per forward pass (0: EmbedderOptions::batch_size): sentence-transformers'
  // encode(batch_size=...). encore batches without padding, so no text is padded to another's
  // length.
  int batch_size = 0;
};

// One text's result: an embedding, or the reason it has none (the others still run).
struct EmbedResult {
  std::vector<float> embedding;
  std::string error;
  bool truncated = false;  // the text was longer than max_length tokens
};

// A text tokenized for the model by embed()'s first step.
struct PreparedText {
  Encoding encoding;
  int64_t prompt_tokens = 0;  // leading tokens that are the prompt ([CLS] included), for include_prompt=false
};

// torch.nn.functional.normalize: v / max(||v||, 1e-12), the norm accumulated in double.
void l2_normalize(std::vector<float>& v);

class Embedder {
 public:
  // DIR is a directory or a Hugging Face repository id in the local cache (resolve_model_path).
  static Embedder load(const std::string& dir, const EmbedderOptions& options = {});

  std::vector<EmbedResult> embed(const std::vector<std::string>& texts, const EmbedRequest& request = {}) const;

  // The steps of embed(), for callers that batch on their own (encore serve):
  // prepare() applies the prompt and tokenizes one text for the request's route (the
  // Transformer's max length, longest_first truncation on `side`; truncate=false keeps every
  // token). run() takes a batch of prepared texts of one task (their ids and type ids, and
  // each one's prompt_tokens) through the modules: the sentence embeddings as the last
  // module leaves them (before the dimension cut and the final normalization, which
  // finish() applies), and, when `token_embeddings` is given, each text's token embeddings
  // [n, token_dimensions()] after the modules that act on tokens. Without `final_normalize`
  // a final Normalize module is not run (TEI's normalize=false).
  PreparedText prepare(std::string_view text, const EmbedRequest& request = {}, bool truncate = true,
                       TruncationSide side = TruncationSide::Right) const;
  std::vector<std::vector<float>> run(const TokenBatch& batch, const std::vector<int64_t>& prompt_tokens,
                                      const std::string& task = "",
                                      std::vector<std::vector<float>>* token_embeddings = nullptr,
                                      bool final_normalize = true) const;
  void finish(std::vector<float>& embedding) const;

  int64_t dimensions() const;                   // of embed()'s vectors
  int64_t full_dimensions() const;              // before the dimension cut
  int64_t token_dimensions() const;             // of run()'s token embeddings
  int max_length() const;                       // tokens, special tokens included
  bool normalizes() const;                      // embed()'s vectors have unit length
  bool has_normalize_module() const;            // the default route ends with a Normalize module (options aside)
  const std::vector<Pooling>& pooling() const;  // the default route's Pooling modes (empty: none)
  const std::map<std::string, std::string>& prompts() const;
  const std::optional<std::string>& default_prompt_name() const;
  const std::string& similarity_fn_name() const;  // cosine, dot, euclidean or manhattan
  // similarity_fn_name between two embeddings: cosine, dot product, or the negated
  // Euclidean / Manhattan distance (sentence_transformers.util similarity functions).
  float similarity(const std::vector<float>& a, const std::vector<float>& b) const;
  // The module chain of the default route: "Transformer(bert) -> Pooling(mean) -> Normalize".
  std::string describe() const;
  // The default route's input module: its tokenizer, and its Transformer (nullptr for a
  // StaticEmbedding model).
  const Tokenizer& tokenizer() const;
  const Model* model() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
