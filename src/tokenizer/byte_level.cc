#include "tokenizer/byte_level_stages.h"

#include "tokenizer/byte_level.h"

namespace encore::tok {
namespace {

enum Class : uint8_t { kOther, kLetter, kNumber, kSpace };

Class class_of(char32_t c) {
  if (is_regex_letter(c)) return kLetter;
  if (is_regex_number(c)) return kNumber;
  if (is_regex_space(c)) return kSpace;
  return kOther;
}

// Appends the byte-level characters of text[begin, end) to `out`: each UTF-8 byte of a
// character becomes its alphabet character, with the character's span.
void append_bytes(const NText& text, size_t begin, size_t end, NText& out) {
  char buf[4];
  for (size_t i = begin; i < end; ++i) {
    const NChar& ch = text[i];
    if (ch.c < 0x80) {
      out.push_back({kByteAlphabet.to_char[ch.c], ch.begin, ch.end});
      continue;
    }
    std::string s;
    append_utf8(ch.c, s);
    const size_t n = s.size();
    for (size_t k = 0; k < n; ++k) buf[k] = s[k];
    for (size_t k = 0; k < n; ++k)
      out.push_back({kByteAlphabet.to_char[static_cast<unsigned char>(buf[k])], ch.begin, ch.end});
  }
}

}  // namespace

// The end of the match of GPT-2's pattern at `i` (Oniguruma, leftmost alternative first):
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t gpt2_match_end(const char32_t* c, const uint8_t* cls, size_t i, size_t e) {
  if (c[i] == '\'' && i + 1 < e) {
    const char32_t a = c[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < e) {
      const char32_t b = c[i + 2];
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
  }
  size_t j = i;
  if (c[i] == ' ' && i + 1 < e && cls[i + 1] != kSpace) ++j;  // the optional space
  const uint8_t k = cls[j];
  if (k != kSpace) {
    ++j;
    while (j < e && cls[j] == k) ++j;
    return j;
  }
  // \s+(?!\S) backtracks to leave one space before a non-space; else \s+.
  while (j < e && cls[j] == kSpace) ++j;
  if (j == e) return j;
  return j - i >= 2 ? j - 1 : i + 1;
}

void ByteLevelPreTokenizer::pre_tokenize(PreTokenized& p) const {
  PreTokenized out;
  out.text.reserve(p.text.size() + p.text.size() / 4 + 8);
  out.splits.reserve(p.splits.size() * 2);
  NText seg;
  std::u32string chars;
  std::vector<uint8_t> cls;
  for (const Split& s : p.splits) {
    if (s.id >= 0 || s.whole) {
      const auto at = static_cast<uint32_t>(out.text.size());
      out.text.insert(out.text.end(), p.text.begin() + s.begin, p.text.begin() + s.end);
      out.splits.push_back({at, static_cast<uint32_t>(out.text.size()), s.whole, s.id});
      continue;
    }
    seg.clear();
    if (add_prefix_space_ && p.text[s.begin].c != ' ') {
      const NChar& first = p.text[s.begin];
      seg.push_back({' ', first.begin, first.end});  // NormalizedString::prepend
    }
    seg.insert(seg.end(), p.text.begin() + s.begin, p.text.begin() + s.end);
    auto emit = [&](size_t b, size_t e) {
      const auto at = static_cast<uint32_t>(out.text.size());
      append_bytes(seg, b, e, out.text);
      out.splits.push_back({at, static_cast<uint32_t>(out.text.size())});
    };
    if (!use_regex_) {
      emit(0, seg.size());
      continue;
    }
    chars.resize(seg.size());
    cls.resize(seg.size());
    for (size_t i = 0; i < seg.size(); ++i) chars[i] = seg[i].c, cls[i] = class_of(seg[i].c);
    for (size_t i = 0; i < seg.size();) {
      const size_t j = gpt2_match_end(chars.data(), cls.data(), i, seg.size());
      emit(i, j);
      i = j;
    }
  }
  p = std::move(out);
}

void ByteLevelNormalizer::normalize(NText& text) const {
  NText out;
  out.reserve(text.size() + text.size() / 4);
  append_bytes(text, 0, text.size(), out);
  text.swap(out);
}

}  // namespace encore::tok
