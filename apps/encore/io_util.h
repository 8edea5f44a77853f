// Input and output helpers shared by the text subcommands: reading inputs, JSON and NumPy
// output, and a progress line on stderr (only when it is a terminal).
#pragma once

#include <chrono>
#include <cstddef>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "serve/json_text.h"
#include "encore/error.h"
#include "encore/model.h"

namespace encore::cli {

// The run flags every task subcommand takes, for Args' value flags.
inline const std::vector<std::string> kRunFlags = {"batch-size", "threads", "dtype"};

// --dtype f32|bf16|int8, or PyTorch's float32|bfloat16 (default f32), else UsageError.
ComputeType dtype_flag(const Args& args);

// Reads --batch-size (>= 1), --threads (>= 0, 0: OpenMP's default) and --dtype into any
// pipeline options struct with batch_size, threads and dtype fields; misuse is a UsageError.
template <class Options>
void read_run_flags(const Args& args, Options& o) {
  o.batch_size = args.get_int("batch-size", o.batch_size);
  o.threads = args.get_int("threads", o.threads);
  if (o.batch_size < 1) throw UsageError{"--batch-size must be >= 1"};
  if (o.threads < 0) throw UsageError{"--threads must be >= 0"};
  o.dtype = dtype_flag(args);
}
// Value flags of a subcommand plus kRunFlags.
std::vector<std::string> with_run_flags(std::vector<std::string> flags);

// What one input of a text subcommand holds: its TAB-separated columns and, with --jsonl,
// the field names of its JSON object (the names transformers and sentence-transformers use).
enum class InputShape {
  Text,             // TEXT                                   {"text": ...}
  TextPair,         // TEXT<TAB>TEXT_PAIR                     {"text": ..., "text_pair": ...}
  QuestionContext,  // QUESTION<TAB>CONTEXT                   {"question": ..., "context": ...}
  QueryDocuments,   // QUERY<TAB>DOCUMENT[<TAB>DOCUMENT...]   {"query": ..., "documents": [...]}
};

// One input: its fields in column order (QueryDocuments: the query, then each document), or
// why it could not be read; such an input is reported alone and the others still run.
struct Input {
  std::vector<std::string> fields;
  std::string error;
};

// One argument or line as `shape` says: a JSON object when `jsonl`, else TAB-separated text.
Input parse_input(const std::string& raw, InputShape shape, bool jsonl);

// How messages name the input numbered `index` (from 0): "argument N" or "line N".
std::string input_name(bool from_arguments, size_t index);

// The raw inputs of a text subcommand: its TEXT arguments, else the lines of --input FILE
// ('-': stdin), else the lines of stdin. Arguments and --input together: UsageError.
class InputSource {
 public:
  explicit InputSource(const Args& args);
  std::vector<std::string> next(size_t max);  // up to `max` more; empty at the end
  bool from_arguments() const { return arguments_ != nullptr; }

 private:
  const std::vector<std::string>* arguments_ = nullptr;
  size_t next_argument_ = 0;
  std::ifstream file_;
  std::istream* in_ = nullptr;
};

// Every input of a text subcommand, parsed as `shape` (JSON objects with --jsonl).
struct Inputs {
  std::vector<Input> items;
  bool from_arguments = false;
  std::string where(size_t index) const { return input_name(from_arguments, index); }
};
Inputs read_inputs(const Args& args, InputShape shape);

// The inputs read without error, in order: the ones to hand to a pipeline.
std::vector<const Input*> valid_inputs(const Inputs& inputs);
// Field `k` of each valid input (e.g. every text, for a pipeline call).
std::vector<std::string> valid_field(const Inputs& inputs, size_t k);

// One result per input, in input order, from one result per valid input; the others get
// their input's error. Result: a pipeline result with an `error` string.
template <class Result>
std::vector<Result> with_input_errors(const Inputs& inputs, std::vector<Result> valid_results) {
  std::vector<Result> all(inputs.items.size());
  size_t k = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!inputs.items[i].error.empty())
      all[i].error = inputs.items[i].error;
    else if (k < valid_results.size())
      all[i] = std::move(valid_results[k++]);
  }
  ENCORE_CHECK(k == valid_results.size(), "internal: ", valid_results.size(), " results for ", k, " valid inputs");
  return all;
}

// Where --output sends a text output: stdout when absent or '-', else FILE (opened in `file`).
std::ostream& output_stream(const Args& args, std::ofstream& file);

// json_string() and append_float_array() live in serve/json_text.h (shared with encore serve).
// A float32 NumPy .npy file (format version 1.0) of shape [rows, cols].
void write_npy_f32(const std::string& path, const float* data, size_t rows, size_t cols);

class Progress {
 public:
  Progress(size_t total, const char* unit);
  void update(size_t done);
  void finish();

 private:
  size_t total_;
  const char* unit_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace encore::cli
