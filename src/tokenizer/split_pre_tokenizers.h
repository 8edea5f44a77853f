// tokenizers' splitting pre-tokenizers (pre_tokenizers/{whitespace,punctuation,digits,
// split,delimiter}.rs), all NormalizedString::split with a pattern and a behaviour.
#pragma once

#include <functional>
#include <memory>

#include "tokenizer/pattern.h"
#include "tokenizer/stages.h"

namespace encore::tok {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
SplitBehavior split_behavior_from_name(const std::string& name);  // "removed", ... (any case)

// A pre-tokenizer that matches either a Pattern (Split) or a code point predicate
// (Punctuation, Digits, WhitespaceSplit, CharDelimiterSplit), `invert`ed or not, and cuts
// each split with `behavior`.
class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Pattern> pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  SplitPreTokenizer(std::function<bool(char32_t)> predicate, SplitBehavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void pre_tokenize(PreTokenized& p) const override;

 private:
  std::unique_ptr<Pattern> pattern_;
  std::function<bool(char32_t)> predicate_;
  SplitBehavior behavior_;
  bool invert_ = false;
};

// Whitespace: the matches of \w+|[^\w\s]+ (Rust regex, Unicode classes).
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& p) const override;
};

// UnicodeScripts (pre_tokenizers/unicode_scripts): a split where the script changes, code
// points of no script ("Any": ' ' and unassigned ones) never splitting and never changing the
// current script; Hiragana, Katakana and U+30FC count as Han. As the reference, text before the
// first code point with a script is dropped (a text of only such code points gives nothing).
class UnicodeScriptsPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& p) const override;
};

}  // namespace encore::tok
