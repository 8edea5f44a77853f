// Splitting normalized text into words: BertPreTokenizer (HfFast) and the word loop of
// BasicTokenizer.tokenize() (HfSlow, Google), which also lowercases and strips accents.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/stages.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

using Word = Split;

// Calls fn(begin, end, out) for every split that is not an added token (or a never_split
// word), which appends the pieces it becomes to `out`; the others are kept as they are.
template <class Fn>
void split_each(PreTokenized& p, Fn&& fn) {
  std::vector<Split> out;
  out.reserve(p.splits.size() * 2);
  for (const Split& s : p.splits) {
    if (s.id >= 0 || s.whole)
      out.push_back(s);
    else
      fn(s.begin, s.end, out);
  }
  p.splits.swap(out);
}

// tokenizers' BertPreTokenizer (pre_tokenizers/bert.rs).
class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& p) const override;
};

// tokenizers' pre_tokenizers::Sequence: each in turn.
class PreTokenizerSequence : public PreTokenizer {
 public:
  explicit PreTokenizerSequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(PreTokenized& p) const override {
    for (const auto& s : steps_) s->pre_tokenize(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// BertPreTokenizer over text[begin, end): whitespace separates, punctuation stands alone.
void pre_tokenize_hf_fast(const NText& text, size_t begin, size_t end, std::vector<Word>& words);

// BasicTokenizer's word loop over cleaned text: whitespace split, never_split, lower and
// strip accents per token, punctuation split. Appends the words' code points to `out`.
void basic_tokenize(const NText& text, const TokenizerConfig& config,
                    const std::unordered_set<std::string>& never_split, NText& out,
                    std::vector<Word>& words);

}  // namespace encore::tok
