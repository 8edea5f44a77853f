// A LevelDB-format sorted table, as TensorFlow writes a bundle's .index
// (tensorflow/core/lib/io/table_builder.cc, a copy of LevelDB's; format described in
// leveldb/doc/table_format.md): data blocks of prefix-compressed keys with restart points,
// an index block of handles to them, a metaindex block, and a 48-byte footer ending in the
// magic 0xdb4775248b80fb57. Each block is followed by a compression byte and the masked
// crc32c of block + that byte.
#pragma once

#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace encore::io {

struct TableEntry {
  std::string key;
  const unsigned char* value = nullptr;  // into the table's bytes
  size_t value_size = 0;
};

// Every entry of every data block, in key order. Verifies each block's checksum, refuses
// compressed blocks and keys that are not strictly increasing. Errors read "<path>: ...".
std::vector<TableEntry> read_table(const Bytes& file, const std::string& path);

}  // namespace encore::io
