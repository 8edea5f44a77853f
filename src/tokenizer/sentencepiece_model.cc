#include "tokenizer/sentencepiece_model.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

using nlohmann::json;

// Protocol buffer wire format: varints, fixed32 and length-delimited fields.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(reinterpret_cast<const unsigned char*>(p)), end_(p_ + n) {}
  bool done() const { return p_ >= end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("SentencePiece model: truncated varint");
      const unsigned char b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("SentencePiece model: varint too long");
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("SentencePiece model: a field runs past the end");
    std::string_view s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return s;
  }
  float fixed32() {
    if (end_ - p_ < 4) fail("SentencePiece model: truncated float");
    float f;
    std::memcpy(&f, p_, 4);
    p_ += 4;
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: if (end_ - p_ < 8) fail("SentencePiece model: truncated field"); p_ += 8; break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: fail("SentencePiece model: unknown wire type ", wire);
    }
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_path(std::filesystem::exists(path), path.string(), ": cannot open");
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

json read_json_or_empty(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return json::object();
  try {
    json j = json::parse(read_file(path));
    return j.is_object() ? j : json::object();
  } catch (const json::exception& e) {
    fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
}

std::string base64_encode(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// A special token of tokenizer_config.json (a string or an AddedToken dict).
std::string token_name(const json& config, const char* key, const std::string& fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content")) return it->at("content").get<std::string>();
  return fallback;
}

json template_processing(const std::string& cls, const std::string& sep, bool roberta_pair,
                         const std::vector<std::pair<std::string, double>>& vocab, const json& added) {
  auto id_of = [&](const std::string& t) -> int64_t {
    for (const auto& a : added)
      if (a.at("content") == t) return a.at("id").get<int64_t>();
    for (size_t i = 0; i < vocab.size(); ++i)
      if (vocab[i].first == t) return static_cast<int64_t>(i);
    fail("the special token '", t, "' is neither an added token nor in the vocabulary");
  };
  auto special = [](const std::string& t, int type) { return json{{"SpecialToken", {{"id", t}, {"type_id", type}}}}; };
  auto seq = [](const char* id, int type) { return json{{"Sequence", {{"id", id}, {"type_id", type}}}}; };
  json single = json::array({special(cls, 0), seq("A", 0), special(sep, 0)});
  json pair = roberta_pair ? json::array({special(cls, 0), seq("A", 0), special(sep, 0), special(sep, 0), seq("B", 0), special(sep, 0)})
                           : json::array({special(cls, 0), seq("A", 0), special(sep, 0), seq("B", 1), special(sep, 1)});
  json specials = json::object();
  for (const auto& t : {cls, sep}) specials[t] = {{"id", t}, {"ids", {id_of(t)}}, {"tokens", {t}}};
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

// transformers' check_number_comma(): False for pieces like "1," (Albert lowers their score).
bool check_number_comma(const std::string& piece) {
  return piece.size() < 2 || piece.back() != ',' || !std::isdigit(static_cast<unsigned char>(piece[piece.size() - 2]));
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(const std::string& data) {
  SentencePieceModel m;
  Reader r(data.data(), data.size());
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (wire == 2 && (field == 1 || field == 2 || field == 3)) {
      const std::string_view sub = r.bytes();
      Reader s(sub.data(), sub.size());
      SentencePieceModel::Piece piece;
      while (!s.done()) {
        const uint64_t k = s.varint();
        const int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
        if (field == 1 && f == 1 && w == 2) piece.piece = std::string(s.bytes());
        else if (field == 1 && f == 2 && w == 5) piece.score = s.fixed32();
        else if (field == 1 && f == 3 && w == 0) piece.type = static_cast<int>(s.varint());
        else if (field == 2 && f == 3 && w == 0) m.model_type = static_cast<int>(s.varint());
        else if (field == 2 && f == 40 && w == 0) m.unk_id = static_cast<int>(static_cast<int32_t>(s.varint()));
        else if (field == 3 && f == 2 && w == 2) m.precompiled_charsmap = std::string(s.bytes());
        else s.skip(w);
      }
      if (field == 1) m.pieces.push_back(std::move(piece));
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) fail("SentencePiece model: no pieces");
  for (size_t i = 0; i < m.pieces.size(); ++i)
    if (find_invalid_utf8(m.pieces[i].piece) != std::string::npos)
      fail("SentencePiece model: piece ", i, " is not valid UTF-8");
  return m;
}

std::optional<std::filesystem::path> find_sentencepiece_model(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* name : {"sentencepiece.bpe.model", "spiece.model", "spm.model"})
    if (std::filesystem::exists(dir / name, ec)) return dir / name;
  return std::nullopt;
}

json convert_sentencepiece(const std::filesystem::path& model_file, const std::filesystem::path& dir) {
  const SentencePieceModel spm = parse_sentencepiece_model(read_file(model_file));
  const json config = read_json_or_empty(dir / "tokenizer_config.json");
  std::string cls_name = config.value("tokenizer_class", "");
  if (cls_name.size() > 4 && cls_name.compare(cls_name.size() - 4, 4, "Fast") == 0) cls_name.resize(cls_name.size() - 4);
  if (spm.model_type != 1)
    fail(model_file.string(), ": SentencePiece model type ", spm.model_type, " is not supported (Unigram only)");
  // vocab() and unk_id() of each converter.
  std::vector<std::pair<std::string, double>> vocab;
  int64_t unk_id = spm.unk_id;
  const auto& p = spm.pieces;
  if (cls_name == "XLMRobertaTokenizer") {
    vocab = {{"<s>", 0.0}, {"<pad>", 0.0}, {"</s>", 0.0}, {"<unk>", 0.0}};
    for (size_t i = 3; i < p.size(); ++i) vocab.emplace_back(p[i].piece, p[i].score);
    vocab.emplace_back("<mask>", 0.0);
    unk_id = 3;
  } else if (cls_name == "CamembertTokenizer") {
    vocab = {{"<s>NOTUSED", 0.0}, {"<pad>", 0.0}, {"</s>NOTUSED", 0.0}, {"<unk>", 0.0}, {"<unk>NOTUSED", -100.0}};
    for (size_t i = 1; i < p.size(); ++i) vocab.emplace_back(p[i].piece, p[i].score);
    vocab.emplace_back("<mask>", 0.0);
    unk_id = 3;
  } else if (cls_name == "AlbertTokenizer") {
    for (const auto& x : p) vocab.emplace_back(x.piece, check_number_comma(x.piece) ? x.score : x.score - 100.0);
  } else if (cls_name == "DebertaV2Tokenizer") {
    for (const auto& x : p) vocab.emplace_back(x.piece, x.score);
  } else {
    fail(dir.string(), ": tokenizer_class '", cls_name,
         "' with a SentencePiece model is not supported (XLMRoberta, Camembert, Albert, DebertaV2)");
  }
  // Added tokens: the SentencePiece control and user-defined pieces, then those of
  // tokenizer_config.json's added_tokens_decoder (which PreTrainedTokenizerFast adds).
  json added = json::array();
  auto add = [&](int64_t id, const std::string& content, bool special, bool lstrip, bool rstrip, bool normalized,
                 bool single_word) {
    for (auto& a : added)
      if (a["id"] == id) {
        a = {{"id", id}, {"content", content}, {"single_word", single_word}, {"lstrip", lstrip}, {"rstrip", rstrip},
             {"normalized", normalized}, {"special", special}};
        return;
      }
    added.push_back({{"id", id}, {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
                     {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}});
  };
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i].type == 3 || p[i].type == 4) add(static_cast<int64_t>(i), p[i].piece, p[i].type == 3, false, false, false, false);
  if (auto d = config.find("added_tokens_decoder"); d != config.end() && d->is_object()) {
    for (const auto& [id, a] : d->items())
      add(std::stoll(id), a.at("content").get<std::string>(), a.value("special", false), a.value("lstrip", false),
          a.value("rstrip", false), a.value("normalized", true), a.value("single_word", false));
  }
  std::sort(added.begin(), added.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
  // normalizer()
  json normalizers = json::array();
  const bool charsmap = !spm.precompiled_charsmap.empty();
  const json precompiled = {{"type", "Precompiled"}, {"precompiled_charsmap", base64_encode(spm.precompiled_charsmap)}};
  auto replace = [](const json& pattern, const std::string& content) {
    return json{{"type", "Replace"}, {"pattern", pattern}, {"content", content}};
  };
  if (cls_name == "AlbertTokenizer") {
    normalizers.push_back(replace({{"String", "``"}}, "\""));
    normalizers.push_back(replace({{"String", "''"}}, "\""));
    if (!config.value("keep_accents", false)) normalizers.push_back({{"type", "NFKD"}}), normalizers.push_back({{"type", "StripAccents"}});
    if (config.value("do_lower_case", true)) normalizers.push_back({{"type", "Lowercase"}});
    if (charsmap) normalizers.push_back(precompiled);
    normalizers.push_back(replace({{"Regex", " {2,}"}}, " "));
  } else if (cls_name == "DebertaV2Tokenizer") {
    if (config.value("do_lower_case", false)) normalizers.push_back({{"type", "Lowercase"}});
    normalizers.push_back({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}});
    if (charsmap) normalizers.push_back(precompiled);
    normalizers.push_back(replace({{"Regex", " {2,}"}}, " "));
  } else {
    if (charsmap) normalizers.push_back(precompiled);
    normalizers.push_back({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}});
    normalizers.push_back(replace({{"Regex", " {2,}"}}, "\u2581"));
  }
  // pre_tokenizer() and decoder(): Metaspace, prepend_scheme from add_prefix_space / legacy.
  const bool prefix = config.value("add_prefix_space", true);
  const std::string scheme = prefix ? (config.value("legacy", true) ? "always" : "first") : "never";
  const json metaspace = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", scheme}, {"split", true}};
  json pre = metaspace;
  if (cls_name == "DebertaV2Tokenizer") {
    json steps = json::array();
    if (config.value("split_by_punct", false)) steps.push_back({{"type", "Punctuation"}, {"behavior", "Isolated"}});
    steps.push_back(metaspace);
    pre = {{"type", "Sequence"}, {"pretokenizers", steps}};
  }
  const bool bert_style = cls_name == "AlbertTokenizer" || cls_name == "DebertaV2Tokenizer";
  const json post = template_processing(token_name(config, "cls_token", bert_style ? "[CLS]" : "<s>"),
                                        token_name(config, "sep_token", bert_style ? "[SEP]" : "</s>"), !bert_style, vocab, added);
  json pieces = json::array();
  for (const auto& [piece, score] : vocab) pieces.push_back({piece, score});
  return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
          {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}}, {"pre_tokenizer", pre},
          {"post_processor", post}, {"decoder", metaspace},
          {"model", {{"type", "Unigram"}, {"unk_id", unk_id}, {"vocab", pieces}, {"byte_fallback", false}}}};
}

}  // namespace encore::tok
