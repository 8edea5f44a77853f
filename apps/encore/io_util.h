// Input and output helpers shared by the text subcommands: reading inputs, JSON and NumPy
// output, and a progress line on stderr (only when it is a terminal).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "cli.h"
#include "core/json_text.h"
#include "encore/model.h"

namespace encore::cli {

// The run flags every task subcommand takes, for Args' value flags.
inline const std::vector<std::string> kRunFlags = {"batch-size", "threads", "dtype"};

ComputeType dtype_flag(const Args& args);  // --dtype f32|bf16|int8 (default f32), else UsageError

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

// Positional arguments, else the lines of --input FILE, else the lines of stdin.
std::vector<std::string> read_inputs(const Args& args);

// json_string() and append_float_array() live in core/json_text.h (shared with encore serve).
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
