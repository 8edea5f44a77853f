#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

#include "encore/error.h"

namespace encore::tok {
namespace {

#include "tokenizer/hf_fast_unicode_tables.inc"

template <size_t N>
bool contains(const char32_t (&table)[N], char32_t c) {
  return std::binary_search(std::begin(table), std::end(table), c);
}

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool is_ascii_punct(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

bool is_unicode_punct(utf8proc_category_t cat) {
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_z(utf8proc_category_t cat) {
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// Unicode's White_Space property: the Z categories plus U+0009..U+000D and U+0085.
bool is_white_space_property(char32_t c) {
  return (c >= 9 && c <= 13) || c == 0x85 || is_z(category(c));
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    char32_t min;
    char32_t c;
    if ((b & 0xE0) == 0xC0) {
      len = 2, min = 0x80, c = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, min = 0x800, c = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, c = b & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

void decode_utf8(std::string_view text, uint32_t base, NText& out) {
  size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    fail("invalid UTF-8 at byte ", static_cast<size_t>(base) + bad, " (byte 0x", std::hex,
         static_cast<unsigned>(static_cast<unsigned char>(text[bad])), ")");
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out.reserve(out.size() + n);
  size_t i = 0;
  while (i < n) {
    unsigned char b = s[i];
    char32_t c;
    size_t len;
    if (b < 0x80) {
      c = b, len = 1;
    } else if ((b & 0xE0) == 0xC0) {
      c = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu), len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      c = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu), len = 3;
    } else {
      c = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
          (s[i + 3] & 0x3Fu);
      len = 4;
    }
    out.push_back({c, static_cast<uint32_t>(base + i), static_cast<uint32_t>(base + i + len)});
    i += len;
  }
}

void append_utf8(char32_t c, std::string& out) {
  unsigned char buf[4];
  auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string to_utf8(const char32_t* chars, size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) append_utf8(chars[i], s);
  return s;
}

bool is_control(char32_t c, TokenizerFlavour f) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  auto cat = category(c);
  switch (f) {
    case TokenizerFlavour::Google:  // tokenization.py: Cc, Cf
      return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
    case TokenizerFlavour::HfSlow:  // transformers: any category starting with "C"
      return cat == UTF8PROC_CATEGORY_CN || cat >= UTF8PROC_CATEGORY_CC;
    case TokenizerFlavour::HfFast: {  // unicode_categories is_other(): Cc Cf Co Cs
      bool other = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                   cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CS;
      return other != contains(kFastOtherFlip, c);
    }
  }
  return false;
}

bool is_whitespace(char32_t c, TokenizerFlavour f) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (f == TokenizerFlavour::HfFast) return is_white_space_property(c);  // char::is_whitespace
  return category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_split_space(char32_t c, TokenizerFlavour f) {
  if (f == TokenizerFlavour::HfFast) return is_white_space_property(c);
  // Python str.split(): category Zs or bidi class WS, B or S.
  return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || is_z(category(c));
}

bool is_punctuation(char32_t c, TokenizerFlavour f) {
  if (is_ascii_punct(c)) return true;
  bool punct = is_unicode_punct(category(c));
  if (f == TokenizerFlavour::HfFast) return punct != contains(kFastPunctFlip, c);
  return punct;
}

bool is_chinese_char(char32_t c, TokenizerFlavour f) {
  // The references' own ranges; `tokenizers` starts the sixth at 0x2B920, Python at 0x2B820.
  const char32_t sixth = f == TokenizerFlavour::HfFast ? 0x2B920 : 0x2B820;
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= sixth && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c, TokenizerFlavour f) {
  bool mn = category(c) == UTF8PROC_CATEGORY_MN;
  if (f == TokenizerFlavour::HfFast) return mn != contains(kFastMnFlip, c);
  return mn;
}

int combining_class(char32_t c) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

void append_nfd(char32_t c, TokenizerFlavour f, std::u32string& out) {
  if (c < 0xC0 || (f == TokenizerFlavour::HfFast && contains(kFastNoDecompose, c))) {
    out.push_back(c);
    return;
  }
  utf8proc_int32_t buf[32];
  int last_boundclass = 0;
  auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                   UTF8PROC_DECOMPOSE, &last_boundclass);
  ENCORE_CHECK(n > 0 && n <= 32, "utf8proc could not decompose U+", std::hex,
               static_cast<uint32_t>(c));
  for (utf8proc_ssize_t i = 0; i < n; ++i) out.push_back(static_cast<char32_t>(buf[i]));
}

void append_lower(char32_t c, TokenizerFlavour f, std::u32string& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c == 0x130) {  // SpecialCasing.txt: the only unconditional multi-code-point lowercase
    out.push_back('i');
    out.push_back(0x307);
    return;
  }
  if (f == TokenizerFlavour::HfFast) {
    auto it = std::lower_bound(std::begin(kFastLower), std::end(kFastLower), c,
                               [](const FastLower& e, char32_t v) { return e.from < v; });
    if (it != std::end(kFastLower) && it->from == c) {
      out.push_back(it->to);
      return;
    }
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

namespace {

bool is_cased(char32_t c) {
  auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  auto v = static_cast<utf8proc_int32_t>(c);
  return utf8proc_islower(v) || utf8proc_isupper(v);
}

// Case_Ignorable (Unicode 3.13): Mn Me Cf Lm Sk, or Word_Break MidLetter, MidNumLet or
// Single_Quote (the code points below, from the standard's definition).
bool is_case_ignorable(char32_t c) {
  switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default:
      break;
  }
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
         cat == UTF8PROC_CATEGORY_SK;
}

}  // namespace

// CPython unicodeobject.c handle_capital_sigma().
bool is_final_sigma(const NText& chars, size_t begin, size_t end, size_t i) {
  size_t j = i;
  bool final_sigma = false;
  while (j > begin) {
    --j;
    if (!is_case_ignorable(chars[j].c)) {
      final_sigma = is_cased(chars[j].c);
      break;
    }
  }
  if (!final_sigma) return false;
  for (j = i + 1; j < end; ++j) {
    if (!is_case_ignorable(chars[j].c)) return !is_cased(chars[j].c);
  }
  return true;
}

void canonical_reorder(NText& text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (text[i].c < 0x300 || combining_class(text[i].c) == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && text[j].c >= 0x300 && combining_class(text[j].c) != 0) ++j;
    if (j - i > 1) {
      std::stable_sort(text.begin() + static_cast<std::ptrdiff_t>(i),
                       text.begin() + static_cast<std::ptrdiff_t>(j),
                       [](const NChar& a, const NChar& b) {
                         return combining_class(a.c) < combining_class(b.c);
                       });
    }
    i = j;
  }
}

void compose(std::u32string& run) {
  if (run.empty()) return;
  static_assert(sizeof(utf8proc_int32_t) == sizeof(char32_t));
  auto n = utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(run.data()),
                                    static_cast<utf8proc_ssize_t>(run.size()),
                                    static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  ENCORE_CHECK(n >= 0, "utf8proc composition failed");
  run.resize(static_cast<size_t>(n));
}

bool is_composition_boundary(char32_t c) {
  if (c < 0x300) return true;
  if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2)) return false;  // Hangul V, T
  auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME)
    return false;
  return combining_class(c) == 0;
}

}  // namespace encore::tok
