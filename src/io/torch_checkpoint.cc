// torch.save files: the zip format (torch >= 1.6: <root>/data.pkl plus one stored entry per
// storage, <root>/data/<key>) and the legacy format (torch.save(...,
// _use_new_zipfile_serialization=False): five pickles in a row, then the storages' bytes).
// Both described by torch/serialization.py (_save, _legacy_save and their loaders).
#include <bit>
#include <cstring>
#include <map>

#include "encore/checkpoint.h"
#include "io/byte_reader.h"
#include "io/crc32.h"
#include "io/pickle_vm.h"
#include "io/readers.h"
#include "io/strided_view.h"
#include "io/torch_pickle.h"
#include "io/zip_archive.h"

namespace encore::io {

namespace {

static_assert(std::endian::native == std::endian::little, "checkpoint readers assume a little-endian host");

// The legacy format's first pickle: torch/serialization.py MAGIC_NUMBER, as LONG1 bytes.
constexpr unsigned char kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

struct StorageBytes {
  const unsigned char* data = nullptr;
  uint64_t size = 0;
};

TensorFile materialize(const std::string& label, const TorchStateDict& sd, const std::vector<StorageBytes>& bytes,
                       const std::shared_ptr<const void>& owner) {
  TensorFile out;
  out.path = label;
  for (const auto& [name, index] : sd.entries) {
    const TorchTensorSpec& t = sd.tensors[index];
    const StorageBytes& s = bytes[t.storage];
    StridedSpec spec{t.dtype, t.offset, t.sizes, t.strides};
    out.tensors[name] = strided_view(spec, s.data, s.size, owner, label + ": tensor '" + name + "'");
  }
  return out;
}

// A pickle-machine run without globals: the legacy format's header pickles are plain data.
pickle::Id plain_pickle(pickle::Machine& m, ByteReader& r) {
  pickle::Hooks hooks;
  hooks.global = [&](const std::string& module, const std::string& name) {
    fail(m.where(), ": the pickle asks for global '", module, ".", name, "' in a header that is plain data");
  };
  hooks.reduce = [&](pickle::Machine&, pickle::Id, pickle::Id) -> pickle::Value { fail(m.where(), ": REDUCE"); };
  hooks.persistent_load = [&](pickle::Machine&, pickle::Id) -> pickle::Value {
    fail(m.where(), ": unexpected persistent id");
  };
  hooks.build = [&](pickle::Machine&, pickle::Id, pickle::Id) { fail(m.where(), ": unexpected BUILD"); };
  size_t used = 0;
  const pickle::Id v = m.run(r.data() + r.pos(), r.remaining(), hooks, &used);
  r.seek(r.pos() + used);
  return v;
}

TensorFile read_zip(const std::string& label, const Bytes& file) {
  const std::vector<ZipEntry> entries = read_zip_directory(file, label);
  std::map<std::string, const ZipEntry*> by_name;
  const ZipEntry* pkl = nullptr;
  for (const ZipEntry& e : entries) {
    by_name[e.name] = &e;
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (pkl) fail(label, ": two pickles in one archive ('", pkl->name, "' and '", e.name, "')");
      pkl = &e;
    }
  }
  if (!pkl) fail(label, ": zip archive without <name>/data.pkl: not a torch.save checkpoint");
  const std::string root = pkl->name.substr(0, pkl->name.size() - 8);  // "<root>/"

  // torch.save records crc32 unless torch.serialization.set_crc32_options(False), which
  // writes 0; a zero is therefore "not recorded", not a mismatch.
  auto checked = [&](const ZipEntry& e) {
    const unsigned char* p = file.data + e.offset;
    if (e.crc32 != 0 && crc32(p, e.size) != e.crc32 && kVerifyChecksums)
      fail(label, ": entry '", e.name, "': crc32 mismatch (the archive is corrupt)");
    return p;
  };
  if (auto bo = by_name.find(root + "byteorder"); bo != by_name.end()) {
    const std::string order(reinterpret_cast<const char*>(checked(*bo->second)), bo->second->size);
    if (order != "little") fail(label, ": byteorder '", order, "' is not supported (little-endian only)");
  }
  const TorchStateDict sd = parse_torch_state_dict(checked(*pkl), pkl->size, label + ": " + pkl->name,
                                                   TorchPickleKind::Zip);
  std::vector<StorageBytes> bytes;
  std::vector<const ZipEntry*> stored;
  for (const TorchStorage& s : sd.storages) {
    auto it = by_name.find(root + "data/" + s.key);
    if (it == by_name.end()) fail(label, ": storage '", s.key, "' (", root, "data/", s.key, ") is missing");
    const ZipEntry& e = *it->second;
    if (e.size != s.numel * dtype_size(s.dtype))
      fail(label, ": entry '", e.name, "' has ", e.size, " bytes, the pickle declares ", s.numel, " x ",
           dtype_name(s.dtype), " = ", s.numel * dtype_size(s.dtype));
    bytes.push_back({file.data + e.offset, e.size});
    stored.push_back(&e);
  }
  // Checksummed pages leave the resident set (they are read again when used).
  const std::vector<uint32_t> crcs = parallel_checksums(stored.size(), [&](size_t i) -> uint32_t {
    const ZipEntry& e = *stored[i];
    if (e.crc32 == 0) return 0;
    const uint32_t crc = crc32(file.data + e.offset, e.size);
    release_pages(file, file.data + e.offset, e.size);
    return crc;
  });
  for (size_t i = 0; i < stored.size(); ++i)
    if (stored[i]->crc32 != 0 && crcs[i] != stored[i]->crc32 && kVerifyChecksums)
      fail(label, ": entry '", stored[i]->name, "': crc32 mismatch (the archive is corrupt)");
  TensorFile out = materialize(label, sd, bytes, file.owner);
  for (const StorageBytes& b : bytes) release_pages(file, b.data, b.size);  // again, after any copies
  return out;
}

TensorFile read_legacy(const std::string& label, const Bytes& file) {
  ByteReader r(file.data, file.size, label);
  {
    pickle::Machine m(label + ": legacy magic");
    const pickle::Value& magic = m.at(plain_pickle(m, r));
    if (magic.kind != pickle::Kind::BigInt || magic.s.size() != sizeof kLegacyMagic ||
        std::memcmp(magic.s.data(), kLegacyMagic, sizeof kLegacyMagic) != 0)
      fail(label, ": not a legacy torch.save file (bad magic number)");
  }
  {
    pickle::Machine m(label + ": legacy protocol version");
    const pickle::Value& v = m.at(plain_pickle(m, r));
    if (v.kind != pickle::Kind::Int || v.i != kLegacyProtocolVersion)
      fail(label, ": legacy torch.save protocol version is not ", kLegacyProtocolVersion);
  }
  {
    pickle::Machine m(label + ": legacy sys_info");
    const pickle::Value& info = m.at(plain_pickle(m, r));
    if (info.kind != pickle::Kind::Dict) fail(label, ": legacy sys_info is not a dict");
    for (size_t k = 0; k + 1 < info.items.size(); k += 2) {
      const pickle::Value &key = m.at(info.items[k]), &value = m.at(info.items[k + 1]);
      if (key.kind == pickle::Kind::Str && key.s == "little_endian" &&
          !(value.kind == pickle::Kind::Bool && value.i))
        fail(label, ": big-endian legacy checkpoints are not supported");
    }
  }
  size_t used = 0;
  const TorchStateDict sd = parse_torch_state_dict(r.data() + r.pos(), r.remaining(), label + ": legacy pickle",
                                                   TorchPickleKind::Legacy, &used);
  r.seek(r.pos() + used);

  // The storage keys, then each storage as int64 element count + raw bytes, in that order.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < sd.storages.size(); ++i) index[sd.storages[i].key] = i;
  std::vector<StorageBytes> bytes(sd.storages.size());
  std::vector<bool> seen(sd.storages.size(), false);
  pickle::Machine m(label + ": legacy storage keys");
  const pickle::Value& keys = m.at(plain_pickle(m, r));
  if (keys.kind != pickle::Kind::List) fail(label, ": legacy storage key list is not a list");
  for (pickle::Id id : keys.items) {
    const pickle::Value& key = m.at(id);
    if (key.kind != pickle::Kind::Str) fail(label, ": legacy storage key is not a string");
    auto it = index.find(key.s);
    if (it == index.end()) fail(label, ": storage '", key.s, "' is listed but no tensor uses it");
    if (seen[it->second]) fail(label, ": storage '", key.s, "' is listed twice");
    seen[it->second] = true;
    const TorchStorage& s = sd.storages[it->second];
    ByteReader data(r.data() + r.pos(), r.remaining(), label + ": storage '" + key.s + "'");
    const uint64_t numel = data.u64("element count");
    if (numel != s.numel) data.error("holds ", numel, " elements, the pickle declares ", s.numel);
    const uint64_t n = numel * dtype_size(s.dtype);
    if (n > data.remaining()) data.error("truncated data: needs ", n, " bytes, ", data.remaining(), " left");
    bytes[it->second] = {data.take(static_cast<size_t>(n), "data"), n};
    r.seek(r.pos() + data.pos());
  }
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) fail(label, ": storage '", sd.storages[i].key, "' has no data");
  return materialize(label, sd, bytes, file.owner);
}

}  // namespace

TensorFile read_torch_checkpoint_bytes(const std::string& label, const Bytes& file) {
  const unsigned char* p = file.data;
  if (file.size >= 4 && std::memcmp(p, "PK\x03\x04", 4) == 0) return read_zip(label, file);
  if (file.size >= 2 && p[0] == 0x80 && p[1] == 0x02) return read_legacy(label, file);
  if (file.size >= 262 && std::memcmp(p + 257, "ustar", 5) == 0)
    fail(label, ": a tar-format torch checkpoint (torch < 0.1.10) is not supported");
  fail(label, ": not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)");
}

}  // namespace encore::io

namespace encore {

TensorFile read_torch_checkpoint(const std::string& path) {
  return io::read_torch_checkpoint_bytes(path, io::map_file(path));
}

}  // namespace encore
