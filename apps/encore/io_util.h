// Input and output helpers shared by the text subcommands: reading inputs, JSON and NumPy
// output, and a progress line on stderr (only when it is a terminal).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "cli.h"
#include "core/json_text.h"

namespace encore::cli {

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
