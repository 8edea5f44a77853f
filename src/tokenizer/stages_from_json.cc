// Builds the stages of a tokenizer.json (TokenizerConfig::pipeline) into Tokenizer::Impl:
// one reader per component type of tokenizers 0.22, each naming what it does not support.
#include <memory>
#include <nlohmann/json.hpp>

#include "encore/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level_stages.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/metaspace.h"
#include "tokenizer/precompiled.h"
#include "tokenizer/processors.h"
#include "tokenizer/replace.h"
#include "tokenizer/split_pre_tokenizers.h"
#include "tokenizer/wordlevel.h"
#include <utf8proc.h>
#include "tokenizer/unigram.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/wordpiece.h"

namespace encore::tok {
namespace {

using nlohmann::json;

std::string type_of(const json& j, const char* stage) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    fail(stage, ": ", j.dump().substr(0, 200), " has no type");
  return j["type"].get<std::string>();
}

template <class T>
T opt(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    fail("'", key, "' has the wrong type (", it->type_name(), ")");
  }
}

char32_t one_char(const std::string& s, const char* what) {
  NText t;
  decode_utf8(s, 0, t);
  if (t.size() != 1) fail(what, " must be one character, got '", s, "'");
  return t[0].c;
}

std::unique_ptr<Pattern> make_pattern(const json& p) {
  if (p.contains("String")) return std::make_unique<Pattern>(p.at("String").get<std::string>(), false);
  if (p.contains("Regex")) return std::make_unique<Pattern>(p.at("Regex").get<std::string>(), true);
  fail("pattern ", p.dump().substr(0, 100), " is neither String nor Regex");
}

PrependScheme prepend_scheme(const json& j) {
  const std::string s = opt<std::string>(j, "prepend_scheme", "always");
  PrependScheme scheme = s == "first" ? PrependScheme::First : s == "never" ? PrependScheme::Never : PrependScheme::Always;
  if (s != "first" && s != "never" && s != "always") fail("Metaspace prepend_scheme '", s, "' is unknown");
  // metaspace.rs: a legacy add_prefix_space false means never.
  if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean() && !j["add_prefix_space"].get<bool>()) {
    if (j.contains("prepend_scheme") && scheme != PrependScheme::Never)
      fail("Metaspace: add_prefix_space does not match declared prepend_scheme");
    scheme = PrependScheme::Never;
  }
  return scheme;
}

void add_normalizers(const json& n, const TokenizerConfig& config,
                     std::vector<std::unique_ptr<Normalizer>>& out) {
  if (n.is_null()) return;
  const std::string type = type_of(n, "normalizer");
  if (type == "Sequence") {
    for (const auto& m : n.at("normalizers")) add_normalizers(m, config, out);
  } else if (type == "BertNormalizer") {
    out.push_back(std::make_unique<BertNormalizer>(config));
  } else if (type == "Lowercase") {
    out.push_back(std::make_unique<Lowercase>());
  } else if (type == "ByteLevel") {
    out.push_back(std::make_unique<ByteLevelNormalizer>());
  } else if (type == "Precompiled") {
    const json& map = n.at("precompiled_charsmap");
    if (!map.is_string()) fail("Precompiled: precompiled_charsmap must be a base64 string");
    out.push_back(std::make_unique<Precompiled>(base64_decode(map.get<std::string>())));
  } else if (type == "Replace") {
    out.push_back(std::make_unique<ReplaceNormalizer>(make_pattern(n.at("pattern")), n.at("content").get<std::string>()));
  } else if (type == "Strip") {
    out.push_back(std::make_unique<StripNormalizer>(opt<bool>(n, "strip_left", true), opt<bool>(n, "strip_right", true)));
  } else if (type == "StripAccents") {
    out.push_back(std::make_unique<StripAccentsNormalizer>());
  } else if (type == "NFD" || type == "NFKD") {
    out.push_back(std::make_unique<DecomposeNormalizer>(type == "NFKD"));
  } else if (type == "NFC" || type == "NFKC") {
    out.push_back(std::make_unique<ComposeNormalizer>(type == "NFKC"));
  } else if (type == "Prepend") {
    out.push_back(std::make_unique<PrependNormalizer>(n.at("prepend").get<std::string>()));
  } else {
    fail("normalizer type '", type, "' is not supported");
  }
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& p) {
  if (p.is_null()) return nullptr;
  const std::string type = type_of(p, "pre_tokenizer");
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const auto& q : p.at("pretokenizers"))
      if (auto s = make_pre_tokenizer(q)) steps.push_back(std::move(s));
    return std::make_unique<PreTokenizerSequence>(std::move(steps));
  }
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "UnicodeScripts") return std::make_unique<UnicodeScriptsPreTokenizer>();
  if (type == "WhitespaceSplit")
    return std::make_unique<SplitPreTokenizer>([](char32_t c) { return is_split_space(c, TokenizerFlavour::HfFast); },
                                               SplitBehavior::Removed);
  if (type == "Punctuation")
    return std::make_unique<SplitPreTokenizer>([](char32_t c) { return is_punctuation(c, TokenizerFlavour::HfFast); },
                                               split_behavior_from_name(opt<std::string>(p, "behavior", "Isolated")));
  if (type == "Digits") {
    return std::make_unique<SplitPreTokenizer>(hf_is_numeric, opt<bool>(p, "individual_digits", false) ? SplitBehavior::Isolated
                                                                                                 : SplitBehavior::Contiguous);
  }
  if (type == "Split")
    return std::make_unique<SplitPreTokenizer>(make_pattern(p.at("pattern")),
                                               split_behavior_from_name(p.at("behavior").get<std::string>()),
                                               opt<bool>(p, "invert", false));
  if (type == "CharDelimiterSplit") {
    const char32_t d = one_char(p.at("delimiter").get<std::string>(), "CharDelimiterSplit delimiter");
    return std::make_unique<SplitPreTokenizer>([d](char32_t c) { return c == d; }, SplitBehavior::Removed);
  }
  if (type == "Metaspace")
    return std::make_unique<MetaspacePreTokenizer>(one_char(opt<std::string>(p, "replacement", "\u2581"), "Metaspace replacement"),
                                                   prepend_scheme(p), opt<bool>(p, "split", true));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPreTokenizer>(opt<bool>(p, "add_prefix_space", true), opt<bool>(p, "use_regex", true));
  fail("pre_tokenizer type '", type, "' is not supported");
}

std::pair<std::string, int32_t> token_and_id(const json& j) {
  return {j.at(0).get<std::string>(), j.at(1).get<int32_t>()};
}

std::unique_ptr<PostProcessor> make_post_processor(const json& p, const TokenizerConfig& config) {
  if (p.is_null()) return nullptr;
  const std::string type = type_of(p, "post_processor");
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (const auto& q : p.at("processors"))
      if (auto s = make_post_processor(q, config)) steps.push_back(std::move(s));
    return std::make_unique<ProcessorSequence>(std::move(steps));
  }
  if (type == "TemplateProcessing" || type == "BertProcessing") {
    // The reader made the template (tokenizer_json.cc read_post_processor); a Sequence
    // holds at most one.
    return make_template_processing(config.post_processor);
  }
  if (type == "RobertaProcessing")
    return std::make_unique<RobertaProcessing>(token_and_id(p.at("sep")), token_and_id(p.at("cls")),
                                               opt<bool>(p, "trim_offsets", true),
                                               opt<bool>(p, "add_prefix_space", true));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelProcessing>(opt<bool>(p, "trim_offsets", true),
                                                 opt<bool>(p, "add_prefix_space", true));
  fail("post_processor type '", type, "' is not supported");
}

std::unique_ptr<Decoder> make_decoder(const json& d) {
  if (d.is_null()) return nullptr;
  const std::string type = type_of(d, "decoder");
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const auto& q : d.at("decoders"))
      if (auto s = make_decoder(q)) steps.push_back(std::move(s));
    return std::make_unique<DecoderSequence>(std::move(steps));
  }
  if (type == "WordPiece")
    return std::make_unique<WordPieceDecoder>(opt<std::string>(d, "prefix", "##"), opt<bool>(d, "cleanup", true));
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace")
    return std::make_unique<MetaspaceDecoder>(one_char(opt<std::string>(d, "replacement", "\u2581"), "Metaspace replacement"),
                                              prepend_scheme(d) != PrependScheme::Never);
  if (type == "BPEDecoder") return std::make_unique<BPEDecoder>(opt<std::string>(d, "suffix", "</w>"));
  if (type == "CTC")
    return std::make_unique<CTCDecoder>(opt<std::string>(d, "pad_token", "<pad>"),
                                        opt<std::string>(d, "word_delimiter_token", "|"), opt<bool>(d, "cleanup", true));
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(make_pattern(d.at("pattern")), d.at("content").get<std::string>());
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip")
    return std::make_unique<StripDecoder>(one_char(d.at("content").get<std::string>(), "Strip content"),
                                          opt<size_t>(d, "start", 0), opt<size_t>(d, "stop", 0));
  fail("decoder type '", type, "' is not supported");
}

std::optional<std::string> opt_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail("model.", key, " must be a string or null");
  return it->get<std::string>();
}

std::vector<std::pair<std::string, int32_t>> read_vocab_object(const json& v) {
  if (!v.is_object()) fail("model.vocab must be an object");
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      fail("model.vocab[", it.key(), "] must be a non-negative integer");
    vocab.emplace_back(it.key(), it.value().get<int32_t>());
  }
  return vocab;
}

std::unique_ptr<BPE> make_bpe(const json& m) {
  if (auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0.0))
    fail("model BPE: dropout ", d->dump(), " is not supported (null only)");
  BPEOptions o;
  o.unk_token = opt_string(m, "unk_token");
  o.continuing_subword_prefix = opt_string(m, "continuing_subword_prefix");
  o.end_of_word_suffix = opt_string(m, "end_of_word_suffix");
  o.fuse_unk = opt<bool>(m, "fuse_unk", false);
  o.byte_fallback = opt<bool>(m, "byte_fallback", false);
  o.ignore_merges = opt<bool>(m, "ignore_merges", false);
  return std::make_unique<BPE>(read_vocab_object(m.at("vocab")), read_merges(m.at("merges")), std::move(o));
}

std::unique_ptr<Unigram> make_unigram(const json& m) {
  const json& v = m.at("vocab");
  if (!v.is_array()) fail("model Unigram: vocab must be an array of [piece, score]");
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      fail("model Unigram: vocab entry ", pieces.size(), " is not [piece, score]");
    pieces.emplace_back(e[0].get<std::string>(), e[1].get<double>());
  }
  std::optional<size_t> unk;
  if (auto u = m.find("unk_id"); u != m.end() && !u->is_null()) {
    if (!u->is_number_unsigned()) fail("model Unigram: unk_id must be a non-negative integer");
    unk = u->get<size_t>();
  }
  return std::make_unique<Unigram>(std::move(pieces), unk, opt<bool>(m, "byte_fallback", false));
}

std::unique_ptr<Model> make_wordpiece(const TokenizerConfig& c, const std::vector<std::pair<std::string, int32_t>>& vocab) {
  return std::make_unique<WordPiece>(vocab, c.unk_token, c.continuing_subword_prefix, c.max_input_chars_per_word);
}

}  // namespace

void build_stages(Tokenizer::Impl& impl, const std::vector<std::pair<std::string, int32_t>>& vocab) {
  const TokenizerConfig& c = impl.config;
  if (!c.pipeline) {
    impl.normalizers.push_back(std::make_unique<BertNormalizer>(c));
    impl.pre_tokenizer = std::make_unique<BertPreTokenizer>();
    impl.model = make_wordpiece(c, vocab);
    if (c.post_processor.present) impl.post_processor = make_template_processing(c.post_processor);
    impl.decoder = std::make_unique<WordPieceDecoder>(c.continuing_subword_prefix, c.decode_cleanup);
    return;
  }
  const PipelineSpec& spec = *c.pipeline;
  try {
    add_normalizers(spec.normalizer, c, impl.normalizers);
    impl.pre_tokenizer = make_pre_tokenizer(spec.pre_tokenizer);
    const std::string model = type_of(spec.model, "model");
    if (model == "WordPiece") {
      impl.model = make_wordpiece(c, vocab);
    } else if (model == "WordLevel") {
      impl.model = std::make_unique<WordLevel>(read_vocab_object(spec.model.at("vocab")),
                                               opt<std::string>(spec.model, "unk_token", "<unk>"));
    } else if (model == "Unigram") {
      impl.model = make_unigram(spec.model);
    } else if (model == "BPE") {
      auto bpe = make_bpe(spec.model);
      impl.model_prefix = opt_string(spec.model, "continuing_subword_prefix");
      impl.model = std::move(bpe);
    } else {
      fail("model type '", model, "' is not supported");
    }
    impl.post_processor = make_post_processor(spec.post_processor, c);
    impl.decoder = make_decoder(spec.decoder);
  } catch (const json::exception& e) {
    fail("malformed tokenizer.json (", e.what(), ")");
  }
}

}  // namespace encore::tok
