// encore::Embedder: sentence embeddings exactly as sentence-transformers computes them.
//
// A sentence-transformers directory is read as the library reads it: modules.json (the
// module chain), 1_Pooling/config.json (pooling modes; several enabled modes are
// concatenated in sentence-transformers' order), sentence_bert_config.json
// (max_seq_length, do_lower_case) and an optional Normalize module. A plain HF directory
// gets mean pooling without normalization, as sentence-transformers does for a bare model.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

namespace encore {

enum class Pooling { Cls, Max, Mean, MeanSqrtLen, WeightedMean, LastToken };
const char* pooling_name(Pooling p);      // the 1_Pooling/config.json spelling: "cls", "mean", ...
Pooling pooling_from_name(const std::string& name);

struct EmbedderOptions {
  std::optional<std::string> pooling;  // override: cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken
  std::optional<bool> normalize;       // override the Normalize module
  int dimensions = 0;                  // Matryoshka: keep the first N dimensions, then renormalize
  int max_length = 0;                  // 0: sentence_bert_config.json max_seq_length (else the model's limit)
  int batch_size = 64;                 // texts per forward pass
  int threads = 0;                     // 0: OpenMP default
  ComputeType dtype = ComputeType::F32;  // GEMM number format (see docs/performance.md for accuracy)
};

// One text's result: an embedding, or the reason it has none (the others still run).
struct EmbedResult {
  std::vector<float> embedding;
  std::string error;
  bool truncated = false;  // the text was longer than max_length tokens
};

// torch.nn.functional.normalize: v / max(||v||, 1e-12), the norm accumulated in double.
void l2_normalize(std::vector<float>& v);

class Embedder {
 public:
  static Embedder load(const std::string& dir, const EmbedderOptions& options = {});

  std::vector<EmbedResult> embed(const std::vector<std::string>& texts) const;

  // The steps of embed(), for callers that batch on their own (encore serve):
  // encode_text() tokenizes one text as embed() does (do_lower_case, special tokens,
  // longest_first truncation to max_length() on `side`); with truncate=false the ids are
  // kept whole and may exceed max_length(). pool() pools sequence `index` of an encoded
  // batch with pooling() (no normalization, no dimension cut). finish() is embed()'s last
  // step on a pooled vector: the Normalize module, then the Matryoshka cut.
  Encoding encode_text(std::string_view text, bool truncate = true,
                       TruncationSide side = TruncationSide::Right) const;
  std::vector<float> pool(const Encoded& encoded, size_t index) const;
  void finish(std::vector<float>& pooled) const;

  int64_t dimensions() const;
  int max_length() const;
  const std::vector<Pooling>& pooling() const;
  bool normalizes() const;
  const Model& model() const;
  const Tokenizer& tokenizer() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
