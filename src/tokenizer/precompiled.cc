#include "tokenizer/precompiled.h"

#include <utf8proc.h>

#include <cstring>

#include "encore/error.h"

namespace encore::tok {
namespace {

// spm_precompiled's ArrayUnit accessors (on the u32 unit widened to usize).
inline bool has_leaf(uint64_t u) { return ((u >> 8) & 1) == 1; }
inline uint64_t value(uint64_t u) { return u & ((uint64_t{1} << 31) - 1); }
inline uint64_t label(uint64_t u) { return u & ((uint64_t{1} << 31) | 0xFF); }
inline uint64_t offset(uint64_t u) { return (u >> 10) << ((u & (uint64_t{1} << 9)) >> 6); }

// normalizers/precompiled.rs replace(): the new characters replace the old ones; extra new
// ones are insertions; fewer are charged to the last change.
void replace(std::vector<std::pair<char32_t, int>>& changes, size_t old_count, std::string_view new_part) {
  NText chars;
  decode_utf8(new_part, 0, chars);
  const auto diff = static_cast<long>(chars.size()) - static_cast<long>(old_count);
  for (const auto& c : chars) changes.emplace_back(c.c, 0);
  if (diff > 0) {
    for (long k = 0; k < diff; ++k) changes[changes.size() - 1 - static_cast<size_t>(k)].second = 1;
  } else if (diff < 0 && !changes.empty()) {
    changes.back().second += static_cast<int>(diff);
  }
}

}  // namespace

std::string base64_decode(std::string_view text) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = sextet(c);
    if (v < 0) fail("precompiled_charsmap is not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Precompiled::Precompiled(std::string_view charsmap) {
  if (charsmap.size() < 4) fail("precompiled_charsmap: too short for its trie size");
  uint32_t trie_size;
  std::memcpy(&trie_size, charsmap.data(), 4);
  const size_t units = trie_size / 4;
  if (charsmap.size() - 4 < units * 4) fail("precompiled_charsmap: the trie of ", trie_size, " bytes is cut short");
  trie_.resize(units);
  if (units) std::memcpy(trie_.data(), charsmap.data() + 4, units * 4);
  normalized_.assign(charsmap.substr(4 + units * 4));
  if (find_invalid_utf8(normalized_) != std::string::npos) fail("precompiled_charsmap: the normalized strings are not UTF-8");
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    ascii_mapped_[c] = transform(std::string_view(&ch, 1)).has_value();
  }
}

std::optional<std::string_view> Precompiled::transform(std::string_view chunk) const {
  // DoubleArray::common_prefix_search, stopping at its first result.
  if (trie_.empty()) return std::nullopt;
  uint64_t node = 0;
  uint64_t unit = trie_[0];
  node ^= offset(unit);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    node ^= c;
    if (node >= trie_.size()) return std::nullopt;  // tokenizers would panic; no match here
    unit = trie_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (has_leaf(unit)) {
      if (node >= trie_.size()) return std::nullopt;
      const uint64_t index = value(trie_[node]);
      if (index > normalized_.size()) return std::nullopt;
      size_t end = index;
      while (end < normalized_.size() && normalized_[end] != 0) ++end;
      const std::string_view out(normalized_.data() + index, end - index);
      if (find_invalid_utf8(out) != std::string::npos) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

void apply_changes(NText& text, const std::vector<std::pair<char32_t, int>>& changes) {
  NText out;
  out.reserve(changes.size());
  const uint32_t start = text.empty() ? 0 : text[0].begin;
  size_t pos = 0;  // the next code point of `text` to replace
  for (const auto& [c, change] : changes) {
    NChar n{c, start, start};
    if (change > 0) {
      if (pos > 0) n.begin = text[pos - 1].begin, n.end = text[pos - 1].end;
    } else {
      const NChar& old = text[std::min(pos, text.size() - 1)];
      n.begin = old.begin, n.end = old.end;
      ++pos;
      pos += static_cast<size_t>(-change);
    }
    out.push_back(n);
  }
  text.swap(out);
}

void Precompiled::normalize(NText& text) const {
  if (text.empty()) return;
  // Plain ASCII that the map leaves alone needs no work (ASCII code points other than CR LF
  // are clusters of their own).
  bool plain = true;
  for (const auto& ch : text) {
    if (ch.c >= 0x80 || ascii_mapped_[ch.c]) {
      plain = false;
      break;
    }
  }
  if (plain) return;
  std::vector<std::pair<char32_t, int>> changes;
  changes.reserve(text.size() + 8);
  bool modified = false;
  std::string grapheme, one;
  int32_t state = 0;
  size_t g = 0;
  while (g < text.size()) {
    // One extended grapheme cluster [g, e) (unicode-segmentation's graphemes(true)).
    size_t e = g + 1;
    while (e < text.size() && !grapheme_break(text[e - 1].c, text[e].c, &state)) ++e;
    grapheme.clear();
    for (size_t i = g; i < e; ++i) append_utf8(text[i].c, grapheme);
    if (grapheme.size() < 6) {
      if (auto norm = transform(grapheme)) {
        modified = true;
        replace(changes, e - g, *norm);
        g = e;
        continue;
      }
    }
    for (size_t i = g; i < e; ++i) {
      one.clear();
      append_utf8(text[i].c, one);
      if (auto norm = transform(one)) {
        modified = true;
        replace(changes, 1, *norm);
      } else {
        changes.emplace_back(text[i].c, 0);
      }
    }
    g = e;
  }
  if (modified) apply_changes(text, changes);
}

}  // namespace encore::tok
