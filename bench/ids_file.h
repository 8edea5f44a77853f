// Token ids as the bench drivers take them (--ids FILE): one sequence per line, ids separated
// by spaces; empty lines are skipped.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

inline std::vector<std::vector<int32_t>> read_ids(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<std::vector<int32_t>> seqs;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::vector<int32_t> ids;
    long v;
    while (in >> v) ids.push_back(static_cast<int32_t>(v));
    if (!ids.empty()) seqs.push_back(std::move(ids));
  }
  return seqs;
}
