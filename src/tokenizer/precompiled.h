// tokenizers' Precompiled normalizer (normalizers/precompiled.rs on the spm_precompiled
// crate): SentencePiece's compiled character map, a double-array trie over UTF-8 keys
// whose values index a blob of NUL-terminated replacement strings. Applied per extended
// grapheme cluster shorter than 6 bytes, else per code point, taking the *first* (shortest)
// prefix match of the trie, and aligned as tokenizers aligns it (apply_changes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/stages.h"

namespace encore::tok {

class Precompiled : public Normalizer {
 public:
  // `charsmap`: the decoded bytes of precompiled_charsmap; throws encore::Error when they
  // are not a trie size, a trie and a UTF-8 blob.
  explicit Precompiled(std::string_view charsmap);
  void normalize(NText& text) const override;
  // The replacement of the first key of the trie that prefixes `chunk`, if any.
  std::optional<std::string_view> transform(std::string_view chunk) const;

 private:
  std::vector<uint32_t> trie_;
  std::string normalized_;
  bool ascii_mapped_[128] = {};  // transform() of the ASCII code point finds a key
};

// NormalizedString::transform (tokenizer/normalizer.rs transform_range on the whole text):
// each (char, change) replaces the next code point of `text` (change <= 0, and skips
// -change more) or is inserted (change > 0), taking the span of the code point it
// replaces, or of the last one consumed before it.
void apply_changes(NText& text, const std::vector<std::pair<char32_t, int>>& changes);

// Decodes base64 (standard alphabet, padding optional); throws encore::Error.
std::string base64_decode(std::string_view text);

}  // namespace encore::tok
