// What every task pipeline shares: a model with a head, its tokenizer, batched ragged
// encoding, and the small numeric helpers the transformers pipelines use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "encore/model.h"
#include "encore/tokenizer.h"

namespace encore::pipelines {

struct TaskModel {
  Model model;
  Tokenizer tokenizer;
  int max_length = 0;  // min(tokenizer model_max_length, max_position_embeddings)
  int batch_size = 32;
  int threads = 0;
  bool clean_up_spaces = true;  // tokenizer_config.json clean_up_tokenization_spaces (BertTokenizer: true)
};

// Loads DIR and checks that its head is one of `heads` (the error names what was found).
// half_weights: LoadOptions::half_weights.
TaskModel load_task_model(const std::string& dir, const std::vector<TaskHead>& heads, const char* task,
                          int batch_size, int threads, ComputeType dtype, bool half_weights = false);

// Runs encode() on the given encodings (in chunks of batch_size); calls
// done(index into `encodings`, encoded chunk, sequence index within the chunk).
template <class Done>
void run_encoded(const TaskModel& m, const std::vector<Encoding>& encodings, Done&& done) {
  const ThreadScope threads(m.threads);  // the heads in done() too
  const size_t step = static_cast<size_t>(std::max(1, m.batch_size));
  for (size_t start = 0; start < encodings.size(); start += step) {
    const size_t end = std::min(encodings.size(), start + step);
    TokenBatch batch;
    for (size_t i = start; i < end; ++i) {
      batch.ids.push_back(encodings[i].ids);
      batch.type_ids.push_back(encodings[i].type_ids);
    }
    Encoded e = m.model.encode(batch);
    for (size_t i = start; i < end; ++i) done(i, e, i - start);
  }
}

// The sequence head's logits for sequence `index` of an encode() batch, computed on that
// pooled row alone (a GEMM's rounding may depend on its row count; a sequence's scores must
// not depend on what else is in the batch).
std::vector<float> sequence_logits(const TaskModel& m, const Encoded& encoded, size_t index);

// Throws when an encoding is longer than the model accepts (the transformers pipelines do
// not truncate by default; the reference would fail on such an input).
void check_length(const TaskModel& m, const Encoding& e);

// numpy/torch float32 softmax (max-shifted) and 1 / (1 + exp(-x)).
std::vector<float> softmax(const float* x, size_t n);
float sigmoid(float x);

// The tokenizer's decoder on token strings: transformers' convert_tokens_to_string for a
// fast tokenizer.
std::string tokens_to_string(const Tokenizer& tokenizer, const std::vector<std::string>& tokens);

// transformers' tokenizer.decode() for a fast tokenizer: the backend decoder
// (Tokenizer::decode), then clean_up_tokenization() on the whole text when
// clean_up_tokenization_spaces is set.
std::string hf_decode(const TaskModel& m, const std::vector<int32_t>& ids, bool skip_special_tokens);

// Code points [begin, end) of a UTF-8 string (Python's str slicing).
std::string utf8_slice(std::string_view s, size_t begin, size_t end);
size_t utf8_length(std::string_view s);

}  // namespace encore::pipelines
