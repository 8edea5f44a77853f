// encore::TextClassifier: transformers' TextClassificationPipeline (and next-sentence
// prediction) on a BertForSequenceClassification / BertForNextSentencePrediction /
// BertForPreTraining model.
//
// Scores: the pipeline's default function_to_apply: none for problem_type "regression";
// sigmoid for "multi_label_classification" or num_labels == 1; else softmax. Labels come
// from config.json id2label. A next-sentence head gives the labels "is_next" and
// "not_next" (softmax over BertForNextSentencePrediction's logits, index 0 = is next).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

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

  // The steps of classify(), for callers that batch on their own (encore serve):
  // encode() tokenizes one input as classify() does (the pair (text, *pair) when `pair` is
  // set, even to ""); with truncate_to > 0 it cuts the encoding to that many tokens,
  // longest_first on `side`, as a cross-encoder does. logits() is the head on sequence
  // `index` of a Model::encode() batch (its pooled row). scores() turns one input's logits
  // into scores with `function` (Default: function()), in label order.
  Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                  size_t truncate_to = 0, TruncationSide side = TruncationSide::Right) const;
  std::vector<float> logits(const Encoded& encoded, size_t index) const;
  std::vector<float> scores(const std::vector<float>& logits, ScoreFunction function = ScoreFunction::Default) const;
  int max_length() const;  // min(tokenizer model_max_length, max_position_embeddings)
  const Model& model() const;
  const Tokenizer& tokenizer() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
