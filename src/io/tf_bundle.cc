// TensorFlow tensor bundles (tensorflow/core/util/tensor_bundle/tensor_bundle.h): a sorted
// table `prefix.index` whose empty key holds a BundleHeaderProto and whose other keys are
// tensor names holding BundleEntryProtos (tensorflow/core/protobuf/tensor_bundle.proto),
// and data shards `prefix.data-%05d-of-%05d` holding each tensor's raw little-endian bytes
// at [offset, offset + size), checksummed with a masked crc32c.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "encore/checkpoint.h"
#include "io/crc32.h"
#include "io/protobuf_wire.h"
#include "io/readers.h"
#include "io/sstable.h"

namespace encore::io {

namespace {

constexpr int64_t kBundleVersion = 1;  // tensor_bundle.h kTensorBundleVersion
constexpr uint64_t kMaxShards = 99999;  // shard names have five digits
constexpr size_t kMaxDims = 32;
constexpr int kDtString = 7;            // types.proto DT_STRING

// types.proto DataType numbers of the dtypes encore holds.
bool dtype_of_tf(uint64_t tf, DType* out) {
  switch (tf) {
    case 1: *out = DType::F32; return true;    // DT_FLOAT
    case 2: *out = DType::F64; return true;    // DT_DOUBLE
    case 3: *out = DType::I32; return true;    // DT_INT32
    case 4: *out = DType::U8; return true;     // DT_UINT8
    case 5: *out = DType::I16; return true;    // DT_INT16
    case 6: *out = DType::I8; return true;     // DT_INT8
    case 9: *out = DType::I64; return true;    // DT_INT64
    case 10: *out = DType::Bool; return true;  // DT_BOOL
    case 14: *out = DType::BF16; return true;  // DT_BFLOAT16
    case 19: *out = DType::F16; return true;   // DT_HALF
    default: return false;
  }
}

struct Header {
  uint64_t num_shards = 0;
};

// BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2; VersionDef version = 3; }
// VersionDef { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }
Header parse_header(const TableEntry& e, const std::string& path) {
  WireReader w(e.value, e.value_size, path + ": bundle header");
  Header h;
  uint32_t field;
  WireType type;
  while (w.next(&field, &type)) {
    if (field == 1) {
      w.expect(field, type, WireType::Varint);
      h.num_shards = w.varint();
    } else if (field == 2) {
      w.expect(field, type, WireType::Varint);
      if (w.varint() != 0) w.error("big-endian bundles are not supported");
    } else if (field == 3) {
      w.expect(field, type, WireType::Bytes);
      WireReader v = w.message("version");
      while (v.next(&field, &type)) {
        if (field == 2 && type == WireType::Varint) {
          const int64_t min_consumer = static_cast<int32_t>(v.varint());
          if (min_consumer > kBundleVersion)
            v.error("bundle needs a reader of version ", min_consumer, " (this one is ", kBundleVersion, ")");
        } else if (field == 3 && type == WireType::Varint) {
          if (static_cast<int32_t>(v.varint()) == kBundleVersion)
            v.error("bundle marks reader version ", kBundleVersion, " as bad");
        } else {
          v.skip(type);
        }
      }
    } else {
      w.skip(type);
    }
  }
  if (h.num_shards < 1 || h.num_shards > kMaxShards) w.error("num_shards ", h.num_shards, " is out of range");
  return h;
}

struct Entry {
  uint64_t dtype = 0;
  Shape shape;
  uint64_t shard = 0, offset = 0, size = 0;
  uint32_t crc32c = 0;
};

// TensorShapeProto { repeated Dim dim = 2; bool unknown_rank = 3; }  Dim { int64 size = 1; string name = 2; }
Shape parse_shape(WireReader w) {
  Shape shape;
  uint32_t field;
  WireType type;
  while (w.next(&field, &type)) {
    if (field == 2) {
      w.expect(field, type, WireType::Bytes);
      WireReader dim = w.message("dim");
      int64_t size = 0;
      while (dim.next(&field, &type)) {
        if (field == 1) {
          dim.expect(field, type, WireType::Varint);
          size = static_cast<int64_t>(dim.varint());
        } else {
          dim.skip(type);
        }
      }
      if (size < 0) w.error("dimension of unknown or negative size ", size);
      if (shape.size() == kMaxDims) w.error("more than ", kMaxDims, " dimensions");
      shape.push_back(size);
    } else if (field == 3) {
      w.expect(field, type, WireType::Varint);
      if (w.varint()) w.error("shape of unknown rank");
    } else {
      w.skip(type);
    }
  }
  return shape;
}

// BundleEntryProto { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
//   int64 offset = 4; int64 size = 5; fixed32 crc32c = 6; repeated TensorSliceProto slices = 7; }
Entry parse_entry(const TableEntry& e, const std::string& where) {
  WireReader w(e.value, e.value_size, where);
  Entry out;
  uint32_t field;
  WireType type;
  while (w.next(&field, &type)) {
    switch (field) {
      case 1: w.expect(field, type, WireType::Varint); out.dtype = w.varint(); break;
      case 2: w.expect(field, type, WireType::Bytes); out.shape = parse_shape(w.message("shape")); break;
      case 3: w.expect(field, type, WireType::Varint); out.shard = w.varint(); break;
      case 4: w.expect(field, type, WireType::Varint); out.offset = w.varint(); break;
      case 5: w.expect(field, type, WireType::Varint); out.size = w.varint(); break;
      case 6: w.expect(field, type, WireType::Fixed32); out.crc32c = w.fixed32(); break;
      case 7: w.error("partitioned (sliced) variables are not supported");
      default: w.skip(type);
    }
  }
  return out;
}

}  // namespace

std::string shard_name(int id, int count) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", id, count);
  return buf;
}

TensorFile read_tf_bundle_bytes(const std::string& label, const Bytes& index, const ShardSource& shards) {
  const std::vector<TableEntry> entries = read_table(index, label);
  // The header's key is "", which sorts first.
  if (entries.empty() || !entries.front().key.empty())
    fail(label, ": no bundle header (the table has no empty key): not a TensorFlow checkpoint index");
  const Header header = parse_header(entries.front(), label);
  const int num_shards = static_cast<int>(header.num_shards);

  TensorFile out;
  out.path = label;
  std::map<int, BundleShard> open;
  struct Checked {  // a tensor whose bytes are validated, its CRC still to check
    std::string name;
    const BundleShard* shard;
    const unsigned char* p;
    uint64_t size;
    uint32_t expected;
    DType dtype;
    Shape shape;
  };
  std::vector<Checked> tensors;
  for (size_t i = 1; i < entries.size(); ++i) {
    const std::string& name = entries[i].key;
    const std::string where = label + ": tensor '" + name + "'";
    const Entry e = parse_entry(entries[i], where);
    if (e.dtype == kDtString) continue;  // not weights (TF2's object graph); its layout differs
    DType dtype;
    if (!dtype_of_tf(e.dtype, &dtype)) fail(where, ": TensorFlow dtype ", e.dtype, " is not supported");
    uint64_t numel = 1;
    for (int64_t d : e.shape) {
      if (d != 0 && numel > e.size / static_cast<uint64_t>(d))
        fail(where, ": shape ", shape_string(e.shape), " is larger than its ", e.size, " bytes");
      numel *= static_cast<uint64_t>(d);
    }
    if (e.size % dtype_size(dtype) != 0 || numel != e.size / dtype_size(dtype))
      fail(where, ": ", e.size, " bytes do not hold ", dtype_name(dtype), " ", shape_string(e.shape));
    if (e.shard >= header.num_shards)
      fail(where, ": shard ", e.shard, " does not exist (the bundle has ", header.num_shards, ")");
    const int id = static_cast<int>(e.shard);
    auto it = open.find(id);
    if (it == open.end()) it = open.emplace(id, shards(id, num_shards)).first;
    const BundleShard& shard = it->second;
    if (e.offset > shard.bytes.size || e.size > shard.bytes.size - e.offset)
      fail(shard.label, ": tensor '", name, "': bytes [", e.offset, ", +", e.size, ") lie outside the file (",
           shard.bytes.size, " bytes)");
    tensors.push_back({name, &shard, shard.bytes.data + e.offset, e.size, crc32c_unmask(e.crc32c), dtype, e.shape});
  }
  // Checksummed pages leave the resident set (they are read again when used).
  const std::vector<uint32_t> crcs = parallel_checksums(tensors.size(), [&](size_t i) {
    const Checked& t = tensors[i];
    const uint32_t crc = crc32c(t.p, static_cast<size_t>(t.size));
    release_pages(t.shard->bytes, t.p, static_cast<size_t>(t.size));
    return crc;
  });
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Checked& c = tensors[i];
    if (c.expected != crcs[i] && kVerifyChecksums)
      fail(c.shard->label, ": tensor '", c.name, "': crc32c mismatch (the data file is corrupt)");
    Tensor t = Tensor::view(c.dtype, c.shape, c.p, c.shard->bytes.owner);
    if (reinterpret_cast<uintptr_t>(c.p) % dtype_size(c.dtype) == 0) {
      out.tensors[c.name] = t;
    } else {  // unaligned: a copy, and the pages it read leave memory again
      out.tensors[c.name] = t.clone();
      release_pages(c.shard->bytes, c.p, static_cast<size_t>(c.size));
    }
  }
  return out;
}

}  // namespace encore::io

namespace encore {

TensorFile read_tf_checkpoint(const std::string& prefix_or_index) {
  std::string prefix = prefix_or_index;
  const std::string suffix = ".index";
  if (prefix.size() > suffix.size() && prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0)
    prefix.resize(prefix.size() - suffix.size());
  const std::string index = prefix + suffix;
  return io::read_tf_bundle_bytes(index, io::map_file(index), [&](int id, int count) {
    const std::string path = prefix + io::shard_name(id, count);
    return io::BundleShard{path, io::map_file(path)};
  });
}

}  // namespace encore
