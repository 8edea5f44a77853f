// Text -> word pieces for each flavour (the part of encode() before special tokens).
#include <limits>

#include "encore/error.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace encore::tok {
namespace {

class Emitter {
 public:
  Emitter(const Tokenizer::Impl& impl, Sequence& seq) : impl_(impl), seq_(seq) {}

  void added(const NText& text, size_t begin, size_t end, int32_t id) {
    auto it = impl_.added_by_id.find(id);
    push(id, it != impl_.added_by_id.end() ? it->second : std::string(),
         {text[begin].begin, text[end - 1].end});
    ++word_;
  }

  void words(const NText& text, const std::vector<Word>& words) {
    for (const Word& w : words) {
      if (w.begin == w.end) continue;
      if (w.id >= 0) {
        added(text, w.begin, w.end, w.id);
        continue;
      }
      if (w.whole) {
        std::string token = to_utf8_range(text, w.begin, w.end);
        int32_t id = impl_.model.find(token).value_or(impl_.model.unk_id());
        push(id, std::move(token), {text[w.begin].begin, text[w.end - 1].end});
        ++word_;
        continue;
      }
      chars_.clear();
      for (uint32_t i = w.begin; i < w.end; ++i) chars_.push_back(text[i].c);
      pieces_.clear();
      impl_.model.tokenize(chars_.data(), chars_.size(), pieces_);
      for (const auto& p : pieces_) {
        const std::string* token = impl_.model.token(p.id);
        push(p.id, token ? *token : std::string(),
             {text[w.begin + p.begin].begin, text[w.begin + p.end - 1].end});
      }
      ++word_;
    }
  }

 private:
  static std::string to_utf8_range(const NText& text, uint32_t begin, uint32_t end) {
    std::string s;
    for (uint32_t i = begin; i < end; ++i) append_utf8(text[i].c, s);
    return s;
  }

  void push(int32_t id, std::string token, std::pair<uint32_t, uint32_t> span) {
    seq_.ids.push_back(id);
    seq_.tokens.push_back(std::move(token));
    seq_.offsets.push_back(span);
    seq_.words.push_back(word_);
  }

  const Tokenizer::Impl& impl_;
  Sequence& seq_;
  int32_t word_ = 0;
  std::u32string chars_;
  std::vector<WordPiece::Piece> pieces_;
};

NText slice(const NText& text, size_t begin, size_t end) {
  return NText(text.begin() + static_cast<std::ptrdiff_t>(begin),
               text.begin() + static_cast<std::ptrdiff_t>(end));
}

// tokenizers: BertNormalizer, normalized added tokens, BertPreTokenizer.
void plain_hf_fast(const Tokenizer::Impl& impl, NText segment, Emitter& emit) {
  normalize_hf_fast(segment, impl.config);
  std::vector<Word> words;
  size_t pos = 0;
  for (const auto& m : impl.normalized_added.find(segment, 0, segment.size())) {
    pre_tokenize_hf_fast(segment, pos, m.begin, words);
    words.push_back({static_cast<uint32_t>(m.begin), static_cast<uint32_t>(m.end), false, m.id});
    pos = m.end;
  }
  pre_tokenize_hf_fast(segment, pos, segment.size(), words);
  emit.words(segment, words);
}

// transformers BertTokenizer.tokenize() / tokenization.py FullTokenizer.tokenize().
void plain_basic(const Tokenizer::Impl& impl, NText segment, Emitter& emit) {
  const auto& cfg = impl.config;
  const auto f = cfg.flavour;
  if (f == TokenizerFlavour::HfSlow && cfg.lowercase) lowercase(segment, f);
  clean_text(segment, f);
  if (cfg.handle_chinese_chars) space_chinese_chars(segment, f);
  if (f == TokenizerFlavour::HfSlow) nfc(segment, f);
  NText out;
  std::vector<Word> words;
  basic_tokenize(segment, cfg, impl.never_split, out, words);
  emit.words(out, words);
}

}  // namespace

Sequence tokenize_sequence(const Tokenizer::Impl& impl, std::string_view text) {
  if (text.size() >= std::numeric_limits<uint32_t>::max())
    fail("text of ", text.size(), " bytes is too long (the limit is 4 GiB)");
  NText raw;
  decode_utf8(text, 0, raw);
  Sequence seq;
  Emitter emit(impl, seq);
  auto plain = [&](size_t begin, size_t end) {
    if (begin >= end) return;
    if (impl.config.flavour == TokenizerFlavour::HfFast)
      plain_hf_fast(impl, slice(raw, begin, end), emit);
    else
      plain_basic(impl, slice(raw, begin, end), emit);
  };
  size_t pos = 0;
  for (const auto& m : impl.raw_added.find(raw, 0, raw.size())) {
    plain(pos, m.begin);
    emit.added(raw, m.begin, m.end, m.id);
    pos = m.end;
  }
  plain(pos, raw.size());
  return seq;
}

}  // namespace encore::tok
