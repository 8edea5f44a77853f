// tokenizer.json (huggingface `tokenizers` serialization) -> TokenizerConfig + vocabulary.
#include <limits>
#include <type_traits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "encore/error.h"
#include "tokenizer/tokenizer_impl.h"

namespace encore::tok {
namespace {

using nlohmann::json;

std::string where(const std::filesystem::path& path, const std::string& key) {
  return path.string() + ": " + key;
}

// An integer of type T from a JSON number, range-checked: nlohmann's get<int> on 1e30 or
// -1 into size_t is undefined behaviour, and a tokenizer.json is untrusted input.
// `what` names the value in an error: a string, or a callable that makes one (so that the
// 30,000 entries of a vocabulary do not each build a message that is never shown).
template <class T, class What>
T as_int(const json& v, const What& what) {
  auto describe = [&]() -> std::string {
    if constexpr (std::is_invocable_v<What>) return what();
    else return what;
  };
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
    } else {
      const int64_t i = v.get<int64_t>();
      if (i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
          (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())))
        return static_cast<T>(i);
    }
    fail(describe(), ": ", v.dump(), " is out of range");
  }
  fail(describe(), " must be an integer, found ", v.is_number() ? v.dump() : std::string(v.type_name()));
}

template <class T>
T get_or(const json& j, const char* key, T fallback, const std::filesystem::path& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return as_int<T>(*it, where(path, key));
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    fail(where(path, key), " has the wrong type (", it->type_name(), ")");
  }
}

// The first BertNormalizer of a normalizer (or of a Sequence of them), or nullptr.
const json* find_bert_normalizer(const json& n) {
  if (!n.is_object()) return nullptr;
  const std::string type = n.value("type", "");
  if (type == "BertNormalizer") return &n;
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const auto& m : n["normalizers"])
      if (const json* found = find_bert_normalizer(m)) return found;
  }
  return nullptr;
}

// BertNormalizer's options become the BERT fields of the config (which build_stages reads
// back, so that they can be adjusted); without one, the fields say "no normalization".
void read_normalizer(const json& normalizer, TokenizerConfig& c, const std::filesystem::path& path) {
  const json* n = find_bert_normalizer(normalizer);
  if (!n) {
    c.clean_text = c.handle_chinese_chars = c.lowercase = false;
    c.strip_accents = false;
    return;
  }
  c.clean_text = get_or<bool>(*n, "clean_text", true, path);
  c.handle_chinese_chars = get_or<bool>(*n, "handle_chinese_chars", true, path);
  c.lowercase = get_or<bool>(*n, "lowercase", true, path);
  auto sa = n->find("strip_accents");
  if (sa == n->end() || sa->is_null())
    c.strip_accents.reset();
  else if (sa->is_boolean())
    c.strip_accents = sa->get<bool>();
  else
    fail(where(path, "normalizer.strip_accents"), " must be a boolean or null");
}

TemplatePiece read_piece(const json& p, const std::filesystem::path& path) {
  TemplatePiece piece;
  if (auto s = p.find("SpecialToken"); s != p.end()) {
    piece.kind = TemplatePiece::Kind::Special;
    piece.special = get_or<std::string>(*s, "id", "", path);
    piece.type_id = get_or<int32_t>(*s, "type_id", 0, path);
  } else if (auto q = p.find("Sequence"); q != p.end()) {
    std::string id = get_or<std::string>(*q, "id", "A", path);
    if (id != "A" && id != "B") fail(where(path, "post_processor"), ": unknown sequence '", id, "'");
    piece.kind = id == "A" ? TemplatePiece::Kind::SequenceA : TemplatePiece::Kind::SequenceB;
    piece.type_id = get_or<int32_t>(*q, "type_id", 0, path);
  } else {
    fail(where(path, "post_processor"), ": template piece ", p.dump(), " is not understood");
  }
  return piece;
}

// TemplateProcessing and BertProcessing become PostProcessorConfig (a template); the
// special token names of RobertaProcessing fill cls_token and sep_token.
void read_post_processor(const json& pp, TokenizerConfig& c, const std::filesystem::path& path) {
  auto& out = c.post_processor;
  out = PostProcessorConfig{};
  if (pp.is_null()) return;
  std::string type = get_or<std::string>(pp, "type", "", path);
  if (type == "Sequence" && pp.contains("processors") && pp["processors"].is_array()) {
    for (const auto& p : pp["processors"]) {
      const std::string t = p.value("type", "");
      if (t == "TemplateProcessing" || t == "BertProcessing" || t == "RobertaProcessing") read_post_processor(p, c, path);
    }
    return;
  }
  if (type == "RobertaProcessing") {
    c.cls_token = pp.at("cls").at(0).get<std::string>();
    c.sep_token = pp.at("sep").at(0).get<std::string>();
    return;
  }
  if (type != "TemplateProcessing" && type != "BertProcessing") return;
  out.present = true;
  if (type == "TemplateProcessing") {
    for (const auto& p : pp.at("single")) out.single.push_back(read_piece(p, path));
    for (const auto& p : pp.at("pair")) out.pair.push_back(read_piece(p, path));
    for (const auto& [name, v] : pp.at("special_tokens").items()) {
      SpecialTokenIds ids;
      for (const json& id : v.at("ids")) ids.ids.push_back(as_int<int32_t>(id, where(path, "post_processor.special_tokens ids")));
      ids.tokens = v.at("tokens").get<std::vector<std::string>>();
      out.specials.emplace_back(name, ids);
    }
  } else if (type == "BertProcessing") {
    auto cls = pp.at("cls"), sep = pp.at("sep");
    c.cls_token = cls.at(0).get<std::string>();
    c.sep_token = sep.at(0).get<std::string>();
    out.specials.emplace_back(c.cls_token, SpecialTokenIds{{as_int<int32_t>(cls.at(1), where(path, "post_processor.cls"))}, {c.cls_token}});
    out.specials.emplace_back(c.sep_token, SpecialTokenIds{{as_int<int32_t>(sep.at(1), where(path, "post_processor.sep"))}, {c.sep_token}});
    using K = TemplatePiece::Kind;
    out.single = {{K::Special, c.cls_token, 0}, {K::SequenceA, "", 0}, {K::Special, c.sep_token, 0}};
    out.pair = {{K::Special, c.cls_token, 0}, {K::SequenceA, "", 0}, {K::Special, c.sep_token, 0},
                {K::SequenceB, "", 1}, {K::Special, c.sep_token, 1}};
  }
}

void read_truncation(const json& t, EncodeOptions& o, const std::filesystem::path& path) {
  if (t.is_null()) return;
  o.truncation.max_length = get_or<size_t>(t, "max_length", 512, path);
  o.truncation.stride = get_or<size_t>(t, "stride", 0, path);
  std::string s = get_or<std::string>(t, "strategy", "LongestFirst", path);
  if (s == "LongestFirst") o.truncation.strategy = TruncationStrategy::LongestFirst;
  else if (s == "OnlyFirst") o.truncation.strategy = TruncationStrategy::OnlyFirst;
  else if (s == "OnlySecond") o.truncation.strategy = TruncationStrategy::OnlySecond;
  else fail(where(path, "truncation.strategy"), ": unknown '", s, "'");
  std::string d = get_or<std::string>(t, "direction", "Right", path);
  o.truncation.side = d == "Left" ? TruncationSide::Left : TruncationSide::Right;
}

void read_padding(const json& p, TokenizerConfig& c, const std::filesystem::path& path) {
  if (p.is_null()) return;
  auto& o = c.defaults.padding;
  const json& s = p.at("strategy");
  if (s.is_string() && s.get<std::string>() == "BatchLongest") {
    o.strategy = PaddingStrategy::Longest;
  } else if (s.is_object() && s.contains("Fixed")) {
    o.strategy = PaddingStrategy::Fixed;
    o.length = as_int<size_t>(s.at("Fixed"), where(path, "padding.strategy.Fixed"));
  } else {
    fail(where(path, "padding.strategy"), ": ", s.dump(), " is not understood");
  }
  const std::string side = get_or<std::string>(p, "direction", "Right", path);
  if (side != "Right" && side != "Left") fail(where(path, "padding.direction"), ": '", side, "' is not Left or Right");
  o.side = side == "Left" ? PaddingSide::Left : PaddingSide::Right;
  o.pad_to_multiple_of = get_or<size_t>(p, "pad_to_multiple_of", 0, path);
  c.pad_type_id = get_or<int32_t>(p, "pad_type_id", 0, path);
  c.pad_token = get_or<std::string>(p, "pad_token", c.pad_token, path);
}

}  // namespace

std::pair<TokenizerConfig, Vocab> load_tokenizer_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_path(std::filesystem::exists(path), path.string(), ": cannot open");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_tokenizer_json(buf.str(), path);
}

std::pair<TokenizerConfig, Vocab> parse_tokenizer_json(const std::string& text, const std::filesystem::path& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
  if (!j.is_object()) fail(path.string(), ": not a tokenizer.json object");
  TokenizerConfig c;
  c.flavour = TokenizerFlavour::HfFast;
  Vocab vocab;
  auto spec = std::make_shared<PipelineSpec>();
  try {
    const json& model = j.at("model");
    if (!model.is_object()) fail(where(path, "model"), " must be an object");
    std::string type = get_or<std::string>(model, "type", "", path);
    if (type.empty()) type = model.contains("merges") ? "BPE" : model.contains("vocab") && model["vocab"].is_array() ? "Unigram" : "WordPiece";
    if (type == "WordPiece") {
      c.unk_token = get_or<std::string>(model, "unk_token", "[UNK]", path);
      c.continuing_subword_prefix = get_or<std::string>(model, "continuing_subword_prefix", "##", path);
      c.max_input_chars_per_word = get_or<size_t>(model, "max_input_chars_per_word", 100, path);
      const json& v = model.at("vocab");
      if (!v.is_object()) fail(where(path, "model.vocab"), " must be an object");
      vocab.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& token = it.key();  // not a structured binding: clang 14 cannot capture those
        vocab.emplace_back(token, as_int<int32_t>(it.value(), [&] { return where(path, "model.vocab[" + token + "]"); }));
      }
      spec->model = json{{"type", "WordPiece"}};
    } else if (type == "BPE" || type == "Unigram" || type == "WordLevel") {
      spec->model = std::move(j.at("model"));
      spec->model["type"] = type;
      c.unk_token.clear();
      if (auto u = spec->model.find("unk_token"); u != spec->model.end() && u->is_string()) c.unk_token = u->get<std::string>();
      // Unigram names its unknown piece by index.
      auto uid = spec->model.find("unk_id");
      const auto& pieces = spec->model.value("vocab", json());
      if (uid != spec->model.end() && uid->is_number_unsigned() && pieces.is_array() && uid->get<size_t>() < pieces.size() &&
          pieces[uid->get<size_t>()].is_array() && !pieces[uid->get<size_t>()].empty() && pieces[uid->get<size_t>()][0].is_string())
        c.unk_token = pieces[uid->get<size_t>()][0].get<std::string>();
      c.continuing_subword_prefix.clear();
    } else {
      fail(where(path, "model.type"), ": '", type, "' is not supported (WordPiece, BPE, Unigram, WordLevel)");
    }
    spec->normalizer = j.value("normalizer", json());
    read_normalizer(spec->normalizer, c, path);
    spec->pre_tokenizer = j.value("pre_tokenizer", json());
    spec->post_processor = j.value("post_processor", json());
    read_post_processor(spec->post_processor, c, path);
    read_truncation(j.value("truncation", json()), c.defaults, path);
    read_padding(j.value("padding", json()), c, path);
    spec->decoder = j.value("decoder", json());
    c.decode_cleanup = false;
    if (spec->decoder.is_object() && spec->decoder.value("type", "") == "WordPiece")
      c.decode_cleanup = get_or<bool>(spec->decoder, "cleanup", true, path);
    for (const auto& a : j.value("added_tokens", json::array())) {
      AddedToken t;
      t.id = as_int<int32_t>(a.at("id"), where(path, "added_tokens id"));
      t.content = a.at("content").get<std::string>();
      t.special = a.value("special", false);
      t.single_word = a.value("single_word", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.normalized = a.value("normalized", true);
      c.added_tokens.push_back(t);
    }
  } catch (const json::exception& e) {
    fail(path.string(), ": malformed tokenizer.json (", e.what(), ")");
  }
  c.pipeline = std::move(spec);
  return {std::move(c), std::move(vocab)};
}

}  // namespace encore::tok
