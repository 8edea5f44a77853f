#include "tokenizer/pattern.h"

#include <oniguruma.h>

#include <mutex>

#include "encore/error.h"

namespace encore::tok {
namespace {

void init_onig() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

}  // namespace

Pattern::Pattern(const std::string& text, bool regex) {
  if (find_invalid_utf8(text) != std::string::npos) fail("pattern is not valid UTF-8");
  if (!regex) {
    literal_ = text;
    NText t;
    decode_utf8(text, 0, t);
    for (const auto& c : t) literal_chars_.push_back(c.c);
    return;
  }
  init_onig();
  OnigRegex re = nullptr;
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(text.data());
  const int r = onig_new(&re, p, p + text.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info);
  if (r != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, r, &info);
    fail("regex '", text, "': ", reinterpret_cast<const char*>(message));
  }
  regex_ = re;
}

Pattern::~Pattern() {
  if (regex_) onig_free(static_cast<OnigRegex>(regex_));
}

void Pattern::find_matches(const std::string& s, std::vector<std::pair<size_t, size_t>>& matches) const {
  matches.clear();
  if (!regex_) {
    // A literal (tokenizers escapes it into a regex): leftmost, non-overlapping; an empty
    // literal matches nothing.
    if (literal_.empty()) return;
    for (size_t at = s.find(literal_); at != std::string::npos; at = s.find(literal_, at + literal_.size()))
      matches.emplace_back(at, at + literal_.size());
    return;
  }
  auto* re = static_cast<OnigRegex>(regex_);
  OnigRegion* region = onig_region_new();
  const auto* str = reinterpret_cast<const OnigUChar*>(s.data());
  const OnigUChar* end = str + s.size();
  size_t at = 0, last_end = std::string::npos;
  while (at <= s.size()) {
    const int r = onig_search(re, str, end, str + at, end, region, ONIG_OPTION_NONE);
    if (r < 0) break;  // ONIG_MISMATCH or an error: no more matches
    const auto b = static_cast<size_t>(region->beg[0]), e = static_cast<size_t>(region->end[0]);
    if (b == e && last_end == e) {
      // onig's FindMatches: an empty match right after the previous match is skipped.
      if (at >= s.size()) break;
      ++at;
      while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
      continue;
    }
    matches.emplace_back(b, e);
    last_end = e;
    if (e == b) {
      if (e >= s.size()) break;
      at = e + 1;
      while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
    } else {
      at = e;
    }
  }
  onig_region_free(region, 1);
}

void Pattern::find_matches(const NText& text, uint32_t begin, uint32_t end, std::vector<Piece>& out) const {
  out.clear();
  if (begin >= end) return;
  if (!regex_) {
    // A literal: leftmost, non-overlapping, on the code points themselves.
    const size_t n = literal_chars_.size();
    uint32_t prev = begin;
    if (n > 0) {
      for (uint32_t i = begin; i + n <= end;) {
        size_t k = 0;
        while (k < n && text[i + k].c == literal_chars_[k]) ++k;
        if (k < n) {
          ++i;
          continue;
        }
        if (prev != i) out.push_back({prev, i, false});
        out.push_back({i, static_cast<uint32_t>(i + n), true});
        i += static_cast<uint32_t>(n);
        prev = i;
      }
    }
    if (prev != end) out.push_back({prev, end, false});
    return;
  }
  std::string s;
  std::vector<uint32_t> char_at;
  for (uint32_t i = begin; i < end; ++i) {
    const size_t before = s.size();
    append_utf8(text[i].c, s);
    char_at.insert(char_at.end(), s.size() - before, i);
  }
  char_at.push_back(end);
  std::vector<std::pair<size_t, size_t>> matches;
  find_matches(s, matches);
  uint32_t prev = begin;
  for (const auto& [b, e] : matches) {
    const uint32_t cb = char_at[b], ce = char_at[e];
    if (prev != cb) out.push_back({prev, cb, false});
    out.push_back({cb, ce, true});
    prev = ce;
  }
  if (prev != end) out.push_back({prev, end, false});
}

}  // namespace encore::tok
