// Splitting normalized text into words: BertPreTokenizer (HfFast) and the word loop of
// BasicTokenizer.tokenize() (HfSlow, Google), which also lowercases and strips accents.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

// A word: a range of normalized code points. `whole` words skip WordPiece (never_split);
// `id` >= 0 marks an added token matched in the text.
struct Word {
  uint32_t begin;
  uint32_t end;
  bool whole = false;
  int32_t id = -1;
};

// BertPreTokenizer over text[begin, end): whitespace separates, punctuation stands alone.
void pre_tokenize_hf_fast(const NText& text, size_t begin, size_t end, std::vector<Word>& words);

// BasicTokenizer's word loop over cleaned text: whitespace split, never_split, lower and
// strip accents per token, punctuation split. Appends the words' code points to `out`.
void basic_tokenize(const NText& text, const TokenizerConfig& config,
                    const std::unordered_set<std::string>& never_split, NText& out,
                    std::vector<Word>& words);

}  // namespace encore::tok
