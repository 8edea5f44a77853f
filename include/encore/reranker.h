// encore::Reranker: sentence-transformers CrossEncoder.rank on a
// BertForSequenceClassification model: each (query, document) pair is scored, the
// documents are returned best first.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "encore/model.h"

namespace encore {

struct RerankerOptions {
  int max_length = 0;  // 0: the tokenizer's model_max_length (capped at the model's positions)
  bool raw_scores = false;  // logits without the activation
  int top_k = 0;            // keep the top_k best documents (CrossEncoder.rank's top_k); 0: all
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

struct RankedDocument {
  size_t index = 0;  // corpus_id
  float score = 0.0f;
};

struct RerankResult {
  std::vector<RankedDocument> ranking;  // best first
  std::string error;
};

class Reranker {
 public:
  static Reranker load(const std::string& dir, const RerankerOptions& options = {});
  RerankResult rank(const std::string& query, const std::vector<std::string>& documents) const;
  // CrossEncoder.predict: every label's score of each (first, second) pair, [pairs × num_labels()]
  // row-major, through the model's activation unless `raw` (then the logits). Bad input throws
  // encore::Error.
  std::vector<float> predict(const std::vector<std::pair<std::string, std::string>>& pairs, bool raw = false) const;
  // predict() for a model with one label (a reranker): one score per pair; throws
  // encore::Error for a model with several labels, as rank() reports it.
  std::vector<float> score(const std::vector<std::pair<std::string, std::string>>& pairs, bool raw = false) const;
  int num_labels() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
