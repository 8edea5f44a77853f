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

// Writes {"error": message} and reports it on stderr as "encore CMD: WHERE: message", WHERE
// naming the input (Inputs::where: "line N" or "argument N").
inline void write_error_line(const char* command, const std::string& where, const std::string& message) {
  std::fprintf(stderr, "encore %s: %s: %s\n", command, where.c_str(), message.c_str());
  write_json_line({{"error", message}});
}

}  // namespace encore::cli
