// Builds the stages of a tokenizer.json (TokenizerConfig::pipeline) into Tokenizer::Impl:
// one reader per component type of tokenizers 0.22, each naming what it does not support.
#include <memory>
#include <nlohmann/json.hpp>

#include "encore/error.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/processors.h"
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
  if (type == "Metaspace") {
    const std::string scheme = opt<std::string>(d, "prepend_scheme", "always");
    const bool prepend = d.contains("add_prefix_space") && d["add_prefix_space"].is_boolean()
                             ? d["add_prefix_space"].get<bool>()
                             : scheme != "never";
    return std::make_unique<MetaspaceDecoder>(one_char(opt<std::string>(d, "replacement", "\u2581"), "Metaspace replacement"),
                                              prepend);
  }
  if (type == "BPEDecoder") return std::make_unique<BPEDecoder>(opt<std::string>(d, "suffix", "</w>"));
  if (type == "CTC")
    return std::make_unique<CTCDecoder>(opt<std::string>(d, "pad_token", "<pad>"),
                                        opt<std::string>(d, "word_delimiter_token", "|"), opt<bool>(d, "cleanup", true));
  if (type == "Replace") {
    const json& pattern = d.at("pattern");
    if (!pattern.contains("String")) fail("decoder Replace: only a String pattern is supported");
    return std::make_unique<ReplaceDecoder>(pattern.at("String").get<std::string>(), d.at("content").get<std::string>());
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip")
    return std::make_unique<StripDecoder>(one_char(d.at("content").get<std::string>(), "Strip content"),
                                          opt<size_t>(d, "start", 0), opt<size_t>(d, "stop", 0));
  fail("decoder type '", type, "' is not supported");
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
