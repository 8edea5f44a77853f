// Truncation, special tokens ([CLS] A [SEP] B [SEP]), padding and character offsets.
#include <algorithm>

#include "encore/error.h"
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

// tokenizers/src/utils/truncation.rs truncate_encodings().
void truncate_hf_fast(Sequence& a, Sequence* b, size_t max_length, const TruncationOptions& t) {
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_length) return;
  const size_t to_remove = total - max_length;
  switch (t.strategy) {
    case TruncationStrategy::LongestFirst: {
      if (!b) {
        truncate_to(a, total - to_remove, t.side);
        return;
      }
      size_t n1 = a.size(), n2 = b->size();
      bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      truncate_to(a, n1, t.side);
      truncate_to(*b, n2, t.side);
      return;
    }
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Sequence* target = t.strategy == TruncationStrategy::OnlyFirst ? &a : b;
      if (!target) fail("truncation only_second needs a second sequence");
      if (target->size() <= to_remove)
        fail("truncation ", truncation_name(t.strategy), ": the sequence to truncate has ",
             target->size(), " tokens, fewer than the ", to_remove, " to remove");
      truncate_to(*target, target->size() - to_remove, t.side);
      return;
    }
    case TruncationStrategy::None:
      return;
  }
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

Encoding assemble(const Tokenizer::Impl& impl, const Sequence& a, const Sequence* b,
                  bool add_special_tokens) {
  const auto& pp = impl.config.post_processor;
  Encoding e;
  if (!pp.present) {
    append(e, a, 0, 0);
    if (b) append(e, *b, 1, 1);
    return e;
  }
  if (!add_special_tokens && impl.config.flavour != TokenizerFlavour::HfFast) {
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
        if (add_special_tokens) append_special(e, special(pp, piece.special), piece.type_id);
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
}

}  // namespace

size_t count_special_tokens(const PostProcessorConfig& pp, bool pair) {
  if (!pp.present) return 0;
  size_t n = 0;
  for (const auto& piece : pair ? pp.pair : pp.single)
    if (piece.kind == TemplatePiece::Kind::Special) n += special(pp, piece.special).ids.size();
  return n;
}

Encoding post_process(const Tokenizer::Impl& impl, Sequence first, Sequence* second,
                      std::string_view first_text, std::string_view second_text,
                      const EncodeOptions& options) {
  const auto& t = options.truncation;
  const bool fast = impl.config.flavour == TokenizerFlavour::HfFast;
  std::vector<Sequence> windows;  // HfFast overflow of a single sequence
  const size_t before = first.size() + (second ? second->size() : 0);
  if (t.strategy != TruncationStrategy::None) {
    const size_t added =
        options.add_special_tokens ? count_special_tokens(impl.config.post_processor, second) : 0;
    if (t.max_length < added)
      fail("max_length ", t.max_length, " is smaller than the ", added,
           " special tokens the model adds");
    const size_t budget = t.max_length - added;
    if (fast) {
      if (options.return_overflowing && first.size() + (second ? second->size() : 0) > budget) {
        if (second) fail("overflowing tokens are implemented for single sequences only");
        if (t.side != TruncationSide::Right)
          fail("overflowing tokens are implemented for right truncation only");
        if (budget == 0 || t.stride >= budget)
          fail("stride ", t.stride, " must be smaller than the effective max length ", budget);
        const size_t step = budget - t.stride;
        for (size_t start = step;; start += step) {
          const size_t stop = std::min(start + budget, first.size());
          Sequence w = first;
          keep(w, start, stop);
          windows.push_back(std::move(w));
          if (stop == first.size()) break;
        }
      }
      truncate_hf_fast(first, second, budget, t);
    } else {
      truncate_hf_slow(first, second, budget, t);
    }
  }
  Encoding e = assemble(impl, first, second, options.add_special_tokens);
  e.truncated = before - (first.size() + (second ? second->size() : 0));
  fill_char_offsets(e, first_text, second_text);
  for (const auto& w : windows) {
    Encoding o = assemble(impl, w, nullptr, options.add_special_tokens);
    fill_char_offsets(o, first_text, second_text);
    e.overflowing.push_back(std::move(o));
  }
  return e;
}

}  // namespace encore::tok

namespace encore {

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
  for (auto& e : encodings) {
    while (e.ids.size() < target) {
      e.ids.push_back(pad_id);
      e.type_ids.push_back(pad_type_id);
      e.attention_mask.push_back(0);
      e.special_tokens_mask.push_back(1);
      e.word_ids.push_back(-1);
      e.sequence_ids.push_back(-1);
      e.offsets.emplace_back(0, 0);
      e.char_offsets.emplace_back(0, 0);
      e.tokens.push_back(pad_token);
    }
  }
}

}  // namespace encore
