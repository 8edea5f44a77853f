#include "tokenizer/replace.h"

namespace encore::tok {

ReplaceNormalizer::ReplaceNormalizer(std::unique_ptr<Pattern> pattern, const std::string& content)
    : pattern_(std::move(pattern)) {
  NText t;
  decode_utf8(content, 0, t);
  for (const auto& c : t) content_.push_back(c.c);
}

void ReplaceNormalizer::normalize(NText& text) const {
  if (text.empty()) return;
  std::vector<Pattern::Piece> pieces;
  pattern_->find_matches(text, 0, static_cast<uint32_t>(text.size()), pieces);
  bool any = false;
  for (const auto& p : pieces) any |= p.match;
  if (!any) return;
  NText out;
  out.reserve(text.size());
  for (const auto& p : pieces) {
    if (!p.match) {
      out.insert(out.end(), text.begin() + p.begin, text.begin() + p.end);
      continue;
    }
    // Inserted characters share the alignment of the byte before them: the match's last
    // code point, or the one before an empty match ((0, 0) at the very start).
    NChar span{0, text[0].begin, text[0].begin};
    if (p.end > 0) span = text[p.end - 1];
    for (char32_t c : content_) out.push_back({c, span.begin, span.end});
  }
  text.swap(out);
}

}  // namespace encore::tok
