// The normalization steps of the three references, each keeping every code point's byte
// span in the input (a code point produced from another inherits its span, as
// `tokenizers`' NormalizedString alignments do).
#pragma once

#include "encore/tokenizer.h"
#include "tokenizer/stages.h"
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

// tokenizers' BertNormalizer (normalizers/bert.rs), configured by the BERT fields of
// TokenizerConfig: clean_text, handle_chinese_chars, strip_accents, lowercase.
class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(const TokenizerConfig& config)
      : clean_text_(config.clean_text), chinese_(config.handle_chinese_chars),
        strip_(config.strip_accents.value_or(config.lowercase)), lower_(config.lowercase) {}
  void normalize(NText& text) const override;

 private:
  bool clean_text_, chinese_, strip_, lower_;
};

// tokenizers' Strip: drops leading and/or trailing white space (Rust char::is_whitespace);
// the other code points keep their spans.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NText& text) const override;

 private:
  bool left_, right_;
};

// tokenizers' StripAccents: drops combining marks (Mn, Mc, Me).
class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(NText& text) const override;
};

// tokenizers' NFD and NFKD: each code point's decomposition takes its span, then canonical
// reordering moves code points with their spans.
class DecomposeNormalizer : public Normalizer {
 public:
  explicit DecomposeNormalizer(bool compatibility) : compat_(compatibility) {}
  void normalize(NText& text) const override;

 private:
  bool compat_;
};

// tokenizers' NFC and NFKC (unicode-normalization-alignments): decomposition, canonical
// order, composition; a composed code point is charged the code points it absorbed, and
// spans are then assigned by position (apply_changes), as the reference does.
class ComposeNormalizer : public Normalizer {
 public:
  explicit ComposeNormalizer(bool compatibility) : compat_(compatibility) {}
  void normalize(NText& text) const override;

 private:
  bool compat_;
};

// tokenizers' Prepend: `prepend` before a non-empty text, with the span of its first code
// point (NormalizedString::prepend).
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(const std::string& prepend);
  void normalize(NText& text) const override;

 private:
  std::u32string prepend_;
};

// tokenizers' Lowercase (Rust char::to_lowercase per code point).
class Lowercase : public Normalizer {
 public:
  void normalize(NText& text) const override { lowercase(text, TokenizerFlavour::HfFast); }
};

}  // namespace encore::tok
