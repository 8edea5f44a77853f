#include "tokenizer/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>

namespace encore::tok {
namespace {

// Rust regex \w: alphabetic, marks, decimal numbers, connector punctuation.
bool is_word_char(char32_t c) {
  if (c == '_') return true;
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NL) ||
         cat == UTF8PROC_CATEGORY_PC;
}

bool is_space(char32_t c) { return is_split_space(c, TokenizerFlavour::HfFast); }

}  // namespace

AddedMatcher::AddedMatcher(const std::vector<AddedToken>& tokens, bool normalized,
                           const std::function<void(NText&)>& normalize) {
  for (const auto& t : tokens) {
    if (t.normalized != normalized || t.content.empty()) continue;
    NText chars;
    decode_utf8(t.content, 0, chars);
    if (normalize) normalize(chars);
    if (chars.empty()) continue;
    uint32_t node = 0;
    for (const auto& ch : chars) {
      uint64_t key = (static_cast<uint64_t>(node) << 21) | ch.c;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        auto next = static_cast<uint32_t>(terminal_.size());
        terminal_.push_back(-1);
        it = edges_.emplace(key, next).first;
      }
      node = it->second;
    }
    terminal_[node] = static_cast<int32_t>(tokens_.size());
    tokens_.push_back(t);
  }
}

std::vector<AddedMatcher::Match> AddedMatcher::find(const NText& text, size_t begin,
                                                    size_t end) const {
  std::vector<Match> matches;
  if (tokens_.empty()) return matches;
  size_t consumed = begin;  // end of the previous accepted match (start_offset)
  size_t p = begin;
  while (p < end) {
    uint32_t node = 0;
    int32_t best = -1;
    size_t best_end = p;
    for (size_t i = p; i < end; ++i) {
      auto it = edges_.find((static_cast<uint64_t>(node) << 21) | text[i].c);
      if (it == edges_.end()) break;
      node = it->second;
      if (terminal_[node] >= 0) {
        best = terminal_[node];
        best_end = i + 1;
      }
    }
    if (best < 0) {
      ++p;
      continue;
    }
    const AddedToken& t = tokens_[static_cast<size_t>(best)];
    size_t start = p;
    size_t stop = best_end;
    p = best_end;
    if (t.single_word) {
      bool start_space = start == begin || !is_word_char(text[start - 1].c);
      bool stop_space = stop == end || !is_word_char(text[stop].c);
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t s = start;
      while (s > begin && is_space(text[s - 1].c)) --s;
      start = std::max(s, consumed);
    }
    if (t.rstrip) {
      while (stop < end && is_space(text[stop].c)) ++stop;
    }
    matches.push_back({start, stop, t.id});
    consumed = stop;
  }
  return matches;
}

}  // namespace encore::tok
