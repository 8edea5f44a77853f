// encore::TextClassifier: transformers' TextClassificationPipeline (and next-sentence
// prediction) on a BertForSequenceClassification / BertForNextSentencePrediction /
// BertForPreTraining model.
//
// Scores: the pipeline's default function_to_apply: none for problem_type "regression";
// sigmoid for "multi_label_classification" or num_labels == 1; else softmax. Labels come
// from config.json id2label. A next-sentence head gives the labels "is_next" and
// "not_next" (softmax over BertForNextSentencePrediction's logits, index 0 = is next).
#pragma once

#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

enum class ScoreFunction { Default, Softmax, Sigmoid, None };

struct ClassifierOptions {
  int top_k = 1;  // labels per input, best first; 0 = all
  ScoreFunction function = ScoreFunction::Default;
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

struct LabelScore {
  std::string label;
  float score = 0.0f;
};

struct ClassifyResult {
  std::vector<LabelScore> labels;  // sorted by score, at most top_k
  std::vector<float> logits;       // the raw head output
  std::string error;
};

class TextClassifier {
 public:
  static TextClassifier load(const std::string& dir, const ClassifierOptions& options = {});
  // `pairs[i]` non-empty makes input i the pair (texts[i], pairs[i]) (text_pair).
  std::vector<ClassifyResult> classify(const std::vector<std::string>& texts,
                                       const std::vector<std::string>& pairs = {}) const;
  ScoreFunction function() const;  // the one applied (Default resolved)
  const std::vector<std::string>& labels() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
