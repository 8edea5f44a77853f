// tokenizers' ByteLevel pre-tokenizer and normalizer (pre_tokenizers/byte_level.rs,
// normalizers/byte_level.rs): text becomes GPT-2's byte-level alphabet (byte_level.h).
// The pre-tokenizer first puts a space before every split that lacks one
// (add_prefix_space) and splits with GPT-2's pattern (use_regex), matched by a
// hand-written splitter equal to the regex (gpt2_match_end; see docs/tokenizer.md).
#pragma once

#include <cstdint>

#include "tokenizer/stages.h"

namespace encore::tok {

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void pre_tokenize(PreTokenized& p) const override;

 private:
  bool add_prefix_space_, use_regex_;
};

class ByteLevelNormalizer : public Normalizer {
 public:
  void normalize(NText& text) const override;
};

// The end of the GPT-2 pattern's match at chars[i] (cls: 0 other, 1 \p{L}, 2 \p{N}, 3 \s).
size_t gpt2_match_end(const char32_t* chars, const uint8_t* cls, size_t i, size_t end);

}  // namespace encore::tok
