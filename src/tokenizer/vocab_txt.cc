// vocab.txt + tokenizer_config.json + special_tokens_map.json -> TokenizerConfig.
//   Google (tokenization.py load_vocab): line.strip(), first occurrence wins, ids dense.
//   HfSlow (transformers load_vocab): line.rstrip("\n") after universal newlines, id =
//   line index, a later duplicate wins.
#include <charconv>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "encore/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

using nlohmann::json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_path(std::filesystem::exists(path), path.string(), ": cannot open");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Vocab parse_vocab(const std::string& data, TokenizerFlavour flavour,
                  const std::filesystem::path& path) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = flavour == TokenizerFlavour::Google ? data.find('\n', pos)
                                                    : data.find_first_of("\r\n", pos);
    if (nl == std::string::npos) {
      lines.push_back(data.substr(pos));
      break;
    }
    lines.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
    if (flavour != TokenizerFlavour::Google && data[nl] == '\r' && pos < data.size() &&
        data[pos] == '\n')
      ++pos;
  }
  Vocab vocab;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t bad = find_invalid_utf8(lines[i]);
    if (bad != std::string::npos)
      fail(path.string(), ": line ", i + 1, " is not valid UTF-8 (byte ", bad, ")");
    if (flavour == TokenizerFlavour::Google) {
      std::string token = py_strip(lines[i]);
      if (!seen.insert(token).second) continue;
      vocab.emplace_back(std::move(token), static_cast<int32_t>(vocab.size()));
    } else {
      vocab.emplace_back(lines[i], static_cast<int32_t>(i));
    }
  }
  if (vocab.empty()) fail(path.string(), ": the vocabulary is empty");
  return vocab;
}

std::optional<json> read_json(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return std::nullopt;
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
}

// A special token is a string or an AddedToken dict {"content": ...}.
std::optional<std::string> token_value(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content")) return it->at("content").get<std::string>();
  fail("'", key, "' must be a string or an object with 'content'");
}

// transformers' VERY_LARGE_INTEGER (1e30) and the like mean no limit.
void apply_model_max_length(const json& j, TokenizerConfig& c) {
  if (auto v = j.find("model_max_length"); v != j.end() && v->is_number() && v->get<double>() >= 1) {
    const double m = v->get<double>();
    c.model_max_length = m >= 1e18 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(m);
  }
}

}  // namespace

void read_model_max_length(TokenizerConfig& config, const std::filesystem::path& dir) {
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto path = dir / name;
    auto j = read_json(path);
    if (!j || !j->is_object()) continue;
    if (std::string(name) == "tokenizer_config.json") apply_model_max_length(*j, config);
    try {
      if (auto t = token_value(*j, "mask_token")) config.mask_token = *t;
      if (auto t = token_value(*j, "cls_token")) config.cls_token = *t;
      if (auto t = token_value(*j, "sep_token")) config.sep_token = *t;
      if (auto t = token_value(*j, "pad_token")) config.pad_token = *t;
    } catch (const Error& e) {
      fail(path.string(), ": ", e.what());
    } catch (const json::exception& e) {
      fail(path.string(), ": ", e.what());
    }
  }
}

namespace {

// An added_tokens_decoder key: a decimal id that fits int32.
int32_t parse_token_id(const std::string& key) {
  int32_t id = -1;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (ec != std::errc() || end != key.data() + key.size() || id < 0)
    fail("added_tokens_decoder: '", key, "' is not a token id");
  return id;
}

}  // namespace

std::pair<TokenizerConfig, Vocab> load_vocab_txt(const std::filesystem::path& vocab_path,
                                                 TokenizerFlavour flavour,
                                                 const std::filesystem::path& config_dir) {
  if (flavour == TokenizerFlavour::HfFast)
    fail("vocab.txt describes a HfSlow or Google tokenizer, not HfFast");
  TokenizerConfig c;
  c.flavour = flavour;
  c.max_input_chars_per_word = flavour == TokenizerFlavour::Google ? 200 : 100;
  Vocab vocab = parse_vocab(read_file(vocab_path), flavour, vocab_path);

  std::vector<std::string> additional;
  std::vector<AddedToken> decoder_tokens;
  auto apply = [&](const json& j, const std::filesystem::path& path) {
    try {
      if (!j.is_object()) fail("not a JSON object");
      if (auto v = j.find("do_lower_case"); v != j.end() && v->is_boolean()) c.lowercase = *v;
      if (auto v = j.find("strip_accents"); v != j.end()) {
        if (v->is_null()) c.strip_accents.reset();
        else c.strip_accents = v->get<bool>();
      }
      if (auto v = j.find("tokenize_chinese_chars"); v != j.end() && v->is_boolean())
        c.handle_chinese_chars = *v;
      if (auto v = j.find("never_split"); v != j.end() && v->is_array())
        c.never_split = v->get<std::vector<std::string>>();
      if (auto v = j.find("clean_up_tokenization_spaces"); v != j.end() && v->is_boolean())
        c.decode_cleanup = *v;
      apply_model_max_length(j, c);
      if (auto t = token_value(j, "unk_token")) c.unk_token = *t;
      if (auto t = token_value(j, "sep_token")) c.sep_token = *t;
      if (auto t = token_value(j, "pad_token")) c.pad_token = *t;
      if (auto t = token_value(j, "cls_token")) c.cls_token = *t;
      if (auto t = token_value(j, "mask_token")) c.mask_token = *t;
      if (auto v = j.find("additional_special_tokens"); v != j.end() && v->is_array()) {
        for (const auto& a : *v)
          additional.push_back(a.is_string() ? a.get<std::string>() : a.at("content").get<std::string>());
      }
      if (auto v = j.find("added_tokens_decoder"); v != j.end() && v->is_object()) {
        for (const auto& [id, a] : v->items()) {
          AddedToken t;
          t.id = parse_token_id(id);
          t.content = a.at("content").get<std::string>();
          t.special = a.value("special", false);
          t.lstrip = a.value("lstrip", false);
          t.rstrip = a.value("rstrip", false);
          t.single_word = a.value("single_word", false);
          decoder_tokens.push_back(t);
        }
      }
    } catch (const json::exception& e) {
      fail(path.string(), ": ", e.what());
    } catch (const Error& e) {
      fail(path.string(), ": ", e.what());
    }
  };
  if (!config_dir.empty()) {
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
      auto path = config_dir / name;
      if (auto j = read_json(path)) apply(*j, path);
    }
  }

  // Special tokens: HfSlow matches them in the raw text; Google knows none.
  std::unordered_map<std::string, int32_t> ids;
  for (const auto& [t, id] : vocab) ids[t] = id;
  if (flavour == TokenizerFlavour::HfSlow) {
    std::vector<std::string> specials = {c.unk_token, c.sep_token, c.pad_token, c.cls_token,
                                         c.mask_token};
    specials.insert(specials.end(), additional.begin(), additional.end());
    std::unordered_set<std::string> done;
    for (const auto& s : specials) {
      auto it = ids.find(s);
      if (s.empty() || it == ids.end() || !done.insert(s).second) continue;
      AddedToken t;
      t.content = s;
      t.id = it->second;
      t.special = true;
      t.normalized = false;
      c.added_tokens.push_back(t);
    }
    for (auto t : decoder_tokens) {
      if (!done.insert(t.content).second) continue;
      t.normalized = false;
      c.added_tokens.push_back(t);
    }
  }
  return {std::move(c), std::move(vocab)};
}

}  // namespace encore::tok
