// A read-only byte range and what keeps it alive: a memory-mapped file, or a caller's buffer
// (the fuzz targets). The checkpoint readers take Bytes, so one validated parser serves both.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace encore::io {

struct Bytes {
  const unsigned char* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;  // keeps `data` valid; tensors viewing `data` share it
  bool mapped = false;                // a read-only private file mapping (map_file)
};

// Maps a regular file read-only; throws encore::Error naming the path.
Bytes map_file(const std::string& path);

// A caller-owned buffer: valid only while the caller keeps it alive (no owner).
Bytes borrow(const void* data, size_t size);

// Takes the pages lying wholly inside [p, p + n) out of this process's resident set when
// `b` is a file mapping and the range lies in it (MADV_DONTNEED); otherwise does nothing.
// Safe while tensors still view those bytes: the mapping is read-only and private, so a
// page touched again is read back from the file's page cache, unchanged. Used once the
// bytes have been checksummed or copied (packed), so that load-time RSS does not hold the
// whole file.
void release_pages(const Bytes& b, const void* p, size_t n);

// Maps the pages of [p, p + n) (inside the file mapping `b`) in one call before they are all
// read (MADV_POPULATE_READ, Linux 5.14+), instead of one page fault per few pages.
void populate_pages(const Bytes& b, const void* p, size_t n);

}  // namespace encore::io
