// A float32 [rows, cols] array as a .npy file (format version 1.0), for the bench drivers'
// outputs that bench/compare.py reads with numpy.load.
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>

inline void write_npy(const std::string& path, const float* data, size_t rows, size_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write " + path);
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t n = static_cast<uint16_t>(header.size());
  f.put(static_cast<char>(n & 0xff));
  f.put(static_cast<char>(n >> 8));
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(rows * cols * sizeof(float)));
}
