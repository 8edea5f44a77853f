#include "serve/json_text.h"

#include <cmath>
#include <cstdio>

namespace encore {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\', out += static_cast<char>(c), ++i;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf, ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c), ++i;
    } else {  // copy a valid UTF-8 sequence, replace anything else
      int len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
      for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
      if (ok) {
        out.append(s, i, static_cast<size_t>(len));
        i += static_cast<size_t>(len);
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  return out + "\"";
}

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const int len = std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  out.append(buf, static_cast<size_t>(len));
}

void append_float_array(std::string& out, const float* v, size_t n) {
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_float(out, v[i]);
  }
  out += ']';
}

void append_sparse(std::string& out, const int32_t* indices, const float* values, size_t n) {
  out += '[';
  for (size_t k = 0; k < n; ++k) {
    out += k ? ",{\"index\":" : "{\"index\":";
    out += std::to_string(indices[k]);
    out += ",\"value\":";
    append_float(out, values[k]);
    out += '}';
  }
  out += ']';
}

}  // namespace encore
