// encore::TokenClassifier: transformers' TokenClassificationPipeline ("ner") on a
// BertForTokenClassification model: per-token labels, or entities grouped by the
// aggregation strategies none / simple / first / average / max, with character offsets
// (code points, as Python indexes str) into the original text.
#pragma once

#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

enum class Aggregation { None, Simple, First, Average, Max };
Aggregation aggregation_from_name(const std::string& name);  // "none", "simple", ...

struct TokenClassifierOptions {
  Aggregation aggregation = Aggregation::None;
  std::vector<std::string> ignore_labels = {"O"};
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

struct Entity {
  std::string label;  // `entity` (none) or `entity_group` (the other strategies)
  float score = 0.0f;
  int64_t index = -1;  // token index (none only)
  std::string word;
  size_t start = 0, end = 0;  // code points into the text
};

struct TokenClassifyResult {
  std::vector<Entity> entities;
  std::string error;
};

class TokenClassifier {
 public:
  static TokenClassifier load(const std::string& dir, const TokenClassifierOptions& options = {});
  std::vector<TokenClassifyResult> classify(const std::vector<std::string>& texts) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
