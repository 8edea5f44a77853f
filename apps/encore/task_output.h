// Shared by the task subcommands (classify, fill-mask, ner, qa, rerank): one JSON line per
// input in input order, {"error": ...} for an input that failed (reported on stderr too).
#pragma once

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace encore::cli {

// Writes `value` as one line; invalid UTF-8 in strings is replaced rather than thrown on.
inline void write_json_line(const nlohmann::json& value) {
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

// Writes {"error": message} and reports it on stderr as "encore CMD: input N: message".
inline void write_error_line(const char* command, size_t index, const std::string& message) {
  std::fprintf(stderr, "encore %s: input %zu: %s\n", command, index + 1, message.c_str());
  write_json_line({{"error", message}});
}

// Splits "a<TAB>b" at the first tab; `second` is empty without one.
inline std::pair<std::string, std::string> split_tab(const std::string& line) {
  const size_t tab = line.find('\t');
  if (tab == std::string::npos) return {line, ""};
  return {line.substr(0, tab), line.substr(tab + 1)};
}

}  // namespace encore::cli
