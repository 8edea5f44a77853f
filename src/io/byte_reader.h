// A bounds-checked cursor over a byte range: every read checks what is left first, and a
// failure is one encore::Error line "<where>: <what> (at byte N)". Integers are
// little-endian unless the name says otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "encore/error.h"

namespace encore::io {

class ByteReader {
 public:
  ByteReader(const unsigned char* data, size_t size, std::string where)
      : data_(data), size_(size), where_(std::move(where)) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  bool done() const { return pos_ == size_; }
  const unsigned char* data() const { return data_; }
  const std::string& where() const { return where_; }

  void seek(size_t pos) {
    if (pos > size_) error("offset ", pos, " is past the end (", size_, " bytes)");
    pos_ = pos;
  }

  // The next n bytes, consumed.
  const unsigned char* take(size_t n, const char* what) {
    if (n > remaining()) error("truncated ", what, ": needs ", n, " bytes, ", remaining(), " left");
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }

  uint8_t u8(const char* what = "byte") { return *take(1, what); }
  uint16_t u16(const char* what = "uint16") { return static_cast<uint16_t>(le(take(2, what), 2)); }
  uint32_t u32(const char* what = "uint32") { return static_cast<uint32_t>(le(take(4, what), 4)); }
  uint64_t u64(const char* what = "uint64") { return le(take(8, what), 8); }

  // Base-128 varint (protobuf / LevelDB): at most 10 bytes for 64 bits, 5 for 32.
  uint64_t varint64(const char* what = "varint") {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = u8(what);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (shift == 63 && b > 1) error("overlong ", what);
        return v;
      }
    }
    error("overlong ", what);
  }
  uint32_t varint32(const char* what = "varint") {
    const uint64_t v = varint64(what);
    if (v > UINT32_MAX) error(what, " ", v, " does not fit in 32 bits");
    return static_cast<uint32_t>(v);
  }

  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(where_, ": ", parts..., " (at byte ", pos_, ")");
  }

  static uint64_t le(const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }

 private:
  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string where_;
};

}  // namespace encore::io
