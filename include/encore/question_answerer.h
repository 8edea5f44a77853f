// encore::QuestionAnswerer: transformers' QuestionAnsweringPipeline on a
// BertForQuestionAnswering model: the best spans of the context, with character offsets
// (code points) into it.
#pragma once

#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

struct QuestionAnswererOptions {
  int top_k = 1;
  int max_answer_len = 15;
  int max_seq_len = 0;     // 0: min(model_max_length, 384), as the pipeline
  int doc_stride = 0;      // 0: min(max_seq_len / 2, 128)
  bool handle_impossible_answer = false;
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

struct Answer {
  float score = 0.0f;
  size_t start = 0, end = 0;  // code points into the context
  std::string answer;
};

struct AnswerResult {
  std::vector<Answer> answers;  // best first, at most top_k
  std::string error;
};

class QuestionAnswerer {
 public:
  static QuestionAnswerer load(const std::string& dir, const QuestionAnswererOptions& options = {});
  std::vector<AnswerResult> answer(const std::vector<std::string>& questions,
                                   const std::vector<std::string>& contexts) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
