#include "serve/request.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "serve/api_error.h"

namespace encore::serve {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& message) { raise(invalid_body(message)); }

std::string shape(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "a list";
  return "an object";
}

// Refuses deep nesting before nlohmann builds it (a scan that skips string contents).
void check_depth(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) bad("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

json parse_object(std::string_view body) {
  check_depth(body);
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    const size_t at = what.find("] ");
    bad("invalid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
  }
  if (!doc.is_object()) bad("the body must be a JSON object, got " + shape(doc));
  return doc;
}

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& required(const json& obj, const char* name, const std::string& path) {
  const json* v = field(obj, name);
  if (!v) bad("missing field `" + path + "`");
  return *v;
}

bool opt_bool(const json& obj, const char* name, bool fallback) {
  const json* v = field(obj, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(std::string("`") + name + "` must be a boolean, got " + shape(*v));
  return v->get<bool>();
}

std::optional<bool> opt_bool(const json& obj, const char* name) {
  if (!field(obj, name)) return std::nullopt;
  return opt_bool(obj, name, false);
}

std::optional<std::string> opt_string(const json& obj, const char* name) {
  const json* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad(std::string("`") + name + "` must be a string, got " + shape(*v));
  return v->get<std::string>();
}

std::optional<int64_t> opt_positive(const json& obj, const char* name) {
  const json* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || v->get<int64_t>() <= 0 || (v->is_number_unsigned() && v->get<uint64_t>() > 1u << 30))
    bad(std::string("`") + name + "` must be a positive integer, got " + (v->is_number() ? v->dump() : shape(*v)));
  return v->get<int64_t>();
}

TruncationSide opt_side(const json& obj, const char* name) {
  const json* v = field(obj, name);
  if (!v) return TruncationSide::Right;
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    if (s == "Right" || s == "right") return TruncationSide::Right;
    if (s == "Left" || s == "left") return TruncationSide::Left;
  }
  bad(std::string("`") + name + "` must be \"Right\" or \"Left\", got " + (v->is_string() ? v->dump() : shape(*v)));
}

bool is_token_id(const json& v) { return v.is_number_integer(); }

int64_t token_id(const json& v, const std::string& path) {
  if (!v.is_number_integer()) bad("`" + path + "` must be a token id (an integer), got " + shape(v));
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
      bad("`" + path + "` = " + std::to_string(u) + " is not a token id");
    return static_cast<int64_t>(u);
  }
  const int64_t i = v.get<int64_t>();
  if (i < 0) bad("`" + path + "` = " + std::to_string(i) + " is not a token id (negative)");
  return i;
}

std::vector<int64_t> token_ids(const json& list, const std::string& path) {
  std::vector<int64_t> ids;
  ids.reserve(list.size());
  for (size_t k = 0; k < list.size(); ++k) ids.push_back(token_id(list[k], path + "[" + std::to_string(k) + "]"));
  return ids;
}

// TEI's Input: a string, a list of token ids (one input), or a list whose items are strings
// or lists of token ids.
std::vector<Input> parse_inputs(const json& v, const std::string& path, bool& batch) {
  std::vector<Input> out;
  if (v.is_string()) {
    batch = false;
    out.push_back({v.get<std::string>(), {}, false});
    return out;
  }
  if (!v.is_array()) bad("`" + path + "` must be a string, a list of strings or a list of token ids, got " + shape(v));
  if (!v.empty() && is_token_id(v[0])) {  // one input given as token ids
    batch = false;
    out.push_back({{}, token_ids(v, path), true});
    return out;
  }
  batch = true;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& item = v[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (item.is_string())
      out.push_back({item.get<std::string>(), {}, false});
    else if (item.is_array())
      out.push_back({{}, token_ids(item, at), true});
    else
      bad("`" + at + "` must be a string or a list of token ids, got " + shape(item));
  }
  return out;
}

std::vector<std::string> strings(const json& v, const std::string& path) {
  if (!v.is_array()) bad("`" + path + "` must be a list of strings, got " + shape(v));
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      bad("`" + path + "[" + std::to_string(i) + "]` must be a string, got " + shape(v[i]));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// One /predict sequence given as a list: ["text"] or ["text", "pair"].
PredictInput predict_sequence(const json& v, const std::string& path) {
  if (!v.is_array() || v.empty() || v.size() > 2)
    bad("`" + path + "` must be a list of one or two strings (a text or a pair), got " +
        (v.is_array() ? "a list of " + std::to_string(v.size()) : shape(v)));
  for (size_t k = 0; k < v.size(); ++k)
    if (!v[k].is_string()) bad("`" + path + "[" + std::to_string(k) + "]` must be a string, got " + shape(v[k]));
  PredictInput in{v[0].get<std::string>(), std::nullopt};
  if (v.size() == 2) in.pair = v[1].get<std::string>();
  return in;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

size_t PredictInput::count_chars() const { return code_points(text) + (pair ? code_points(*pair) : 0); }

size_t Input::count_chars() const { return is_ids ? ids.size() : code_points(text); }

EmbedRequest parse_embed_request(std::string_view body) {
  const json doc = parse_object(body);
  EmbedRequest r;
  r.inputs = parse_inputs(required(doc, "inputs", "inputs"), "inputs", r.batch);
  r.truncate = opt_bool(doc, "truncate");
  r.truncation_direction = opt_side(doc, "truncation_direction");
  r.normalize = opt_bool(doc, "normalize", true);
  r.dimensions = opt_positive(doc, "dimensions");
  r.prompt_name = opt_string(doc, "prompt_name");
  r.is_query = opt_bool(doc, "is_query", false);
  return r;
}

OpenAIRequest parse_openai_request(std::string_view body) {
  const json doc = parse_object(body);
  OpenAIRequest r;
  r.inputs = parse_inputs(required(doc, "input", "input"), "input", r.batch);
  r.model = opt_string(doc, "model");
  (void)opt_string(doc, "user");
  if (auto f = opt_string(doc, "encoding_format")) {
    if (*f == "float") r.encoding_format = EncodingFormat::Float;
    else if (*f == "base64") r.encoding_format = EncodingFormat::Base64;
    else bad("`encoding_format` must be \"float\" or \"base64\", got \"" + *f + "\"");
  }
  r.dimensions = opt_positive(doc, "dimensions");
  return r;
}

SimilarityRequest parse_similarity_request(std::string_view body) {
  const json doc = parse_object(body);
  SimilarityRequest r;
  const json& inputs = required(doc, "inputs", "inputs");
  if (!inputs.is_object()) bad("`inputs` must be an object with `source_sentence` and `sentences`, got " + shape(inputs));
  const json& source = required(inputs, "source_sentence", "inputs.source_sentence");
  if (!source.is_string()) bad("`inputs.source_sentence` must be a string, got " + shape(source));
  r.source_sentence = source.get<std::string>();
  r.sentences = strings(required(inputs, "sentences", "inputs.sentences"), "inputs.sentences");
  if (const json* p = field(doc, "parameters")) {
    if (!p->is_object()) bad("`parameters` must be an object, got " + shape(*p));
    r.truncate = opt_bool(*p, "truncate");
    r.truncation_direction = opt_side(*p, "truncation_direction");
    r.prompt_name = opt_string(*p, "prompt_name");
  }
  return r;
}

TokenizeRequest parse_tokenize_request(std::string_view body) {
  const json doc = parse_object(body);
  TokenizeRequest r;
  const json& inputs = required(doc, "inputs", "inputs");
  if (inputs.is_string()) {
    r.inputs.push_back(inputs.get<std::string>());
  } else if (inputs.is_array()) {
    r.batch = true;
    r.inputs = strings(inputs, "inputs");
  } else {
    bad("`inputs` must be a string or a list of strings, got " + shape(inputs));
  }
  r.add_special_tokens = opt_bool(doc, "add_special_tokens", true);
  r.prompt_name = opt_string(doc, "prompt_name");
  return r;
}

DecodeRequest parse_decode_request(std::string_view body) {
  const json doc = parse_object(body);
  DecodeRequest r;
  const json& ids = required(doc, "ids", "ids");
  if (!ids.is_array()) bad("`ids` must be a list of token ids or a list of lists, got " + shape(ids));
  if (!ids.empty() && ids[0].is_array()) {
    r.batch = true;
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string at = "ids[" + std::to_string(i) + "]";
      if (!ids[i].is_array()) bad("`" + at + "` must be a list of token ids, got " + shape(ids[i]));
      r.ids.push_back(token_ids(ids[i], at));
    }
  } else {
    r.ids.push_back(token_ids(ids, "ids"));
  }
  r.skip_special_tokens = opt_bool(doc, "skip_special_tokens", true);
  return r;
}

// TEI's PredictInput: the first item of a list decides between one input (a string: the
// list is ["text"] or ["text", "pair"]) and a batch (a list: every item is such a list).
PredictRequest parse_predict_request(std::string_view body) {
  const json doc = parse_object(body);
  PredictRequest r;
  const json& inputs = required(doc, "inputs", "inputs");
  if (inputs.is_string()) {
    r.inputs.push_back({inputs.get<std::string>(), std::nullopt});
  } else if (inputs.is_array() && !inputs.empty() && inputs[0].is_array()) {
    r.batch = true;
    r.inputs.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      r.inputs.push_back(predict_sequence(inputs[i], "inputs[" + std::to_string(i) + "]"));
  } else if (inputs.is_array()) {
    if (inputs.empty())
      bad("`inputs` must be a string, a pair [string, string] or a batch [[string], [string, string], ...], "
          "got an empty list");
    r.inputs.push_back(predict_sequence(inputs, "inputs"));
  } else {
    bad("`inputs` must be a string, a pair [string, string] or a batch [[string], [string, string], ...], got " +
        shape(inputs));
  }
  r.truncate = opt_bool(doc, "truncate");
  r.truncation_direction = opt_side(doc, "truncation_direction");
  r.raw_scores = opt_bool(doc, "raw_scores", false);
  return r;
}

RerankRequest parse_rerank_request(std::string_view body) {
  const json doc = parse_object(body);
  RerankRequest r;
  const json& query = required(doc, "query", "query");
  if (!query.is_string()) bad("`query` must be a string, got " + shape(query));
  r.query = query.get<std::string>();
  r.texts = strings(required(doc, "texts", "texts"), "texts");
  r.truncate = opt_bool(doc, "truncate");
  r.truncation_direction = opt_side(doc, "truncation_direction");
  r.raw_scores = opt_bool(doc, "raw_scores", false);
  r.return_text = opt_bool(doc, "return_text", false);
  return r;
}

}  // namespace encore::serve
