#include "encore/tokenizer.h"

#include <exception>

#include "encore/error.h"
#include "encore/model_path.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/wordpiece.h"

namespace encore {

const char* flavour_name(TokenizerFlavour flavour) {
  switch (flavour) {
    case TokenizerFlavour::HfFast: return "hf";
    case TokenizerFlavour::HfSlow: return "hf-slow";
    case TokenizerFlavour::Google: return "google";
  }
  return "?";
}

TokenizerFlavour flavour_from_name(const std::string& name) {
  if (name == "hf" || name == "hf-fast") return TokenizerFlavour::HfFast;
  if (name == "hf-slow") return TokenizerFlavour::HfSlow;
  if (name == "google") return TokenizerFlavour::Google;
  fail("unknown tokenizer flavour '", name, "' (hf, hf-slow, google)");
}

const char* truncation_name(TruncationStrategy strategy) {
  switch (strategy) {
    case TruncationStrategy::None: return "none";
    case TruncationStrategy::LongestFirst: return "longest_first";
    case TruncationStrategy::OnlyFirst: return "only_first";
    case TruncationStrategy::OnlySecond: return "only_second";
  }
  return "?";
}

TruncationStrategy truncation_from_name(const std::string& name) {
  if (name == "none" || name == "do_not_truncate") return TruncationStrategy::None;
  if (name == "longest_first") return TruncationStrategy::LongestFirst;
  if (name == "only_first") return TruncationStrategy::OnlyFirst;
  if (name == "only_second") return TruncationStrategy::OnlySecond;
  fail("unknown truncation strategy '", name, "' (none, longest_first, only_first, only_second)");
}

Tokenizer::Impl::Impl(TokenizerConfig c, const std::vector<std::pair<std::string, int32_t>>& vocab)
    : config(std::move(c)) {
  const bool fast = config.flavour == TokenizerFlavour::HfFast;
  if (fast) {
    tok::build_stages(*this, vocab);
  } else {
    model = std::make_unique<tok::WordPiece>(vocab, config.unk_token, config.continuing_subword_prefix,
                                             config.max_input_chars_per_word);
  }
  raw_added = tok::AddedMatcher(config.added_tokens, false, nullptr);
  // tokenizers normalizes the content of normalized added tokens before matching them.
  if (fast) normalized_added = tok::AddedMatcher(config.added_tokens, true, [this](tok::NText& t) { normalize(t); });
  for (const auto& t : config.added_tokens) {
    added_by_id[t.id] = t.content;
    if (t.special) special_ids.insert(t.id), special_contents.insert(t.content);
  }
  if (!fast) {
    for (const auto* s : {&config.unk_token, &config.sep_token, &config.pad_token,
                          &config.cls_token, &config.mask_token}) {
      if (auto id = model->token_to_id(*s)) special_ids.insert(*id);
    }
    never_split.insert(config.never_split.begin(), config.never_split.end());
    if (config.flavour == TokenizerFlavour::HfSlow) {
      for (const auto& t : config.added_tokens) never_split.insert(t.content);
    }
    auto& pp = config.post_processor;
    if (!pp.present) {
      auto cls = model->token_to_id(config.cls_token), sep = model->token_to_id(config.sep_token);
      if (cls && sep) {
        using K = TemplatePiece::Kind;
        pp.present = true;
        pp.specials = {{config.cls_token, {{*cls}, {config.cls_token}}},
                       {config.sep_token, {{*sep}, {config.sep_token}}}};
        pp.single = {{K::Special, config.cls_token, 0}, {K::SequenceA, "", 0},
                     {K::Special, config.sep_token, 0}};
        pp.pair = {{K::Special, config.cls_token, 0}, {K::SequenceA, "", 0},
                   {K::Special, config.sep_token, 0}, {K::SequenceB, "", 1},
                   {K::Special, config.sep_token, 1}};
      }
    }
  }
  if (auto id = model->token_to_id(config.pad_token)) {
    pad_id = *id;
  } else {
    for (const auto& t : config.added_tokens)
      if (t.content == config.pad_token) pad_id = t.id;
  }
}

namespace {

bool lowercases(const nlohmann::json& n) {
  if (!n.is_object()) return false;
  const std::string type = n.value("type", "");
  if (type == "Lowercase") return true;
  if (type == "BertNormalizer") return n.value("lowercase", true);
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const auto& m : n["normalizers"])
      if (lowercases(m)) return true;
  }
  return false;
}

bool has_bert_normalizer(const nlohmann::json& n) {
  if (!n.is_object()) return false;
  if (n.value("type", "") == "BertNormalizer") return true;
  if (n.value("type", "") == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const auto& m : n["normalizers"])
      if (has_bert_normalizer(m)) return true;
  }
  return false;
}

}  // namespace

void TokenizerConfig::lowercase_input() {
  // BertNormalizer's other steps commute with lowercasing, so a Lowercase in front of it is
  // its own lowercase flag (with the accents it kept before).
  if (flavour != TokenizerFlavour::HfFast || !pipeline || has_bert_normalizer(pipeline->normalizer)) {
    if (!lowercase) strip_accents = strip_accents.value_or(false), lowercase = true;
    return;
  }
  if (lowercases(pipeline->normalizer)) return;
  auto spec = std::make_shared<tok::PipelineSpec>(*pipeline);
  nlohmann::json lower = {{"type", "Lowercase"}};
  spec->normalizer = spec->normalizer.is_null()
                         ? lower
                         : nlohmann::json{{"type", "Sequence"}, {"normalizers", {lower, spec->normalizer}}};
  pipeline = std::move(spec);
}

Tokenizer Tokenizer::create(TokenizerConfig config,
                            std::vector<std::pair<std::string, int32_t>> vocab) {
  return Tokenizer(std::make_shared<const Impl>(std::move(config), vocab));
}

Tokenizer Tokenizer::from_tokenizer_json(const std::filesystem::path& path) {
  auto [config, vocab] = tok::load_tokenizer_json(path);
  try {
    return create(std::move(config), std::move(vocab));
  } catch (const Error& e) {
    fail(path.string(), ": ", e.what());
  }
}

Tokenizer Tokenizer::from_vocab_txt(const std::filesystem::path& vocab_path,
                                    TokenizerFlavour flavour,
                                    const std::filesystem::path& config_dir) {
  auto [config, vocab] = tok::load_vocab_txt(vocab_path, flavour, config_dir);
  try {
    return create(std::move(config), std::move(vocab));
  } catch (const Error& e) {
    fail(vocab_path.string(), ": ", e.what());
  }
}

namespace {

TokenizerFlavour pick_flavour(const std::filesystem::path& dir,
                              std::optional<TokenizerFlavour> flavour) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) fail_path(std::filesystem::exists(dir, ec), dir.string(), ": not a directory");
  const bool has_json = std::filesystem::exists(dir / "tokenizer.json", ec);
  const bool has_vocab = std::filesystem::exists(dir / "vocab.txt", ec);
  const bool has_spm = tok::find_sentencepiece_model(dir).has_value();
  if (!flavour && !has_json && !has_vocab && !has_spm)
    fail(dir.string(), ": no tokenizer.json or vocab.txt in the model directory");
  TokenizerFlavour f = flavour.value_or(has_json || (has_spm && !has_vocab) ? TokenizerFlavour::HfFast : TokenizerFlavour::Google);
  if (f == TokenizerFlavour::HfFast && !has_json && !has_spm)
    fail(dir.string(), ": no tokenizer.json (flavour hf needs one)");
  if (f != TokenizerFlavour::HfFast && !has_vocab)
    fail(dir.string(), ": no vocab.txt (flavour ", flavour_name(f), " needs one)");
  return f;
}

}  // namespace

namespace {

std::pair<TokenizerConfig, tok::Vocab> load_dir(const std::filesystem::path& dir, std::optional<TokenizerFlavour> flavour) {
  TokenizerFlavour f = pick_flavour(dir, flavour);
  if (f != TokenizerFlavour::HfFast) return tok::load_vocab_txt(dir / "vocab.txt", f, dir);
  std::error_code ec;
  if (!std::filesystem::exists(dir / "tokenizer.json", ec)) {
    // Only a SentencePiece model: what transformers' slow-to-fast converter makes of it.
    const auto spm = *tok::find_sentencepiece_model(dir);
    auto loaded = tok::parse_tokenizer_json(tok::convert_sentencepiece(spm, dir).dump(), spm);
    tok::read_model_max_length(loaded.first, dir);
    return loaded;
  }
  auto loaded = tok::load_tokenizer_json(dir / "tokenizer.json");
  tok::read_model_max_length(loaded.first, dir);
  return loaded;
}

}  // namespace

Tokenizer Tokenizer::from_dir(const std::filesystem::path& name,
                              std::optional<TokenizerFlavour> flavour) {
  return from_dir(name, flavour, nullptr);
}

Tokenizer Tokenizer::from_dir(const std::filesystem::path& name,
                              std::optional<TokenizerFlavour> flavour,
                              const std::function<void(TokenizerConfig&)>& adjust) {
  const std::filesystem::path dir = resolve_model_path(name.string());
  auto [config, vocab] = load_dir(dir, flavour);
  if (adjust) adjust(config);
  try {
    return create(std::move(config), std::move(vocab));
  } catch (const Error& e) {
    fail(dir.string(), ": ", e.what());
  }
}

TokenizerConfig Tokenizer::read_config(const std::filesystem::path& dir,
                                       std::optional<TokenizerFlavour> flavour) {
  return load_dir(resolve_model_path(dir.string()), flavour).first;
}

namespace {

void check_special_tokens(const Tokenizer::Impl& impl, const EncodeOptions& options) {
  // HfFast's post-processor names its own special tokens.
  if (options.add_special_tokens && !impl.config.post_processor.present &&
      impl.config.flavour != TokenizerFlavour::HfFast)
    fail("the vocabulary lacks '", impl.config.cls_token, "' or '", impl.config.sep_token,
         "': encode with add_special_tokens off");
}

void pad_one(const Tokenizer::Impl& impl, Encoding& e, const PaddingOptions& padding) {
  if (padding.strategy == PaddingStrategy::None) return;
  std::vector<Encoding> one(1);
  one[0] = std::move(e);
  pad_encodings(one, padding, impl.pad_id, impl.config.pad_type_id, impl.config.pad_token);
  e = std::move(one[0]);
}

}  // namespace

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  check_special_tokens(*impl_, options);
  auto seq = tok::tokenize_sequence(*impl_, text);
  Encoding e = tok::post_process(*impl_, std::move(seq), nullptr, text, {}, options);
  pad_one(*impl_, e, options.padding);
  return e;
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                const EncodeOptions& options) const {
  check_special_tokens(*impl_, options);
  auto a = tok::tokenize_sequence(*impl_, first);
  auto b = tok::tokenize_sequence(*impl_, second);
  Encoding e = tok::post_process(*impl_, std::move(a), &b, first, second, options);
  pad_one(*impl_, e, options.padding);
  return e;
}

namespace {

template <class Item, class Fn>
std::vector<Encoding> run_batch(const std::vector<Item>& items, Fn&& fn) {
  std::vector<Encoding> out(items.size());
  std::vector<std::exception_ptr> errors(items.size());
  const auto n = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    try {
      out[static_cast<size_t>(i)] = fn(items[static_cast<size_t>(i)]);
    } catch (...) {
      errors[static_cast<size_t>(i)] = std::current_exception();
    }
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const Error& e) {
      fail("batch item ", i, ": ", e.what());
    }
  }
  return out;
}

}  // namespace

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string_view>& texts,
                                              const EncodeOptions& options) const {
  EncodeOptions one = options;
  one.padding.strategy = PaddingStrategy::None;
  auto out = run_batch(texts, [&](std::string_view t) { return encode(t, one); });
  pad_encodings(out, options.padding, impl_->pad_id, impl_->config.pad_type_id,
                impl_->config.pad_token);
  return out;
}

std::vector<Encoding> Tokenizer::encode_batch(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
    const EncodeOptions& options) const {
  EncodeOptions one = options;
  one.padding.strategy = PaddingStrategy::None;
  auto out = run_batch(pairs, [&](const std::pair<std::string_view, std::string_view>& p) {
    return encode_pair(p.first, p.second, one);
  });
  pad_encodings(out, options.padding, impl_->pad_id, impl_->config.pad_type_id,
                impl_->config.pad_token);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, const DecodeOptions& options) const {
  return tok::decode_ids(*impl_, ids, options);
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  return tok::tokenize_sequence(*impl_, text).tokens;
}

std::string Tokenizer::decode_tokens(const std::vector<std::string>& tokens) const {
  return tok::decode_tokens(*impl_, tokens, {});
}

std::optional<std::string> Tokenizer::continuing_subword_prefix() const {
  return tok::continuing_subword_prefix(*impl_);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const auto& t : impl_->config.added_tokens)
    if (t.content == token) return t.id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return it->second;
  if (const std::string* t = impl_->model->id_to_token(id)) return *t;
  return std::nullopt;
}

size_t Tokenizer::vocab_size() const { return impl_->model->vocab_size(); }

size_t Tokenizer::num_special_tokens_to_add(bool pair) const {
  return tok::count_special_tokens(*impl_, pair);
}

const TokenizerConfig& Tokenizer::config() const { return impl_->config; }

}  // namespace encore
