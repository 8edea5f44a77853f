// Just enough of the protocol buffers wire format (protobuf.dev/programming-guides/encoding)
// to read TensorFlow's BundleHeaderProto and BundleEntryProto: tagged fields of varints,
// fixed32/64 and length-delimited bytes. Unknown fields are skipped; groups are refused.
#pragma once

#include <cstdint>
#include <string>

#include "io/byte_reader.h"

namespace encore::io {

enum class WireType : uint8_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

class WireReader {
 public:
  WireReader(const unsigned char* data, size_t size, std::string where) : r_(data, size, std::move(where)) {}

  // The next field's number and type; false at the end of the message.
  bool next(uint32_t* field, WireType* type) {
    if (r_.done()) return false;
    const uint64_t tag = r_.varint64("field tag");
    const uint64_t wt = tag & 7;
    if (wt != 0 && wt != 1 && wt != 2 && wt != 5) r_.error("unsupported protobuf wire type ", wt);
    if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) r_.error("bad protobuf field number ", tag >> 3);
    *field = static_cast<uint32_t>(tag >> 3);
    *type = static_cast<WireType>(wt);
    return true;
  }

  uint64_t varint() { return r_.varint64("varint field"); }
  uint32_t fixed32() { return r_.u32("fixed32 field"); }
  // A length-delimited field's bytes, as a reader of their own.
  WireReader message(const char* what) {
    const uint64_t n = r_.varint64("field length");
    if (n > r_.remaining()) r_.error("truncated ", what, ": ", n, " bytes, ", r_.remaining(), " left");
    return WireReader(r_.take(static_cast<size_t>(n), what), static_cast<size_t>(n), r_.where() + ": " + what);
  }
  void skip(WireType type) {
    switch (type) {
      case WireType::Varint: r_.varint64("varint field"); break;
      case WireType::Fixed64: r_.take(8, "fixed64 field"); break;
      case WireType::Fixed32: r_.take(4, "fixed32 field"); break;
      case WireType::Bytes: message("bytes field"); break;
    }
  }
  // Checks a known field's wire type.
  void expect(uint32_t field, WireType got, WireType want) const {
    if (got != want) r_.error("field ", field, " has wire type ", int(got), ", expected ", int(want));
  }
  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    r_.error(parts...);
  }

 private:
  ByteReader r_;
};

}  // namespace encore::io
