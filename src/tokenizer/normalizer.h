// The normalization steps of the three references, each keeping every code point's byte
// span in the input (a code point produced from another inherits its span, as
// `tokenizers`' NormalizedString alignments do).
#pragma once

#include "encore/tokenizer.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

// Drops NUL, U+FFFD and control characters; whitespace becomes ' '.
void clean_text(NText& text, TokenizerFlavour f);
// Surrounds CJK ideographs with spaces.
void space_chinese_chars(NText& text, TokenizerFlavour f);
// NFD, canonical order, then drops nonspacing marks (Mn) of [begin, end).
void strip_accents(NText& text, TokenizerFlavour f);
// Full lowercase, code point by code point (no Final_Sigma context).
void lowercase(NText& text, TokenizerFlavour f);
// Python's str.lower() of one whitespace token [begin, end) of `in`, appended to `out`
// (with Final_Sigma: a word-final capital sigma becomes U+03C2).
void python_lower_token(const NText& in, size_t begin, size_t end, TokenizerFlavour f,
                        NText& out);
// NFC, computed per composition unit so that spans stay exact.
void nfc(NText& text, TokenizerFlavour f);

// The BertNormalizer of tokenizer.json.
void normalize_hf_fast(NText& text, const TokenizerConfig& config);

}  // namespace encore::tok
