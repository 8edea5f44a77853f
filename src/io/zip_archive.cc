#include "io/zip_archive.h"

#include <algorithm>
#include <set>

#include "io/byte_reader.h"

namespace encore::io {

namespace {

// Record signatures and fixed sizes (APPNOTE 4.3.7, 4.3.12, 4.3.14-16).
constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kLocator64Size = 20, kEnd64Size = 56;
constexpr uint16_t kZip64ExtraId = 0x0001;

struct Directory {
  uint64_t entries = 0, offset = 0, size = 0;
  uint64_t end_record = 0;  // where the directory's trailing records begin
};

// The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB:
// scan backwards for a signature whose comment length reaches exactly the end of the file.
Directory find_directory(const Bytes& file, const std::string& path) {
  if (file.size < kEndSize) fail(path, ": not a zip archive (", file.size, " bytes, too short)");
  const size_t last = file.size - kEndSize;
  const size_t first = last > 0xffff ? last - 0xffff : 0;
  for (size_t at = last + 1; at-- > first;) {
    ByteReader r(file.data + at, file.size - at, path);
    if (r.u32() != kEndSig) continue;
    const uint16_t disk = r.u16(), cd_disk = r.u16(), disk_entries = r.u16(), entries = r.u16();
    const uint32_t cd_size = r.u32(), cd_offset = r.u32();
    const uint16_t comment = r.u16();
    if (comment != r.remaining()) continue;
    Directory d{entries, cd_offset, cd_size, at};
    const bool zip64 = entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu ||
                       disk == 0xffff || cd_disk == 0xffff;
    if (!zip64) {
      if (disk != 0 || cd_disk != 0 || disk_entries != entries)
        fail(path, ": multi-disk zip archives are not supported");
      return d;
    }
    // Zip64: a locator right before this record points at the zip64 end record (4.3.14-15).
    if (at < kLocator64Size) fail(path, ": zip64 archive without a zip64 locator");
    ByteReader loc(file.data + at - kLocator64Size, kLocator64Size, path);
    if (loc.u32() != kLocator64Sig) fail(path, ": zip64 archive without a zip64 locator");
    loc.u32();  // disk with the zip64 end record
    const uint64_t end64 = loc.u64();
    if (loc.u32() > 1) fail(path, ": multi-disk zip archives are not supported");
    if (end64 > at - kLocator64Size || at - kLocator64Size - end64 < kEnd64Size)
      fail(path, ": zip64 end record offset ", end64, " lies outside the archive");
    ByteReader e(file.data + end64, at - kLocator64Size - end64, path);
    if (e.u32() != kEnd64Sig) fail(path, ": bad zip64 end record signature at offset ", end64);
    e.u64();  // record size
    e.u16();  // version made by
    e.u16();  // version needed
    const uint32_t disk64 = e.u32(), cd_disk64 = e.u32();
    const uint64_t disk_entries64 = e.u64();
    d.entries = e.u64();
    d.size = e.u64();
    d.offset = e.u64();
    d.end_record = end64;
    if (disk64 != 0 || cd_disk64 != 0 || disk_entries64 != d.entries)
      fail(path, ": multi-disk zip archives are not supported");
    return d;
  }
  fail(path, ": not a zip archive (no end of central directory record)");
}

// Sizes and offsets saturated at 0xffffffff live in the zip64 extra field, in this order
// (APPNOTE 4.5.3): uncompressed size, compressed size, local header offset.
void apply_zip64_extra(ByteReader extra, uint64_t& usize, uint64_t& csize, uint64_t& local,
                       const std::string& path, const std::string& name) {
  while (extra.remaining() >= 4) {
    const uint16_t id = extra.u16(), len = extra.u16();
    if (len > extra.remaining()) fail(path, ": entry '", name, "': extra field runs past its header");
    ByteReader field(extra.take(len, "extra field"), len, path);
    if (id != kZip64ExtraId) continue;
    auto next = [&](uint64_t& v) {
      if (v != 0xffffffffu) return;
      if (field.remaining() < 8) fail(path, ": entry '", name, "': zip64 extra field is too short");
      v = field.u64();
    };
    next(usize);
    next(csize);
    next(local);
  }
}

}  // namespace

std::vector<ZipEntry> read_zip_directory(const Bytes& file, const std::string& path) {
  const Directory dir = find_directory(file, path);
  if (dir.offset > dir.end_record || dir.size > dir.end_record - dir.offset)
    fail(path, ": central directory [", dir.offset, ", +", dir.size, ") lies outside the archive");
  if (dir.entries > dir.size / kCentralSize)
    fail(path, ": central directory claims ", dir.entries, " entries in ", dir.size, " bytes");

  struct Span { uint64_t begin, end; size_t entry; };
  std::vector<ZipEntry> out;
  std::vector<Span> spans;
  std::set<std::string> names;
  ByteReader cd(file.data + dir.offset, dir.size, path + ": central directory");
  for (uint64_t i = 0; i < dir.entries; ++i) {
    if (cd.u32("entry signature") != kCentralSig) cd.error("bad central directory entry signature");
    cd.take(4, "entry header");  // versions
    const uint16_t flags = cd.u16(), method = cd.u16();
    cd.take(4, "entry header");  // time, date
    ZipEntry e;
    e.crc32 = cd.u32();
    uint64_t csize = cd.u32(), usize = cd.u32();
    const uint16_t name_len = cd.u16(), extra_len = cd.u16(), comment_len = cd.u16();
    cd.take(8, "entry header");  // disk, attributes
    uint64_t local = cd.u32();
    e.name.assign(reinterpret_cast<const char*>(cd.take(name_len, "entry name")), name_len);
    ByteReader extra(cd.take(extra_len, "extra field"), extra_len, path);
    cd.take(comment_len, "entry comment");
    apply_zip64_extra(extra, usize, csize, local, path, e.name);

    if (flags & 0x1) fail(path, ": entry '", e.name, "' is encrypted");
    if (method != 0)
      fail(path, ": entry '", e.name, "' is compressed (method ", method,
           method == 8 ? ", deflate" : "", "); torch.save writes stored entries only");
    if (csize != usize)
      fail(path, ": entry '", e.name, "' is stored but its sizes differ (", csize, " vs ", usize, ")");
    if (!names.insert(e.name).second) fail(path, ": entry '", e.name, "' appears twice");

    // The local header repeats the name; its extra field (torch pads data to 64 bytes there)
    // may differ from the central one, so the data offset comes from the local header.
    if (local > dir.offset || dir.offset - local < kLocalSize)
      fail(path, ": entry '", e.name, "': local header offset ", local, " lies outside the data area");
    ByteReader lh(file.data + local, dir.offset - local, path + ": entry '" + e.name + "'");
    if (lh.u32("local header") != kLocalSig) lh.error("bad local header signature");
    lh.take(22, "local header");
    const uint16_t lname = lh.u16("local header"), lextra = lh.u16("local header");
    const unsigned char* lname_bytes = lh.take(lname, "local header name");
    if (lname != name_len || std::memcmp(lname_bytes, e.name.data(), name_len) != 0)
      lh.error("local header names a different entry");
    lh.take(lextra, "local extra field");
    e.offset = local + lh.pos();
    e.size = usize;
    if (e.size > dir.offset - e.offset)
      fail(path, ": entry '", e.name, "': ", e.size, " bytes of data at offset ", e.offset,
           " run into the central directory at ", dir.offset);
    spans.push_back({local, e.offset + e.size, out.size()});
    out.push_back(std::move(e));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end)
      fail(path, ": entries '", out[spans[i - 1].entry].name, "' and '", out[spans[i].entry].name, "' overlap");
  }
  return out;
}

}  // namespace encore::io
