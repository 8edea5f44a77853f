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
};

// Maps a regular file read-only; throws encore::Error naming the path.
Bytes map_file(const std::string& path);

// A caller-owned buffer: valid only while the caller keeps it alive (no owner).
Bytes borrow(const void* data, size_t size);

}  // namespace encore::io
