#include "tokenizer/decoders.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos) return;
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

std::u32string chars_of(const std::string& s) {
  NText t;
  decode_utf8(s, 0, t);
  std::u32string out;
  out.reserve(t.size());
  for (const auto& c : t) out.push_back(c.c);
  return out;
}

}  // namespace

void cleanup_tokenization(std::string& s, bool with_do_not) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  if (with_do_not) replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

void WordPieceDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const {
  const bool clean = cleanup.value_or(cleanup_);
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& t = tokens[i];
    if (i != 0) {
      if (t.compare(0, prefix_.size(), prefix_) == 0)
        t.erase(0, prefix_.size());
      else
        t.insert(0, " ");
    }
    if (clean) cleanup_tokenization(t, true);
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    // Unicode's "maximal subpart" rule (Rust's Utf8Chunks): the longest prefix of a valid
    // sequence becomes one U+FFFD.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b == 0xE0) len = 3, lo = 0xA0;
    else if (b >= 0xE1 && b <= 0xEC) len = 3;
    else if (b == 0xED) len = 3, hi = 0x9F;
    else if (b >= 0xEE && b <= 0xEF) len = 3;
    else if (b == 0xF0) len = 4, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) len = 4;
    else if (b == 0xF4) len = 4, hi = 0x8F;
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k < len && i + k < n; ++k) {
      const unsigned char c = s[i + k];
      const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) break;
    }
    if (k == len) {
      out.append(reinterpret_cast<const char*>(s + i), len);
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += k;
  }
  return out;
}

void ByteLevelDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  std::string bytes;
  for (const auto& t : tokens) {
    const std::u32string chars = chars_of(t);
    std::string mine;
    bool all = true;
    for (char32_t c : chars) {
      const int b = kByteAlphabet.to_byte(c);
      if (b < 0) {
        all = false;
        break;
      }
      mine.push_back(static_cast<char>(b));
    }
    bytes += all ? mine : t;
  }
  tokens.assign(1, utf8_lossy(bytes));
}

void MetaspaceDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string out;
    for (char32_t c : chars_of(tokens[i])) {
      if (c == replacement_) {
        if (!(i == 0 && prepend_)) out.push_back(' ');
      } else {
        append_utf8(c, out);
      }
    }
    tokens[i] = std::move(out);
  }
}

void BPEDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
}

void CTCDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const {
  const bool clean = cleanup.value_or(cleanup_);
  std::vector<std::string> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // dedup()
    std::string t = tokens[i];
    replace_all(t, pad_, "");
    if (clean) {
      cleanup_tokenization(t, true);
      replace_all(t, delimiter_, " ");
    }
    if (!t.empty()) out.push_back(std::move(t));
  }
  tokens.swap(out);
}

void ReplaceDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  std::vector<std::pair<size_t, size_t>> matches;
  for (auto& t : tokens) {
    pattern_->find_matches(t, matches);
    if (matches.empty()) continue;
    std::string out;
    size_t prev = 0;
    for (const auto& [b, e] : matches) {
      out.append(t, prev, b - prev);
      out += content_;
      prev = e;
    }
    out.append(t, prev, std::string::npos);
    t = std::move(out);
  }
}

void ByteFallbackDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  std::vector<std::string> out;
  std::string bytes;
  auto flush = [&] {
    if (bytes.empty()) return;
    if (find_invalid_utf8(bytes) == std::string::npos) {
      out.push_back(bytes);
    } else {
      for (size_t k = 0; k < bytes.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
    }
    bytes.clear();
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (auto& t : tokens) {
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) >= 0 && hex(t[4]) >= 0) {
      bytes.push_back(static_cast<char>(hex(t[3]) * 16 + hex(t[4])));
      continue;
    }
    flush();
    out.push_back(std::move(t));
  }
  flush();
  tokens.swap(out);
}

void FuseDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  std::string all;
  for (const auto& t : tokens) all += t;
  tokens.assign(1, std::move(all));
}

void StripDecoder::decode_chain(std::vector<std::string>& tokens, std::optional<bool>) const {
  for (auto& t : tokens) {
    const std::u32string chars = chars_of(t);
    size_t start_cut = 0;
    for (size_t i = 0; i < chars.size() && i < start_; ++i) {
      if (chars[i] != content_) break;
      start_cut = i + 1;
    }
    size_t stop_cut = chars.size();
    for (size_t i = 0; i < stop_ && i < chars.size() && chars.size() - i - 1 >= start_cut; ++i) {
      const size_t index = chars.size() - i - 1;
      if (chars[index] != content_) break;
      stop_cut = index;
    }
    std::string out;
    for (size_t i = start_cut; i < stop_cut; ++i) append_utf8(chars[i], out);
    t = std::move(out);
  }
}

}  // namespace encore::tok
