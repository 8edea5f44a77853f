// Tiny writers for hand-made checkpoints in tests: stored zip archives (with any pickle as
// data.pkl), pickle opcodes, LevelDB tables and TensorFlow bundle protos. They write exactly
// the bytes a test asks for, so each bad-input case can break one thing at a time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/crc32.h"

namespace encore::testing {

inline void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// ----------------------------------------------------------------------------- zip

struct ZipMember {
  std::string name, data;
  uint16_t method = 0;  // 0 stored, 8 deflate (the bytes are not really deflated)
};

inline std::string make_zip(const std::vector<ZipMember>& members) {
  std::string out, cd;
  for (const ZipMember& m : members) {
    const uint32_t crc = io::crc32(m.data.data(), m.data.size());
    const uint64_t local = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, m.method, 2), put_le(out, 0, 4);  // version, flags, method, time+date
    put_le(out, crc, 4), put_le(out, m.data.size(), 4), put_le(out, m.data.size(), 4);
    put_le(out, m.name.size(), 2), put_le(out, 0, 2);
    out += m.name + m.data;
    put_le(cd, 0x02014b50, 4);
    put_le(cd, 20, 2), put_le(cd, 20, 2), put_le(cd, 0, 2), put_le(cd, m.method, 2), put_le(cd, 0, 4);
    put_le(cd, crc, 4), put_le(cd, m.data.size(), 4), put_le(cd, m.data.size(), 4);
    put_le(cd, m.name.size(), 2), put_le(cd, 0, 2), put_le(cd, 0, 2);  // name, extra, comment lengths
    put_le(cd, 0, 2), put_le(cd, 0, 2), put_le(cd, 0, 4);              // disk, attributes
    put_le(cd, local, 4);
    cd += m.name;
  }
  const uint64_t cd_offset = out.size();
  out += cd;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2), put_le(out, 0, 2), put_le(out, members.size(), 2), put_le(out, members.size(), 2);
  put_le(out, cd.size(), 4), put_le(out, cd_offset, 4), put_le(out, 0, 2);
  return out;
}

// A torch.save-style archive: archive/data.pkl plus archive/data/<key> per storage.
inline std::string torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<ZipMember> m = {{"archive/data.pkl", pickle}, {"archive/byteorder", "little"}};
  for (const auto& [key, bytes] : storages) m.push_back({"archive/data/" + key, bytes});
  return make_zip(m);
}

// ----------------------------------------------------------------------------- pickle

struct PickleWriter {
  std::string b = "\x80\x02";  // PROTO 2
  PickleWriter& op(char c) { b.push_back(c); return *this; }
  PickleWriter& str(const std::string& s) { op('X'); put_le(b, s.size(), 4); b += s; return *this; }
  PickleWriter& integer(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) { op('J'); put_le(b, static_cast<uint64_t>(v), 4); }
    else { b.push_back('\x8a'); b.push_back(8); put_le(b, static_cast<uint64_t>(v), 8); }  // LONG1
    return *this;
  }
  PickleWriter& global(const std::string& module, const std::string& name) {
    op('c'); b += module + "\n" + name + "\n"; return *this;
  }
  PickleWriter& tuple(const std::vector<int64_t>& v) {
    op('(');
    for (int64_t x : v) integer(x);
    return op('t');
  }
  // _rebuild_tensor_v2(persistent storage, offset, size, stride, False, {})
  PickleWriter& tensor(const std::string& storage_type, const std::string& key, int64_t numel, int64_t offset,
                       const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel).op('t').op('Q');
    integer(offset).tuple(size).tuple(stride).op('\x89').op('}').op('t');
    return op('R');
  }
  std::string stop() const { return b + "."; }
};

// A state_dict {name: tensor} over one float32 storage "0" of `numel` elements.
inline std::string one_tensor_pickle(const std::string& name, int64_t numel, int64_t offset,
                                     const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
  PickleWriter p;
  p.op('}').op('(').str(name).tensor("FloatStorage", "0", numel, offset, size, stride).op('u');
  return p.stop();
}

// ----------------------------------------------------------------------------- protobuf

inline std::string pb_varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) { s.push_back(static_cast<char>((v & 0x7f) | 0x80)); v >>= 7; }
  s.push_back(static_cast<char>(v));
  return s;
}
inline std::string pb_uint(int field, uint64_t v) { return pb_varint(static_cast<uint64_t>(field) << 3) + pb_varint(v); }
inline std::string pb_bytes(int field, const std::string& v) { return pb_varint((static_cast<uint64_t>(field) << 3) | 2) + pb_varint(v.size()) + v; }
inline std::string pb_fixed32(int field, uint32_t v) {
  std::string s = pb_varint((static_cast<uint64_t>(field) << 3) | 5);
  put_le(s, v, 4);
  return s;
}

inline std::string bundle_header(int num_shards, int endianness = 0) {
  return pb_uint(1, num_shards) + (endianness ? pb_uint(2, endianness) : "") + pb_bytes(3, pb_uint(1, 1));
}
struct BundleEntry {
  int dtype = 1;  // DT_FLOAT
  std::vector<int64_t> shape;
  int shard = 0;
  uint64_t offset = 0, size = 0;
  uint32_t crc32c = 0;  // unmasked; the writer masks it
  bool sliced = false;
};
inline std::string bundle_entry(const BundleEntry& e) {
  std::string shape;
  for (int64_t d : e.shape) shape += pb_bytes(2, pb_uint(1, static_cast<uint64_t>(d)));
  std::string s = pb_uint(1, e.dtype) + pb_bytes(2, shape) + pb_uint(3, e.shard) + pb_uint(4, e.offset) +
                  pb_uint(5, e.size) + pb_fixed32(6, io::crc32c_mask(e.crc32c));
  if (e.sliced) s += pb_bytes(7, "");
  return s;
}

// ----------------------------------------------------------------------------- LevelDB table

// One block: entries without prefix sharing, one restart point.
inline std::string table_block(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string b;
  for (const auto& [k, v] : kv) b += pb_varint(0) + pb_varint(k.size()) + pb_varint(v.size()) + k + v;
  put_le(b, 0, 4);
  put_le(b, 1, 4);
  return b;
}

// Appends a block and its trailer (compression byte + masked crc32c); returns its handle.
inline std::string append_block(std::string& file, const std::string& block, uint8_t compression = 0) {
  const std::string handle = pb_varint(file.size()) + pb_varint(block.size());
  file += block;
  file.push_back(static_cast<char>(compression));
  const uint32_t crc = io::crc32c(file.data() + file.size() - block.size() - 1, block.size() + 1);
  put_le(file, io::crc32c_mask(crc), 4);
  return handle;
}

// A table with one data block holding `kv` (keys must be sorted), as TensorFlow lays it out.
inline std::string make_table(const std::vector<std::pair<std::string, std::string>>& kv, uint8_t compression = 0) {
  std::string file;
  const std::string data = append_block(file, table_block(kv), compression);
  const std::string meta = append_block(file, table_block({}));
  const std::string index = append_block(file, table_block({{kv.empty() ? "" : kv.back().first, data}}));
  std::string footer = meta + index;
  footer.resize(40, '\0');
  put_le(footer, 0xdb4775248b80fb57ull, 8);
  return file + footer;
}

}  // namespace encore::testing
