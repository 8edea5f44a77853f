#include "io_util.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "encore/error.h"

namespace encore::cli {

ComputeType dtype_flag(const Args& args) {
  const std::string name = args.get_or("dtype", "f32");
  if (name == "f32" || name == "bf16" || name == "int8") return compute_type_from_name(name);
  throw UsageError{"--dtype must be f32, bf16 or int8, not '" + name + "'"};
}

std::vector<std::string> with_run_flags(std::vector<std::string> flags) {
  flags.insert(flags.end(), kRunFlags.begin(), kRunFlags.end());
  return flags;
}

std::vector<std::string> read_inputs(const Args& args) {
  if (!args.positional().empty()) return args.positional();
  std::vector<std::string> lines;
  std::string line;
  auto read_all = [&](std::istream& in) {
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  };
  if (auto path = args.get("input")) {
    std::ifstream f(*path, std::ios::binary);
    ENCORE_CHECK(f.good(), *path, ": cannot open");
    read_all(f);
  } else {
    read_all(std::cin);
  }
  return lines;
}

void write_npy_f32(const std::string& path, const float* data, size_t rows, size_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  ENCORE_CHECK(f.good(), path, ": cannot open for writing");
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(reinterpret_cast<const char*>(magic), 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const unsigned char le[2] = {static_cast<unsigned char>(len & 0xff), static_cast<unsigned char>(len >> 8)};
  f.write(reinterpret_cast<const char*>(le), 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(rows * cols * sizeof(float)));
  ENCORE_CHECK(f.good(), path, ": write failed");
}

Progress::Progress(size_t total, const char* unit)
    : total_(total), unit_(unit), active_(isatty(STDERR_FILENO) && total > 0), start_(std::chrono::steady_clock::now()) {}

void Progress::update(size_t done) {
  if (!active_) return;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  const int width = 30, filled = static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(static_cast<size_t>(width), ' ');
  std::fprintf(stderr, "\r[%s] %zu/%zu %s  %.0f/s  ETA %.0fs ", bar.c_str(), done, total_, unit_, rate, eta);
  std::fflush(stderr);
}

void Progress::finish() {
  if (active_) std::fprintf(stderr, "\n");
}

}  // namespace encore::cli
