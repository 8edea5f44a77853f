#include "tokenizer/metaspace.h"

namespace encore::tok {

void MetaspacePreTokenizer::pre_tokenize(PreTokenized& p) const {
  PreTokenized out;
  out.text.reserve(p.text.size() + p.splits.size() + 8);
  out.splits.reserve(p.splits.size() * 2);
  for (const Split& s : p.splits) {
    const auto at = static_cast<uint32_t>(out.text.size());
    if (s.id >= 0 || s.whole) {
      out.text.insert(out.text.end(), p.text.begin() + s.begin, p.text.begin() + s.end);
      out.splits.push_back({at, static_cast<uint32_t>(out.text.size()), s.whole, s.id});
      continue;
    }
    const NChar first = p.text[s.begin];
    const bool starts_with_replacement = first.c == ' ' || first.c == replacement_;
    // NormalizedString::prepend: the replacement takes the span of the first code point.
    // PrependScheme::First: only a split whose original offsets start at 0.
    if ((prepend_ == PrependScheme::Always || (prepend_ == PrependScheme::First && first.begin == 0)) &&
        !starts_with_replacement)
      out.text.push_back({replacement_, first.begin, first.end});
    for (uint32_t i = s.begin; i < s.end; ++i) {
      NChar ch = p.text[i];
      if (ch.c == ' ') ch.c = replacement_;
      out.text.push_back(ch);
    }
    const auto end = static_cast<uint32_t>(out.text.size());
    if (!split_) {
      out.splits.push_back({at, end});
      continue;
    }
    // SplitDelimiterBehavior::MergedWithNext: each replacement starts a split.
    uint32_t start = at;
    for (uint32_t i = at + 1; i < end; ++i) {
      if (out.text[i].c != replacement_) continue;
      out.splits.push_back({start, i});
      start = i;
    }
    out.splits.push_back({start, end});
  }
  p = std::move(out);
}

}  // namespace encore::tok
