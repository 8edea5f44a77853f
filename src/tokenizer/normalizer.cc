#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/precompiled.h"

namespace encore::tok {

void clean_text(NText& text, TokenizerFlavour f) {
  size_t w = 0;
  for (size_t r = 0; r < text.size(); ++r) {
    NChar ch = text[r];
    if (ch.c == 0 || ch.c == 0xFFFD || is_control(ch.c, f)) continue;
    if (is_whitespace(ch.c, f)) ch.c = ' ';
    text[w++] = ch;
  }
  text.resize(w);
}

void space_chinese_chars(NText& text, TokenizerFlavour f) {
  size_t extra = 0;
  for (const auto& ch : text) extra += is_chinese_char(ch.c, f) ? 2 : 0;
  if (extra == 0) return;
  NText out;
  out.reserve(text.size() + extra);
  for (const auto& ch : text) {
    if (is_chinese_char(ch.c, f)) {
      out.push_back({' ', ch.begin, ch.end});
      out.push_back(ch);
      out.push_back({' ', ch.begin, ch.end});
    } else {
      out.push_back(ch);
    }
  }
  text.swap(out);
}

void strip_accents(NText& text, TokenizerFlavour f) {
  NText out;
  out.reserve(text.size());
  std::u32string buf;
  for (const auto& ch : text) {
    buf.clear();
    append_nfd(ch.c, f, buf);
    for (char32_t c : buf) out.push_back({c, ch.begin, ch.end});
  }
  canonical_reorder(out, f);
  size_t w = 0;
  for (size_t r = 0; r < out.size(); ++r) {
    if (!is_nonspacing_mark(out[r].c, f)) out[w++] = out[r];
  }
  out.resize(w);
  text.swap(out);
}

void lowercase(NText& text, TokenizerFlavour f) {
  std::u32string buf;
  bool grows = false;
  for (auto& ch : text) {
    if (ch.c < 0x80) {
      if (ch.c >= 'A' && ch.c <= 'Z') ch.c += 32;
      continue;
    }
    if (ch.c == 0x130) {
      grows = true;
      continue;
    }
    buf.clear();
    append_lower(ch.c, f, buf);
    ch.c = buf[0];
  }
  if (!grows) return;
  NText out;
  out.reserve(text.size() + 16);
  for (const auto& ch : text) {
    if (ch.c == 0x130) {
      buf.clear();
      append_lower(ch.c, f, buf);
      for (char32_t c : buf) out.push_back({c, ch.begin, ch.end});
    } else {
      out.push_back(ch);
    }
  }
  text.swap(out);
}

void python_lower_token(const NText& in, size_t begin, size_t end, TokenizerFlavour f,
                        NText& out) {
  std::u32string buf;
  for (size_t i = begin; i < end; ++i) {
    const NChar& ch = in[i];
    if (ch.c == 0x3A3) {
      out.push_back({is_final_sigma(in, begin, end, i, f) ? char32_t{0x3C2} : char32_t{0x3C3},
                     ch.begin, ch.end});
      continue;
    }
    buf.clear();
    append_lower(ch.c, f, buf);
    for (char32_t c : buf) out.push_back({c, ch.begin, ch.end});
  }
}

void nfc(NText& text, TokenizerFlavour f) {
  // Cheap exit: pure ASCII and Latin-1 letters without marks are already NFC.
  bool simple = true;
  for (const auto& ch : text) {
    if (ch.c >= 0x300) {
      simple = false;
      break;
    }
  }
  if (simple) return;
  NText out;
  out.reserve(text.size());
  std::u32string unit;
  NText decomposed;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i + 1;
    while (j < text.size() && !is_composition_boundary(text[j].c)) ++j;
    decomposed.clear();
    std::u32string buf;
    for (size_t k = i; k < j; ++k) {
      buf.clear();
      append_nfd(text[k].c, f, buf);
      for (char32_t c : buf) decomposed.push_back({c, text[k].begin, text[k].end});
    }
    canonical_reorder(decomposed, f);
    unit.clear();
    for (const auto& ch : decomposed) unit.push_back(ch.c);
    compose(unit);
    const uint32_t begin = text[i].begin;
    const uint32_t end = text[j - 1].end;
    if (j - i == 1 && unit.size() == 1) {
      out.push_back({unit[0], begin, end});
    } else {
      for (char32_t c : unit) out.push_back({c, begin, end});
    }
    i = j;
  }
  text.swap(out);
}

void StripNormalizer::normalize(NText& text) const {
  const auto f = TokenizerFlavour::HfFast;
  size_t b = 0, e = text.size();
  if (left_)
    while (b < e && is_split_space(text[b].c, f)) ++b;
  if (right_)
    while (e > b && is_split_space(text[e - 1].c, f)) --e;
  if (b == 0 && e == text.size()) return;
  text.erase(text.begin() + static_cast<std::ptrdiff_t>(e), text.end());
  text.erase(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(b));
}

void StripAccentsNormalizer::normalize(NText& text) const {
  size_t w = 0;
  for (size_t r = 0; r < text.size(); ++r) {
    if (is_hf_combining_mark(text[r].c)) continue;
    text[w++] = text[r];
  }
  text.resize(w);
}

namespace {

// The canonical composite of a starter and a following code point, or 0.
char32_t compose_pair(char32_t a, char32_t b) {
  // Hangul LV and LVT (Unicode 3.12).
  if (a >= 0x1100 && a < 0x1113 && b >= 0x1161 && b < 0x1176) return 0xAC00 + ((a - 0x1100) * 21 + (b - 0x1161)) * 28;
  if (a >= 0xAC00 && a < 0xD7A4 && (a - 0xAC00) % 28 == 0 && b > 0x11A7 && b < 0x11C3) return a + (b - 0x11A7);
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  const auto n = utf8proc_normalize_utf32(buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  return n == 1 ? static_cast<char32_t>(buf[0]) : 0;
}

}  // namespace

namespace {

struct Unit {
  char32_t c;
  int change;
  int ccc;
};

// unicode-normalization-alignments' decomposition: the first code point of each replaces
// its source (change 0), the others are insertions (+1); canonical ordering moves the
// changes with their code points (so spans are later assigned by position).
std::vector<Unit> decompose(const NText& text, bool compat) {
  const auto f = TokenizerFlavour::HfFast;
  std::vector<Unit> units;
  units.reserve(text.size() + 8);
  std::u32string buf;
  for (const auto& ch : text) {
    buf.clear();
    if (compat)
      append_hf_nfkd(ch.c, buf);
    else
      append_nfd(ch.c, f, buf);
    for (size_t k = 0; k < buf.size(); ++k) units.push_back({buf[k], k == 0 ? 0 : 1, hf_composition_class(buf[k])});
  }
  // Canonical order: stable sort of each run of non-starters, changes moving along.
  for (size_t i = 0; i < units.size();) {
    if (units[i].ccc == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < units.size() && units[j].ccc != 0) ++j;
    std::stable_sort(units.begin() + static_cast<std::ptrdiff_t>(i), units.begin() + static_cast<std::ptrdiff_t>(j),
                     [](const Unit& a, const Unit& b) { return a.ccc < b.ccc; });
    i = j;
  }
  return units;
}

bool already_normal(const NText& text, bool compat) {
  for (const auto& ch : text)
    if (ch.c >= (compat ? 0xA0u : 0xC0u)) return false;
  return true;
}

}  // namespace

void DecomposeNormalizer::normalize(NText& text) const {
  if (already_normal(text, compat_)) return;
  std::vector<std::pair<char32_t, int>> changes;
  for (const Unit& u : decompose(text, compat_)) changes.emplace_back(u.c, u.change);
  apply_changes(text, changes);
}

void ComposeNormalizer::normalize(NText& text) const {
  if (already_normal(text, compat_)) return;
  const std::vector<Unit> units = decompose(text, compat_);
  // Canonical composition.
  std::vector<std::pair<char32_t, int>> changes;
  changes.reserve(units.size());
  long starter = -1;
  int last_class = -1;  // class of the last code point kept since the starter (-1: none)
  for (const Unit& u : units) {
    if (starter >= 0 && (last_class == -1 || last_class < u.ccc) && !(last_class != -1 && u.ccc == 0)) {
      if (const char32_t comp = compose_pair(changes[static_cast<size_t>(starter)].first, u.c)) {
        changes[static_cast<size_t>(starter)].first = comp;
        changes[static_cast<size_t>(starter)].second += u.change - 1;
        continue;
      }
    }
    if (u.ccc == 0) {
      starter = static_cast<long>(changes.size());
      last_class = -1;
    } else {
      last_class = u.ccc;
    }
    changes.emplace_back(u.c, u.change);
  }
  apply_changes(text, changes);
}

PrependNormalizer::PrependNormalizer(const std::string& prepend) {
  NText t;
  decode_utf8(prepend, 0, t);
  for (const auto& c : t) prepend_.push_back(c.c);
}

void PrependNormalizer::normalize(NText& text) const {
  if (text.empty() || prepend_.empty()) return;
  NText out;
  out.reserve(text.size() + prepend_.size());
  for (char32_t c : prepend_) out.push_back({c, text[0].begin, text[0].end});
  out.insert(out.end(), text.begin(), text.end());
  text.swap(out);
}

void BertNormalizer::normalize(NText& text) const {
  const auto f = TokenizerFlavour::HfFast;
  if (clean_text_) clean_text(text, f);
  if (chinese_) space_chinese_chars(text, f);
  if (strip_) strip_accents(text, f);
  if (lower_) lowercase(text, f);
}

}  // namespace encore::tok
