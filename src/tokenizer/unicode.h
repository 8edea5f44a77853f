// Character classes and mappings of the three references, from utf8proc's Unicode data.
//
// The references ship their own Unicode tables; utf8proc is the only source here. Where a
// reference's tables disagree with utf8proc, a generated list of code points says so, one
// set per flavour family (struct UnicodeTables in unicode.cc), made from the reference
// itself by tools/reference/make_tokenizer_fixtures.py unicode-tables:
//  * hf_fast_unicode_tables.inc (HfFast): the `tokenizers` wheel's Rust crates
//    (unicode_categories and unicode-normalization-alignments, pinned to an old Unicode,
//    and Rust std's newer case tables);
//  * python_unicode_tables.inc (HfSlow, Google): the unicodedata, str.lower() and
//    str.split() of the Python that runs the references (3.11: Unicode 14.0, so the code
//    points new in 15.0 are unassigned there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "encore/tokenizer.h"

namespace encore::tok {

// One code point of normalized text and the byte span of the input it came from.
struct NChar {
  char32_t c;
  uint32_t begin;
  uint32_t end;
};
using NText = std::vector<NChar>;

// Decodes strict UTF-8 (no overlongs, surrogates or values above U+10FFFF) into `out`,
// with byte spans shifted by `base`. Throws encore::Error naming the byte offset.
void decode_utf8(std::string_view text, uint32_t base, NText& out);
void append_utf8(char32_t c, std::string& out);
std::string to_utf8(const char32_t* chars, size_t n);
// Offset of the first invalid byte, or npos.
size_t find_invalid_utf8(std::string_view text);

bool is_control(char32_t c, TokenizerFlavour f);      // dropped by clean_text
bool is_whitespace(char32_t c, TokenizerFlavour f);   // becomes ' ' in clean_text
bool is_split_space(char32_t c, TokenizerFlavour f);  // separates words
// Python str.strip(): without the whitespace str.isspace() names at either end.
std::string py_strip(const std::string& s);
bool is_punctuation(char32_t c, TokenizerFlavour f);
bool is_chinese_char(char32_t c, TokenizerFlavour f);
bool is_nonspacing_mark(char32_t c, TokenizerFlavour f);
int combining_class(char32_t c, TokenizerFlavour f);

// Canonical decomposition of one code point (not reordered).
void append_nfd(char32_t c, TokenizerFlavour f, std::u32string& out);
// Full lowercase of one code point without context (U+0130 gives two code points).
void append_lower(char32_t c, TokenizerFlavour f, std::u32string& out);
// Python's Final_Sigma context test for the capital sigma at `i` of `chars`.
bool is_final_sigma(const NText& chars, size_t begin, size_t end, size_t i,
                    TokenizerFlavour f);

// Sorts each run of non-starters by combining class (stable), as NFD requires.
void canonical_reorder(NText& text, TokenizerFlavour f);
// Composes an NFD-ordered run in place (utf8proc's NFC composition).
void compose(std::u32string& run);
// True when `c` starts a new NFC composition unit (nothing before it can combine).
bool is_composition_boundary(char32_t c);

}  // namespace encore::tok

namespace encore::tok {

// The classes of the regular expressions `tokenizers` compiles with Oniguruma (the GPT-2
// split of ByteLevel): \p{L}, \p{N} and \s, per Oniguruma's Unicode data.
bool is_regex_letter(char32_t c);
bool is_regex_number(char32_t c);
bool is_regex_space(char32_t c);

// tokenizers' StripAccents test (is_combining_mark: Mn, Mc, Me of its older Unicode) and
// its NFKD of one code point (not reordered).
bool is_hf_combining_mark(char32_t c);
// The canonical combining class the NFD/NFKD/NFC/NFKC normalizers order by
// (unicode-normalization-alignments' tables).
int hf_composition_class(char32_t c);
// \w of the Whitespace pre-tokenizer (Rust's regex crate, Unicode 16): word characters beyond
// utf8proc's L, M, Nd, Nl and Pc categories (generated table).
bool hf_regex_word_extra(char32_t c);
// char::is_numeric as the Digits pre-tokenizer has it (Rust's Unicode 16: Nd, Nl, No).
bool hf_is_numeric(char32_t c);
// An extended grapheme cluster boundary between `before` and `c` (utf8proc's rules, with
// unicode-segmentation's newer data where it differs; `state` as utf8proc keeps it).
bool grapheme_break(char32_t before, char32_t c, int32_t* state);
void append_hf_nfkd(char32_t c, std::u32string& out);

}  // namespace encore::tok
