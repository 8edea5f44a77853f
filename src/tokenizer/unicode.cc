#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>
#include <span>

#include "encore/error.h"

namespace encore::tok {
namespace {

// Where a reference's own Unicode data disagrees with utf8proc's, by code point. Each
// flavour family has one set, generated from the reference itself by
// tools/reference/make_tokenizer_fixtures.py unicode-tables (every table sorted, ranges
// inclusive and disjoint).
struct Range {
  char32_t lo;
  char32_t hi;
};
struct CategoryRange {
  char32_t lo;
  char32_t hi;
  utf8proc_category_t category;
};
struct ClassRange {
  char32_t lo;
  char32_t hi;
  uint8_t combining_class;
};
struct LowerMap {
  char32_t from;
  char32_t to;
};
struct UnicodeTables {
  std::span<const CategoryRange> category;  // the reference's general category
  std::span<const Range> control_flip;      // its control test differs from the category's
  std::span<const Range> punct_flip;        // its punctuation test differs from P*
  std::span<const Range> mn_flip;           // its nonspacing-mark test differs from Mn
  std::span<const Range> no_decompose;      // its NFD leaves the code point alone
  std::span<const ClassRange> combining_class;  // its canonical combining class
  std::span<const LowerMap> lower;              // its lowercase mapping
  std::span<const Range> cased_flip;            // Cased (Final_Sigma) differs
  std::span<const Range> case_ignorable_flip;   // Case_Ignorable (Final_Sigma) differs
};

// hf: the `tokenizers` wheel (Rust crates' tables).
#include "tokenizer/hf_fast_unicode_tables.inc"
// hf-slow, google: the Python running the references (unicodedata, str.lower()).
#include "tokenizer/python_unicode_tables.inc"

template <class T>
constexpr bool sorted_disjoint(std::span<const T> t) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].lo > t[i].hi || (i > 0 && t[i - 1].hi >= t[i].lo)) return false;
  }
  return true;
}
template <class T>
constexpr bool sorted_map(std::span<const T> t) {
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i - 1].from >= t[i].from) return false;
  }
  return true;
}
constexpr bool valid(const UnicodeTables& t) {
  return sorted_disjoint(t.category) && sorted_disjoint(t.control_flip) &&
         sorted_disjoint(t.punct_flip) && sorted_disjoint(t.mn_flip) &&
         sorted_disjoint(t.no_decompose) && sorted_disjoint(t.combining_class) &&
         sorted_map(t.lower) && sorted_disjoint(t.cased_flip) &&
         sorted_disjoint(t.case_ignorable_flip);
}
static_assert(valid(kHfFastTables) && valid(kPythonTables));

const UnicodeTables& tables(TokenizerFlavour f) {
  return f == TokenizerFlavour::HfFast ? kHfFastTables : kPythonTables;
}

// The entry of `table` whose range holds `c`, or nullptr.
template <class T>
const T* find(std::span<const T> table, char32_t c) {
  if (table.empty() || c < table.front().lo) return nullptr;
  auto it = std::upper_bound(table.begin(), table.end(), c,
                             [](char32_t v, const T& r) { return v < r.lo; });
  --it;
  return c <= it->hi ? &*it : nullptr;
}

bool contains(std::span<const Range> table, char32_t c) { return find(table, c) != nullptr; }

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// The general category as the reference of `t` sees it.
utf8proc_category_t category(char32_t c, const UnicodeTables& t) {
  if (const auto* r = find(t.category, c)) return r->category;
  return category(c);
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
  const auto& t = tables(f);
  auto cat = category(c, t);
  bool control = false;
  switch (f) {
    case TokenizerFlavour::Google:  // tokenization.py: Cc, Cf
      control = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
      break;
    case TokenizerFlavour::HfSlow:  // transformers: any category starting with "C"
      control = cat == UTF8PROC_CATEGORY_CN || cat >= UTF8PROC_CATEGORY_CC;
      break;
    case TokenizerFlavour::HfFast:  // unicode_categories is_other(): Cc Cf Co Cs
      control = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CS;
      break;
  }
  return control != contains(t.control_flip, c);
}

bool is_whitespace(char32_t c, TokenizerFlavour f) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (f == TokenizerFlavour::HfFast) return is_white_space_property(c);  // char::is_whitespace
  return category(c, tables(f)) == UTF8PROC_CATEGORY_ZS;
}

bool is_split_space(char32_t c, TokenizerFlavour f) {
  if (f == TokenizerFlavour::HfFast) return is_white_space_property(c);
  // Python str.split(): category Zs or bidi class WS, B or S (the generator checks this
  // formula against str.isspace() for every code point).
  if ((c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F) || c == 0x85) return true;
  return is_z(category(c, tables(f)));
}

bool is_punctuation(char32_t c, TokenizerFlavour f) {
  if (is_ascii_punct(c)) return true;
  const auto& t = tables(f);
  return is_unicode_punct(category(c, t)) != contains(t.punct_flip, c);
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
  const auto& t = tables(f);
  return (category(c, t) == UTF8PROC_CATEGORY_MN) != contains(t.mn_flip, c);
}

int combining_class(char32_t c, TokenizerFlavour f) {
  if (const auto* r = find(tables(f).combining_class, c)) return r->combining_class;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

void append_nfd(char32_t c, TokenizerFlavour f, std::u32string& out) {
  if (c < 0xC0 || contains(tables(f).no_decompose, c)) {
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
  const auto lower = tables(f).lower;
  auto it = std::lower_bound(lower.begin(), lower.end(), c,
                             [](const LowerMap& e, char32_t v) { return e.from < v; });
  if (it != lower.end() && it->from == c) {
    out.push_back(it->to);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

namespace {

bool is_cased(char32_t c, const UnicodeTables& t) {
  auto cat = category(c, t);
  auto v = static_cast<utf8proc_int32_t>(c);
  bool cased = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
               cat == UTF8PROC_CATEGORY_LT || utf8proc_islower(v) || utf8proc_isupper(v);
  return cased != contains(t.cased_flip, c);
}

// Case_Ignorable (Unicode 3.13): Mn Me Cf Lm Sk, or Word_Break MidLetter, MidNumLet or
// Single_Quote (the code points below, from the standard's definition).
bool is_case_ignorable(char32_t c, const UnicodeTables& t) {
  bool ignorable = false;
  switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      ignorable = true;
      break;
    default: {
      auto cat = category(c, t);
      ignorable = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
                  cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
                  cat == UTF8PROC_CATEGORY_SK;
      break;
    }
  }
  return ignorable != contains(t.case_ignorable_flip, c);
}

}  // namespace

// CPython unicodeobject.c handle_capital_sigma().
bool is_final_sigma(const NText& chars, size_t begin, size_t end, size_t i, TokenizerFlavour f) {
  const auto& t = tables(f);
  size_t j = i;
  bool final_sigma = false;
  while (j > begin) {
    --j;
    if (!is_case_ignorable(chars[j].c, t)) {
      final_sigma = is_cased(chars[j].c, t);
      break;
    }
  }
  if (!final_sigma) return false;
  for (j = i + 1; j < end; ++j) {
    if (!is_case_ignorable(chars[j].c, t)) return !is_cased(chars[j].c, t);
  }
  return true;
}

void canonical_reorder(NText& text, TokenizerFlavour f) {
  size_t i = 0;
  const size_t n = text.size();
  auto ccc = [f](char32_t c) { return c < 0x300 ? 0 : combining_class(c, f); };
  while (i < n) {
    if (ccc(text[i].c) == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && ccc(text[j].c) != 0) ++j;
    if (j - i > 1) {
      std::stable_sort(text.begin() + static_cast<std::ptrdiff_t>(i),
                       text.begin() + static_cast<std::ptrdiff_t>(j),
                       [&ccc](const NChar& a, const NChar& b) { return ccc(a.c) < ccc(b.c); });
    }
    i = j;
  }
}

// Needs no table: where Python's combining class differs from utf8proc's, the code point
// is unassigned for Python (the generator checks), and transformers' _clean_text drops
// those before its NFC.
void compose(std::u32string& run) {
  if (run.empty()) return;
  static_assert(sizeof(utf8proc_int32_t) == sizeof(char32_t));
  auto n = utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(run.data()),
                                    static_cast<utf8proc_ssize_t>(run.size()),
                                    static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  ENCORE_CHECK(n >= 0, "utf8proc composition failed");
  run.resize(static_cast<size_t>(n));
}

// From utf8proc's data for every flavour (NFC is for HfSlow only, after _clean_text has
// dropped the code points Python does not know).
bool is_composition_boundary(char32_t c) {
  if (c < 0x300) return true;
  if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2)) return false;  // Hangul V, T
  auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME)
    return false;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class == 0;
}

}  // namespace encore::tok

namespace encore::tok {

namespace {

enum RegexClass : uint8_t { kOther, kLetter, kNumber, kSpace };
struct RegexClassRange {
  char32_t lo;
  char32_t hi;
  RegexClass cls;
};
// Where the tokenizers wheel's Oniguruma (Unicode 16) and utf8proc (15.0) disagree.
#include "tokenizer/onig_unicode_tables.inc"
static_assert(sorted_disjoint(std::span<const RegexClassRange>(kOnigClasses)));

// The class of `c` in GPT-2's pattern when the table names it, else -1.
int table_class(char32_t c) {
  if (const auto* r = find(std::span<const RegexClassRange>(kOnigClasses), c)) return r->cls;
  return -1;
}

}  // namespace

#include "tokenizer/hf_normalizer_tables.inc"

bool grapheme_break(char32_t before, char32_t c, int32_t* state) {
  const bool brk = utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(before),
                                                    static_cast<utf8proc_int32_t>(c), state);
  return brk != contains(kHfGraphemeBreakFlip, c);
}

bool hf_regex_word_extra(char32_t c) { return contains(kHfRegexWordExtra, c); }

bool hf_is_numeric(char32_t c) {
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO) != contains(kHfNumericFlip, c);
}

int hf_composition_class(char32_t c) {
  if (c < 0x300 || contains(kHfNoCombiningClass, c)) return 0;
  return combining_class(c, TokenizerFlavour::HfFast);
}

bool is_hf_combining_mark(char32_t c) {
  if (c < 0x300) return false;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  const bool mark = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
  return mark != contains(kHfCombiningMarkFlip, c);
}

void append_hf_nfkd(char32_t c, std::u32string& out) {
  if (c < 0xA0 || contains(kHfNoCompatDecompose, c)) {
    out.push_back(c);
    return;
  }
  utf8proc_int32_t d[32];
  int last = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), d, 32,
                                         static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), &last);
  if (n <= 0 || n > 32) {
    out.push_back(c);
    return;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out.push_back(static_cast<char32_t>(d[i]));
}

// \p{L}, \p{N} and \s of Oniguruma as the tokenizers wheel has them (make_tok_models.py
// regex-tables finds them by running its GPT-2 pattern on every code point).
bool is_regex_letter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  if (int k = table_class(c); k >= 0) return k == kLetter;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_regex_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  if (int k = table_class(c); k >= 0) return k == kNumber;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
}

bool is_regex_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
  if (int k = table_class(c); k >= 0) return k == kSpace;
  return c == 0x85 || is_split_space(c, TokenizerFlavour::HfFast);
}

std::string py_strip(const std::string& s) {
  NText t;
  decode_utf8(s, 0, t);
  size_t b = 0, e = t.size();
  while (b < e && is_split_space(t[b].c, TokenizerFlavour::Google)) ++b;
  while (e > b && is_split_space(t[e - 1].c, TokenizerFlavour::Google)) --e;
  if (b == e) return {};
  return s.substr(t[b].begin, t[e - 1].end - t[b].begin);
}

}  // namespace encore::tok
