#include "io/sstable.h"

#include "io/byte_reader.h"
#include "io/crc32.h"

namespace encore::io {

namespace {

constexpr size_t kFooterSize = 48;  // two BlockHandles padded to 40 bytes + 8-byte magic
constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kTrailerSize = 5;  // compression type + masked crc32c
constexpr uint8_t kNoCompression = 0, kSnappyCompression = 1;
constexpr size_t kMaxKeyLength = 64 << 10;

// Prefix compression lets a few bytes per entry name an ever longer key; the keys' total
// length is capped (generously: real indexes are about half key bytes) so a hostile table
// cannot ask for memory quadratic in its size.
struct KeyBudget {
  uint64_t left;
  std::string last;
  bool have_last = false;
};

struct BlockHandle {
  uint64_t offset = 0, size = 0;
};

BlockHandle read_handle(ByteReader& r) {
  BlockHandle h;
  h.offset = r.varint64("block offset");
  h.size = r.varint64("block size");
  return h;
}

// The block's contents (without trailer), after checking that it lies within the table
// (before the footer), that it is uncompressed and that its checksum matches.
ByteReader read_block(const Bytes& file, const BlockHandle& h, const std::string& path, const char* what) {
  const uint64_t limit = file.size - kFooterSize;
  if (h.offset > limit || h.size > limit - h.offset || limit - h.offset - h.size < kTrailerSize)
    fail(path, ": ", what, " block [", h.offset, ", +", h.size, ") lies outside the table (", limit, " bytes)");
  const unsigned char* p = file.data + h.offset;
  const size_t n = static_cast<size_t>(h.size);
  const uint8_t type = p[n];
  if (type == kSnappyCompression)
    fail(path, ": ", what, " block at offset ", h.offset,
         " is snappy-compressed; TensorFlow writes bundle indexes uncompressed, and encore does not decompress");
  if (type != kNoCompression) fail(path, ": ", what, " block at offset ", h.offset, " has unknown compression ", int{type});
  const uint32_t stored = static_cast<uint32_t>(ByteReader::le(p + n + 1, 4));
  const uint32_t actual = crc32c(p + n, 1, crc32c(p, n));
  if (crc32c_unmask(stored) != actual && kVerifyChecksums)
    fail(path, ": ", what, " block at offset ", h.offset, ": crc32c mismatch (the index file is corrupt)");
  return ByteReader(p, n, path + ": " + what + " block at offset " + std::to_string(h.offset));
}

// A block: entries (shared key bytes, unshared bytes, value length, key delta, value), then
// uint32 restart offsets and their count. Entries are read front to back; the restart
// array is only bounds-checked, since it is an index for seeking.
void read_entries(ByteReader block, std::vector<TableEntry>& out, KeyBudget& keys) {
  if (block.size() < 4) block.error("block is too small for its restart count");
  block.seek(block.size() - 4);
  const uint32_t restarts = block.u32("restart count");
  if (restarts == 0 || restarts > (block.size() - 4) / 4) block.error("bad restart count ", restarts);
  const size_t end = block.size() - 4 - size_t{restarts} * 4;
  ByteReader r(block.data(), end, block.where());
  std::string key;
  while (!r.done()) {
    const uint32_t shared = r.varint32("shared key length");
    const uint32_t unshared = r.varint32("key length");
    const uint32_t value_len = r.varint32("value length");
    if (shared > key.size()) r.error("entry shares ", shared, " key bytes with a ", key.size(), "-byte key");
    if (unshared > kMaxKeyLength - shared) r.error("key longer than ", kMaxKeyLength, " bytes");
    if (shared + unshared > keys.left) r.error("keys add up to more than the table could hold");
    keys.left -= shared + unshared;
    key.resize(shared);
    key.append(reinterpret_cast<const char*>(r.take(unshared, "key")), unshared);
    const unsigned char* value = r.take(value_len, "value");
    if (keys.have_last && key <= keys.last)
      r.error("keys are not in increasing order ('", key, "' after '", keys.last, "')");
    keys.last = key;
    keys.have_last = true;
    out.push_back({key, value, value_len});
  }
}

}  // namespace

std::vector<TableEntry> read_table(const Bytes& file, const std::string& path) {
  if (file.size < kFooterSize) fail(path, ": truncated table (", file.size, " bytes, no footer)");
  ByteReader footer(file.data + file.size - kFooterSize, kFooterSize, path + ": footer");
  footer.seek(kFooterSize - 8);
  if (footer.u64() != kTableMagic) fail(path, ": bad table magic: not a TensorFlow checkpoint index");
  footer.seek(0);
  const BlockHandle meta = read_handle(footer);
  const BlockHandle index = read_handle(footer);

  const uint64_t budget = (uint64_t{1} << 20) + 16 * uint64_t{file.size};
  // The metaindex block (filters) is empty in TensorFlow's tables; it is read for its checksum.
  std::vector<TableEntry> handles;
  KeyBudget meta_keys{budget, {}, false};
  read_entries(read_block(file, meta, path, "metaindex"), handles, meta_keys);
  handles.clear();
  KeyBudget index_keys{budget, {}, false};
  read_entries(read_block(file, index, path, "index"), handles, index_keys);

  // Data blocks are written one after another; requiring that keeps the work linear in the
  // file size (no block checksummed twice).
  std::vector<TableEntry> out;
  KeyBudget keys{budget, {}, false};
  uint64_t next = 0;
  for (const TableEntry& h : handles) {
    ByteReader hr(h.value, h.value_size, path + ": index entry");
    const BlockHandle data = read_handle(hr);
    if (data.offset < next) fail(path, ": data block at offset ", data.offset, " overlaps the one before it");
    ByteReader block = read_block(file, data, path, "data");
    next = data.offset + data.size + kTrailerSize;
    read_entries(block, out, keys);
  }
  return out;
}

}  // namespace encore::io
