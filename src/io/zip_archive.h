// The central directory of a zip archive (APPNOTE.TXT, PKWARE's .ZIP File Format
// Specification 6.3.x), as torch.save writes it: every entry stored, uncompressed, often
// with zip64 records. Only what a reader of stored entries needs; every offset and length
// is checked against the file before use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace encore::io {

struct ZipEntry {
  std::string name;
  uint64_t offset = 0;  // of the entry's data in the archive (after the local header)
  uint64_t size = 0;    // bytes of data (stored: compressed size == uncompressed size)
  uint32_t crc32 = 0;   // as recorded in the central directory
};

// Entries in central-directory order. Refuses compressed or encrypted entries, entries
// whose local header disagrees with the directory, and entries that overlap each other or
// the directory. Errors read "<path>: ...".
std::vector<ZipEntry> read_zip_directory(const Bytes& file, const std::string& path);

}  // namespace encore::io
