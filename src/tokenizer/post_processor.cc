// Truncation, special tokens, padding and character offsets: tokenizers' algorithm for
// HfFast (encoding_ops.h and the PostProcessor stages), transformers' / tokenization.py's
// for HfSlow and Google.
#include <algorithm>

#include "encore/error.h"
#include "tokenizer/encoding_ops.h"
#include "tokenizer/tokenizer_impl.h"

namespace encore::tok {
namespace {

const SpecialTokenIds& special(const PostProcessorConfig& pp, const std::string& name) {
  for (const auto& [key, value] : pp.specials)
    if (key == name) return value;
  fail("post-processor template names unknown special token '", name, "'");
}

void keep(Sequence& s, size_t begin, size_t end) {
  auto cut = [&](auto& v) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(end), v.end());
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(begin));
  };
  cut(s.ids), cut(s.tokens), cut(s.offsets), cut(s.words);
}

void truncate_to(Sequence& s, size_t n, TruncationSide side) {
  if (s.size() <= n) return;
  if (side == TruncationSide::Right)
    keep(s, 0, n);
  else
    keep(s, s.size() - n, s.size());
}

// transformers tokenization_utils_base.py truncate_sequences(); Google's
// _truncate_seq_pair() pops from the longer sequence (ties: from B), which removes the
// same counts. A strategy that cannot be satisfied leaves the input alone (transformers
// logs an error and goes on).
void truncate_hf_slow(Sequence& a, Sequence* b, size_t max_length, const TruncationOptions& t) {
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_length) return;
  const size_t remove = total - max_length;
  auto drop = [&](Sequence& s, size_t n) { truncate_to(s, s.size() - std::min(n, s.size()), t.side); };
  if (t.strategy == TruncationStrategy::OnlyFirst ||
      (t.strategy == TruncationStrategy::LongestFirst && !b)) {
    if (a.size() > remove) drop(a, remove);
  } else if (t.strategy == TruncationStrategy::LongestFirst) {
    const size_t la = a.size(), lb = b->size();
    const size_t first = std::min(la > lb ? la - lb : lb - la, remove);
    const size_t second = remove - first;
    if (la > lb) {
      drop(a, first + second / 2);
      drop(*b, second - second / 2);
    } else {
      drop(a, second / 2);
      drop(*b, first + second - second / 2);
    }
  } else if (t.strategy == TruncationStrategy::OnlySecond && b) {
    if (b->size() > remove) drop(*b, remove);
  }
}

void append(Encoding& e, const Sequence& s, int32_t type_id, int32_t sequence_id) {
  for (size_t i = 0; i < s.size(); ++i) {
    e.ids.push_back(s.ids[i]);
    e.type_ids.push_back(type_id);
    e.attention_mask.push_back(1);
    e.special_tokens_mask.push_back(0);
    e.word_ids.push_back(s.words[i]);
    e.sequence_ids.push_back(sequence_id);
    e.offsets.emplace_back(s.offsets[i].first, s.offsets[i].second);
    e.tokens.push_back(s.tokens[i]);
  }
}

void append_special(Encoding& e, const SpecialTokenIds& sp, int32_t type_id) {
  for (size_t i = 0; i < sp.ids.size(); ++i) {
    e.ids.push_back(sp.ids[i]);
    e.type_ids.push_back(type_id);
    e.attention_mask.push_back(1);
    e.special_tokens_mask.push_back(1);
    e.word_ids.push_back(-1);
    e.sequence_ids.push_back(-1);
    e.offsets.emplace_back(0, 0);
    e.tokens.push_back(i < sp.tokens.size() ? sp.tokens[i] : std::string());
  }
}

// transformers / tokenization.py: [CLS] A [SEP] (B [SEP]) from the config's template.
Encoding assemble(const Tokenizer::Impl& impl, const Sequence& a, const Sequence* b,
                  bool add_special_tokens) {
  const auto& pp = impl.config.post_processor;
  Encoding e;
  if (!pp.present) {
    append(e, a, 0, 0);
    if (b) append(e, *b, 1, 1);
    return e;
  }
  if (!add_special_tokens) {
    // transformers prepare_for_model(): ids + pair_ids, all type ids 0.
    append(e, a, 0, 0);
    if (b) append(e, *b, 0, 1);
    return e;
  }
  for (const auto& piece : b ? pp.pair : pp.single) {
    switch (piece.kind) {
      case TemplatePiece::Kind::SequenceA:
        append(e, a, piece.type_id, 0);
        break;
      case TemplatePiece::Kind::SequenceB:
        if (b) append(e, *b, piece.type_id, 1);
        break;
      case TemplatePiece::Kind::Special:
        append_special(e, special(pp, piece.special), piece.type_id);
        break;
    }
  }
  return e;
}

// Byte offsets -> code point offsets; offsets mostly grow, so a cursor makes it linear.
class CharCounter {
 public:
  explicit CharCounter(std::string_view text) : text_(text) {}
  size_t operator()(size_t byte) {
    if (byte < byte_) byte_ = 0, chars_ = 0;
    for (; byte_ < byte && byte_ < text_.size(); ++byte_)
      if ((static_cast<unsigned char>(text_[byte_]) & 0xC0) != 0x80) ++chars_;
    return chars_;
  }

 private:
  std::string_view text_;
  size_t byte_ = 0;
  size_t chars_ = 0;
};

void fill_char_offsets(Encoding& e, std::string_view first, std::string_view second) {
  CharCounter c0(first), c1(second);
  e.char_offsets.resize(e.offsets.size());
  for (size_t i = 0; i < e.offsets.size(); ++i) {
    int32_t s = e.sequence_ids[i];
    if (s < 0) {
      e.char_offsets[i] = {0, 0};
      continue;
    }
    CharCounter& c = s == 0 ? c0 : c1;
    size_t begin = c(e.offsets[i].first);
    size_t end = c(e.offsets[i].second);
    e.char_offsets[i] = {begin, end};
  }
  for (auto& o : e.overflowing) fill_char_offsets(o, first, second);
}

// A sequence as tokenizers' into_encoding() leaves it: type id = sequence index.
Encoding to_encoding(Sequence&& s, int32_t sequence) {
  Encoding e;
  const size_t n = s.size();
  e.ids = std::move(s.ids);
  e.tokens = std::move(s.tokens);
  e.word_ids = std::move(s.words);
  e.type_ids.assign(n, sequence);
  e.attention_mask.assign(n, 1);
  e.special_tokens_mask.assign(n, 0);
  e.sequence_ids.assign(n, sequence);
  e.offsets.reserve(n);
  for (const auto& o : s.offsets) e.offsets.emplace_back(o.first, o.second);
  return e;
}

Encoding post_process_hf_fast(const Tokenizer::Impl& impl, Sequence first, Sequence* second,
                              std::string_view first_text, std::string_view second_text,
                              const EncodeOptions& options) {
  const auto& t = options.truncation;
  Encoding a = to_encoding(std::move(first), 0);
  std::optional<Encoding> b;
  if (second) b = to_encoding(std::move(*second), 1);
  const size_t before = a.size() + (b ? b->size() : 0);
  if (t.strategy != TruncationStrategy::None) {
    const size_t added = options.add_special_tokens ? count_special_tokens(impl, b.has_value()) : 0;
    if (t.max_length < added)
      fail("max_length ", t.max_length, " is smaller than the ", added,
           " special tokens the model adds");
    truncate_encodings(a, b ? &*b : nullptr, t.max_length - added, t);
  }
  const size_t kept = a.size() + (b ? b->size() : 0);
  const std::string_view texts[2] = {first_text, second_text};
  Encoding e = process(impl.post_processor.get(), std::move(a), std::move(b),
                       options.add_special_tokens, texts);
  e.truncated = before - kept;
  if (!options.return_overflowing) e.overflowing.clear();
  fill_char_offsets(e, first_text, second_text);
  return e;
}

}  // namespace

size_t count_special_tokens(const Tokenizer::Impl& impl, bool pair) {
  if (impl.config.flavour == TokenizerFlavour::HfFast)
    return impl.post_processor ? impl.post_processor->added_tokens(pair) : 0;
  const auto& pp = impl.config.post_processor;
  if (!pp.present) return 0;
  size_t n = 0;
  for (const auto& piece : pair ? pp.pair : pp.single)
    if (piece.kind == TemplatePiece::Kind::Special) n += special(pp, piece.special).ids.size();
  return n;
}

Encoding post_process(const Tokenizer::Impl& impl, Sequence first, Sequence* second,
                      std::string_view first_text, std::string_view second_text,
                      const EncodeOptions& options) {
  if (impl.config.flavour == TokenizerFlavour::HfFast)
    return post_process_hf_fast(impl, std::move(first), second, first_text, second_text, options);
  const auto& t = options.truncation;
  const size_t before = first.size() + (second ? second->size() : 0);
  if (t.strategy != TruncationStrategy::None) {
    const size_t added = options.add_special_tokens ? count_special_tokens(impl, second) : 0;
    if (t.max_length < added)
      fail("max_length ", t.max_length, " is smaller than the ", added,
           " special tokens the model adds");
    truncate_hf_slow(first, second, t.max_length - added, t);
  }
  Encoding e = assemble(impl, first, second, options.add_special_tokens);
  e.truncated = before - (first.size() + (second ? second->size() : 0));
  fill_char_offsets(e, first_text, second_text);
  return e;
}

}  // namespace encore::tok

namespace encore {

namespace {

void pad_to(Encoding& e, size_t target, PaddingSide side, int32_t pad_id, int32_t pad_type_id,
            const std::string& pad_token) {
  for (auto& o : e.overflowing) pad_to(o, target, side, pad_id, pad_type_id, pad_token);
  if (e.ids.size() >= target) return;
  const size_t n = target - e.ids.size();
  auto grow = [&](auto& v, const auto& value) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    if (side == PaddingSide::Right)
      v.insert(v.end(), n, T(value));
    else
      v.insert(v.begin(), n, T(value));
  };
  grow(e.ids, pad_id);
  grow(e.type_ids, pad_type_id);
  grow(e.attention_mask, 0);
  grow(e.special_tokens_mask, 1);
  grow(e.word_ids, -1);
  grow(e.sequence_ids, -1);
  grow(e.offsets, std::pair<size_t, size_t>{0, 0});
  grow(e.char_offsets, std::pair<size_t, size_t>{0, 0});
  grow(e.tokens, pad_token);
}

}  // namespace

void pad_encodings(std::vector<Encoding>& encodings, const PaddingOptions& padding,
                   int32_t pad_id, int32_t pad_type_id, const std::string& pad_token) {
  if (padding.strategy == PaddingStrategy::None) return;
  size_t target = padding.length;
  if (padding.strategy == PaddingStrategy::Longest) {
    target = 0;
    for (const auto& e : encodings) target = std::max(target, e.size());
  }
  if (padding.pad_to_multiple_of > 0 && target % padding.pad_to_multiple_of != 0)
    target += padding.pad_to_multiple_of - target % padding.pad_to_multiple_of;
  for (auto& e : encodings) pad_to(e, target, padding.side, pad_id, pad_type_id, pad_token);
}

}  // namespace encore
