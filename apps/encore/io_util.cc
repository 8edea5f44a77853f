#include "io_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "encore/error.h"

namespace encore::cli {

ComputeType dtype_flag(const Args& args) {
  const std::string name = args.get_or("dtype", "f32");
  try {
    return compute_type_from_name(name);
  } catch (const Error&) {
    throw UsageError{"--dtype must be f32, bf16 or int8 (or float32, bfloat16), not '" + name + "'"};
  }
}

std::vector<std::string> with_run_flags(std::vector<std::string> flags) {
  flags.insert(flags.end(), kRunFlags.begin(), kRunFlags.end());
  return flags;
}

namespace {

struct ShapeSpec {
  std::vector<std::string> names;  // JSON field names, in column order
  const char* columns;             // the TAB-separated form, for messages
  bool list_last;                  // the last field takes every further column / a JSON array
};

const ShapeSpec& spec_of(InputShape shape) {
  static const ShapeSpec kText{{"text"}, "TEXT", false};
  static const ShapeSpec kPair{{"text", "text_pair"}, "TEXT<TAB>TEXT_PAIR", false};
  static const ShapeSpec kQa{{"question", "context"}, "QUESTION<TAB>CONTEXT", false};
  static const ShapeSpec kRank{{"query", "documents"}, "QUERY<TAB>DOCUMENT[<TAB>DOCUMENT...]", true};
  switch (shape) {
    case InputShape::Text:
      return kText;
    case InputShape::TextPair:
      return kPair;
    case InputShape::QuestionContext:
      return kQa;
    case InputShape::QueryDocuments:
      return kRank;
  }
  return kText;
}

std::string quoted_names(const ShapeSpec& s) {
  std::string out;
  for (size_t i = 0; i < s.names.size(); ++i) out += (i ? ", \"" : "\"") + s.names[i] + '"';
  return out;
}

std::vector<std::string> split_tsv(const std::string& raw, const ShapeSpec& s) {
  if (s.names.size() == 1) return {raw};
  std::vector<std::string> fields;
  size_t at = 0;
  // Without a list, the last column keeps any further TAB (as the second text's own).
  for (size_t tab;
       (s.list_last || fields.size() + 1 < s.names.size()) && (tab = raw.find('\t', at)) != std::string::npos;
       at = tab + 1)
    fields.push_back(raw.substr(at, tab - at));
  fields.push_back(raw.substr(at));
  if (fields.size() < s.names.size()) fail("no TAB: expected ", s.columns);
  return fields;
}

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 4: ..." without
// the prefix and the line (always 1 here, which would contradict the input's own line number).
std::string json_error(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const size_t column = what.find("column ");
  return "invalid JSON (" + (column == std::string::npos ? what : what.substr(column)) + ")";
}

std::string string_field(const nlohmann::json& value, const std::string& name) {
  if (!value.is_string()) fail("field \"", name, "\" must be a string, not ", value.type_name());
  return value.get<std::string>();
}

std::vector<std::string> parse_json_fields(const std::string& raw, const ShapeSpec& s) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(raw);
  } catch (const nlohmann::json::parse_error& e) {
    fail(json_error(e));
  }
  if (!j.is_object()) fail("expected a JSON object with ", quoted_names(s));
  for (const auto& item : j.items())
    if (std::find(s.names.begin(), s.names.end(), item.key()) == s.names.end())
      fail("unknown field \"", item.key(), "\" (expected ", quoted_names(s), ")");
  std::vector<std::string> fields;
  for (size_t k = 0; k < s.names.size(); ++k) {
    const std::string& name = s.names[k];
    if (!j.contains(name)) fail("missing field \"", name, "\"");
    if (!(s.list_last && k + 1 == s.names.size())) {
      fields.push_back(string_field(j[name], name));
      continue;
    }
    if (!j[name].is_array() || j[name].empty()) fail("field \"", name, "\" must be a non-empty array of strings");
    for (const auto& v : j[name]) fields.push_back(string_field(v, name + "[]"));
  }
  return fields;
}

}  // namespace

Input parse_input(const std::string& raw, InputShape shape, bool jsonl) {
  Input in;
  try {
    in.fields = jsonl ? parse_json_fields(raw, spec_of(shape)) : split_tsv(raw, spec_of(shape));
  } catch (const Error& e) {
    in.error = e.what();
  }
  return in;
}

std::string input_name(bool from_arguments, size_t index) {
  return (from_arguments ? "argument " : "line ") + std::to_string(index + 1);
}

InputSource::InputSource(const Args& args) {
  const auto path = args.get("input");
  if (!args.positional().empty()) {
    if (path) throw UsageError{"give inputs as arguments or with --input FILE, not both"};
    arguments_ = &args.positional();
  } else if (path && *path != "-") {
    file_.open(*path, std::ios::binary);
    ENCORE_CHECK(file_.good(), *path, ": cannot open");
    in_ = &file_;
  } else {
    in_ = &std::cin;
  }
}

std::vector<std::string> InputSource::next(size_t max) {
  std::vector<std::string> block;
  if (arguments_) {
    for (; next_argument_ < arguments_->size() && block.size() < max; ++next_argument_)
      block.push_back((*arguments_)[next_argument_]);
    return block;
  }
  std::string line;
  while (block.size() < max && std::getline(*in_, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    block.push_back(std::move(line));
  }
  return block;
}

Inputs read_inputs(const Args& args, InputShape shape) {
  InputSource source(args);
  const bool jsonl = args.has("jsonl");
  Inputs inputs;
  inputs.from_arguments = source.from_arguments();
  for (auto block = source.next(4096); !block.empty(); block = source.next(4096))
    for (const auto& raw : block) inputs.items.push_back(parse_input(raw, shape, jsonl));
  return inputs;
}

std::vector<const Input*> valid_inputs(const Inputs& inputs) {
  std::vector<const Input*> valid;
  for (const Input& in : inputs.items)
    if (in.error.empty()) valid.push_back(&in);
  return valid;
}

std::vector<std::string> valid_field(const Inputs& inputs, size_t k) {
  std::vector<std::string> out;
  for (const Input* in : valid_inputs(inputs)) out.push_back(in->fields.at(k));
  return out;
}

std::ostream& output_stream(const Args& args, std::ofstream& file) {
  const std::string path = args.get_or("output", "-");
  if (path == "-") return std::cout;
  file.open(path, std::ios::binary | std::ios::trunc);
  ENCORE_CHECK(file.good(), path, ": cannot open for writing");
  return file;
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
