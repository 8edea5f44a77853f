// GPT-2's byte-level alphabet (tokenizers pre_tokenizers/byte_level.rs bytes_char()):
// printable bytes stand for themselves, the others for U+0100 + n in byte order.
#pragma once

#include <array>
#include <cstdint>

namespace encore::tok {

struct ByteAlphabet {
  std::array<char32_t, 256> to_char{};
  constexpr ByteAlphabet() {
    char32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_char[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : 256 + n++;
    }
  }
  // The byte a character stands for, or -1.
  constexpr int to_byte(char32_t c) const {
    if (c < 256) {
      const bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174);
      return printable ? static_cast<int>(c) : -1;
    }
    for (int b = 0; b < 256; ++b)
      if (to_char[static_cast<size_t>(b)] == c) return b;
    return -1;
  }
};

inline constexpr ByteAlphabet kByteAlphabet{};

}  // namespace encore::tok
