// Text -> tokens for each flavour (the part of encode() before special tokens).
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

  // An added token matched in the text: its token is the text it matched (with the
  // spaces lstrip/rstrip took), as tokenizers' AddedVocabulary keeps it.
  void added(const NText& text, size_t begin, size_t end, int32_t id) {
    push(id, to_utf8_range(text, static_cast<uint32_t>(begin), static_cast<uint32_t>(end)),
         {text[begin].begin, text[end - 1].end});
    ++word_;
  }

  void splits(const NText& text, const std::vector<Split>& splits) {
    for (const Split& w : splits) {
      if (w.begin == w.end) continue;
      if (w.id >= 0) {
        added(text, w.begin, w.end, w.id);
        continue;
      }
      if (w.whole) {
        std::string token = to_utf8_range(text, w.begin, w.end);
        int32_t id = impl_.model->token_to_id(token).value_or(unk_id());
        push(id, std::move(token), {text[w.begin].begin, text[w.end - 1].end});
        ++word_;
        continue;
      }
      chars_.clear();
      for (uint32_t i = w.begin; i < w.end; ++i) chars_.push_back(text[i].c);
      pieces_.clear();
      impl_.model->tokenize(chars_.data(), chars_.size(), pieces_);
      for (const auto& p : pieces_) {
        const std::string* token = p.text ? nullptr : impl_.model->id_to_token(p.id);
        push(p.id, token ? *token : p.text ? to_utf8_range(text, w.begin + p.begin, w.begin + p.end) : std::string(),
             {text[w.begin + p.begin].begin, text[w.begin + p.end - 1].end});
      }
      ++word_;
    }
  }

 private:
  int32_t unk_id() const {
    return impl_.model->token_to_id(impl_.config.unk_token).value_or(0);
  }

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
  std::vector<Model::Piece> pieces_;
};

NText slice(const NText& text, size_t begin, size_t end) {
  return NText(text.begin() + static_cast<std::ptrdiff_t>(begin),
               text.begin() + static_cast<std::ptrdiff_t>(end));
}

void append_split(PreTokenized& p, const NText& text, size_t begin, size_t end, int32_t id) {
  if (begin >= end) return;
  const auto at = static_cast<uint32_t>(p.text.size());
  p.text.insert(p.text.end(), text.begin() + static_cast<std::ptrdiff_t>(begin),
                text.begin() + static_cast<std::ptrdiff_t>(end));
  p.splits.push_back({at, static_cast<uint32_t>(p.text.size()), false, id});
}

// tokenizers' AddedVocabulary::extract_and_normalize, then the pre-tokenizer: raw added
// tokens split the input; each piece between them is normalized, then split by the
// normalized added tokens.
PreTokenized pre_tokenize_hf_fast(const Tokenizer::Impl& impl, const NText& raw) {
  PreTokenized p;
  p.text.reserve(raw.size() + raw.size() / 8);
  auto plain = [&](size_t begin, size_t end) {
    if (begin >= end) return;
    NText segment = slice(raw, begin, end);
    impl.normalize(segment);
    size_t pos = 0;
    for (const auto& m : impl.normalized_added.find(segment, 0, segment.size())) {
      append_split(p, segment, pos, m.begin, -1);
      append_split(p, segment, m.begin, m.end, m.id);
      pos = m.end;
    }
    append_split(p, segment, pos, segment.size(), -1);
  };
  size_t pos = 0;
  for (const auto& m : impl.raw_added.find(raw, 0, raw.size())) {
    plain(pos, m.begin);
    append_split(p, raw, m.begin, m.end, m.id);
    pos = m.end;
  }
  plain(pos, raw.size());
  if (impl.pre_tokenizer) impl.pre_tokenizer->pre_tokenize(p);
  return p;
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
  emit.splits(out, words);
}

}  // namespace

Sequence tokenize_sequence(const Tokenizer::Impl& impl, std::string_view text) {
  if (text.size() >= std::numeric_limits<uint32_t>::max())
    fail("text of ", text.size(), " bytes is too long (the limit is 4 GiB)");
  NText raw;
  decode_utf8(text, 0, raw);
  Sequence seq;
  Emitter emit(impl, seq);
  if (impl.config.flavour == TokenizerFlavour::HfFast) {
    const PreTokenized p = pre_tokenize_hf_fast(impl, raw);
    emit.splits(p.text, p.splits);
    return seq;
  }
  size_t pos = 0;
  for (const auto& m : impl.raw_added.find(raw, 0, raw.size())) {
    if (pos < m.begin) plain_basic(impl, slice(raw, pos, m.begin), emit);
    emit.added(raw, m.begin, m.end, m.id);
    pos = m.end;
  }
  if (pos < raw.size()) plain_basic(impl, slice(raw, pos, raw.size()), emit);
  return seq;
}

}  // namespace encore::tok
