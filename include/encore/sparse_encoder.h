// encore::SparseEncoder: sentence-transformers' SparseEncoder for SPLADE models
// (MLMTransformer + SpladePooling): the masked-LM logits of every token, log(1 + relu(x))
// (twice for the "log1p_relu" activation), then max (or sum) over the tokens: one weight per
// vocabulary entry, most of them zero.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

namespace encore {

struct SparseEncoderOptions {
  int max_length = 0;       // 0: the model's max_seq_length (sentence_bert_config.json, else the tokenizer's, capped)
  int max_active_dims = 0;  // keep the largest N weights of each text (SparseEncoder's max_active_dims); 0: all
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

// The non-zero weights of one text, by vocabulary index ascending (a coalesced torch sparse
// tensor's order).
struct SparseEmbedding {
  std::vector<int32_t> indices;
  std::vector<float> values;
  std::string error;  // set instead when this input failed
};

class SparseEncoder {
 public:
  // DIR: a sentence-transformers SparseEncoder directory (modules.json with MLMTransformer and
  // SpladePooling) or a masked-LM model (BertForMaskedLM, ...), which SparseEncoder runs with
  // SpladePooling's defaults (max, relu).
  static SparseEncoder load(const std::string& dir, const SparseEncoderOptions& options = {});
  // Texts are cut to max_length tokens (longest_first), as SparseEncoder.encode does.
  std::vector<SparseEmbedding> encode(const std::vector<std::string>& texts) const;
  // The same with this call's max_active_dims (0: all), as encode(max_active_dims=k).
  std::vector<SparseEmbedding> encode(const std::vector<std::string>& texts, int max_active_dims) const;
  // The weights of sequences already tokenized (special tokens included, each at most
  // max_length() long), as one ragged batch: for a caller that tokenizes and batches itself
  // (encore serve). A sequence's weights do not depend on the rest of the batch.
  std::vector<SparseEmbedding> run(const TokenBatch& batch, int max_active_dims = 0) const;
  // SparseEncoder.similarity of two embeddings: the model's similarity_fn_name
  // (config_sentence_transformers.json; "dot" by default, or "cosine"), in double precision.
  float similarity(const SparseEmbedding& a, const SparseEmbedding& b) const;
  const std::string& similarity_fn_name() const;
  int64_t dimensions() const;  // the vocabulary size
  int max_length() const;
  std::string describe() const;  // "SpladePooling(max, relu), max_seq_length 512"
  const Tokenizer& tokenizer() const;
  const Model& model() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
