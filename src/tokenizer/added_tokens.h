// Finding added tokens (such as [CLS] typed in the text) the way `tokenizers`'
// AddedVocabulary does: leftmost-longest, non-overlapping, honouring single_word, lstrip
// and rstrip.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

class AddedMatcher {
 public:
  struct Match {
    size_t begin;  // code point range of text, strip flags applied
    size_t end;
    int32_t id;
  };

  AddedMatcher() = default;
  // Keeps the tokens whose `normalized` flag equals `normalized`; `normalize` (may be
  // empty) rewrites their contents first, as tokenizers matches normalized tokens in
  // normalized text.
  AddedMatcher(const std::vector<AddedToken>& tokens, bool normalized,
               const std::function<void(NText&)>& normalize);

  bool empty() const { return tokens_.empty(); }
  std::vector<Match> find(const NText& text, size_t begin, size_t end) const;

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int32_t> terminal_{-1};  // node -> index into tokens_
};

}  // namespace encore::tok
