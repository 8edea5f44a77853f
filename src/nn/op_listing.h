// How the blocks' op listings (encore inspect) print numbers and dropout.
#pragma once

#include <limits>
#include <sstream>
#include <string>

namespace encore::nn {

inline std::string op_number(float v) {
  if (v == std::numeric_limits<float>::lowest()) return "float32 min";
  std::ostringstream os;
  os << v;
  return os.str();
}

inline std::string dropout_op(const char* what, float p) {
  return std::string("dropout(") + what + ", p=" + op_number(p) + ", train only)";
}

}  // namespace encore::nn
