// The patterns of tokenizer.json (Replace, Split): a literal string or a regular
// expression compiled by Oniguruma, the engine `tokenizers` uses (onig crate; Debian's
// libonig is the same 6.9.8). find_matches() is tokenizers' Pattern::find_matches: the
// text cut into matched and unmatched code point ranges, in order.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/unicode.h"

namespace encore::tok {

class Pattern {
 public:
  struct Piece {
    uint32_t begin;  // code point range of the text
    uint32_t end;
    bool match;
  };
  // `regex` false: `text` is matched literally. Throws encore::Error for a bad regex.
  Pattern(const std::string& text, bool regex);
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // Leftmost, non-overlapping matches of text[begin, end); an empty match is skipped over
  // by one code point, as the onig crate's find_iter does.
  void find_matches(const NText& text, uint32_t begin, uint32_t end, std::vector<Piece>& out) const;
  // The same on a UTF-8 string, in bytes.
  void find_matches(const std::string& s, std::vector<std::pair<size_t, size_t>>& matches) const;

 private:
  std::string literal_;
  std::u32string literal_chars_;
  void* regex_ = nullptr;  // OnigRegex
};

}  // namespace encore::tok
