// Table-driven CRCs, eight bytes per step ("slicing-by-8"): checkpoints are verified in
// full on every load, so the plain byte-at-a-time loop would show up in load times.
#include "io/crc32.h"

#include <array>

namespace encore::io {

namespace {

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// Tables for a reflected CRC with the given (reversed) polynomial.
constexpr Tables make_tables(uint32_t poly) {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k)
    for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  return t;
}

constexpr Tables kCrc32 = make_tables(0xedb88320u);   // zip / zlib
constexpr Tables kCrc32c = make_tables(0x82f63b78u);  // Castagnoli

uint32_t update(const Tables& t, const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = (p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24)) ^ crc;
    const uint32_t hi = p[4] | (p[5] << 8) | (p[6] << 16) | (static_cast<uint32_t>(p[7]) << 24);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace

uint32_t crc32(const void* data, size_t n, uint32_t crc) { return update(kCrc32, data, n, crc); }
uint32_t crc32c(const void* data, size_t n, uint32_t crc) { return update(kCrc32c, data, n, crc); }

}  // namespace encore::io
