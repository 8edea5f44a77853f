#include "tokenizer/encoding_ops.h"

#include <algorithm>

#include "encore/error.h"

namespace encore::tok {
namespace {

Encoding range_of(const Encoding& e, size_t start, size_t stop) {
  auto cut = [&](const auto& v) {
    return std::decay_t<decltype(v)>(v.begin() + static_cast<std::ptrdiff_t>(start),
                                     v.begin() + static_cast<std::ptrdiff_t>(stop));
  };
  Encoding o;
  o.ids = cut(e.ids);
  o.type_ids = cut(e.type_ids);
  o.tokens = cut(e.tokens);
  o.word_ids = cut(e.word_ids);
  o.offsets = cut(e.offsets);
  o.special_tokens_mask = cut(e.special_tokens_mask);
  o.attention_mask = cut(e.attention_mask);
  o.sequence_ids = cut(e.sequence_ids);
  return o;
}

template <class T>
void extend(std::vector<T>& a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
}

}  // namespace

// tokenizer/encoding.rs Encoding::truncate.
void truncate(Encoding& e, size_t max_len, size_t stride, TruncationSide side) {
  const size_t n = e.size();
  if (max_len >= n) return;
  if (max_len == 0) {
    Encoding whole = std::move(e);
    e = Encoding{};
    e.overflowing.push_back(std::move(whole));
    return;
  }
  if (stride >= max_len)
    fail("stride ", stride, " must be smaller than the effective max length ", max_len,
         " (max_length less the special tokens)");
  const size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  if (side == TruncationSide::Right) {
    for (size_t start = 0; start < n; start += step) {
      const size_t stop = std::min(start + max_len, n);
      parts.emplace_back(start, stop);
      if (stop == n) break;
    }
  } else {
    // (0..n).rev().step_by(step): stop - 1 = n - 1, n - 1 - step, ...
    for (size_t k = 0; k * step < n; ++k) {
      const size_t stop = n - k * step;
      const size_t start = stop > max_len ? stop - max_len : 0;
      parts.emplace_back(start, stop);
      if (start == 0) break;
    }
  }
  Encoding out = range_of(e, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) out.overflowing.push_back(range_of(e, parts[i].first, parts[i].second));
  e = std::move(out);
}

// utils/truncation.rs truncate_encodings().
void truncate_encodings(Encoding& a, Encoding* b, size_t max_length, const TruncationOptions& t) {
  if (max_length == 0) {
    truncate(a, 0, t.stride, t.side);
    if (b) truncate(*b, 0, t.stride, t.side);
    return;
  }
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_length) return;
  const size_t to_remove = total - max_length;
  switch (t.strategy) {
    case TruncationStrategy::LongestFirst: {
      if (!b) {
        truncate(a, total - to_remove, t.stride, t.side);
        return;
      }
      size_t n1 = a.size(), n2 = b->size();
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      truncate(a, n1, t.stride, t.side);
      truncate(*b, n2, t.stride, t.side);
      return;
    }
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Encoding* target = t.strategy == TruncationStrategy::OnlyFirst ? &a : b;
      if (!target) fail("truncation only_second needs a second sequence");
      if (target->size() <= to_remove)
        fail("truncation ", truncation_name(t.strategy), ": the sequence to truncate has ",
             target->size(), " tokens, fewer than the ", to_remove, " to remove");
      truncate(*target, target->size() - to_remove, t.stride, t.side);
      return;
    }
    case TruncationStrategy::None:
      return;
  }
}

// tokenizer/encoding.rs Encoding::merge_with.
void merge_with(Encoding& self, Encoding pair) {
  std::vector<Encoding> overflowings;
  for (const Encoding& self_o : self.overflowing) {
    Encoding n = self_o;
    merge_with(n, pair);
    overflowings.push_back(std::move(n));
    for (const Encoding& other_o : pair.overflowing) {
      Encoding m = self_o;
      merge_with(m, other_o);
      overflowings.push_back(std::move(m));
    }
  }
  for (const Encoding& other_o : pair.overflowing) {
    Encoding n = self;
    merge_with(n, other_o);
    overflowings.push_back(std::move(n));
  }
  extend(self.ids, pair.ids);
  extend(self.type_ids, pair.type_ids);
  extend(self.tokens, pair.tokens);
  extend(self.word_ids, pair.word_ids);
  extend(self.offsets, pair.offsets);
  extend(self.special_tokens_mask, pair.special_tokens_mask);
  extend(self.attention_mask, pair.attention_mask);
  extend(self.sequence_ids, pair.sequence_ids);
  self.overflowing = std::move(overflowings);
}

void set_sequence_id(Encoding& e, int32_t sequence) { e.sequence_ids.assign(e.size(), sequence); }

// processors/mod.rs PostProcessor::process and default_process.
Encoding process(const PostProcessor* pp, Encoding a, std::optional<Encoding> b,
                 bool add_special_tokens, const std::string_view* texts) {
  std::vector<Encoding> encodings;
  encodings.push_back(std::move(a));
  if (b) encodings.push_back(std::move(*b));
  if (!pp) {
    if (encodings.size() == 1) return std::move(encodings[0]);
    Encoding out = std::move(encodings[0]);
    merge_with(out, std::move(encodings[1]));
    return out;
  }
  for (size_t i = 0; i < encodings.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    set_sequence_id(encodings[i], id);
    for (auto& o : encodings[i].overflowing) set_sequence_id(o, id);
    encodings[i].type_ids.assign(encodings[i].size(), id);
  }
  pp->process_encodings(encodings, add_special_tokens, texts);
  Encoding out;
  for (auto& e : encodings) merge_with(out, std::move(e));
  return out;
}

}  // namespace encore::tok
