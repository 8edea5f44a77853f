// libFuzzer target: TensorFlow bundles. The input is a 4-byte little-endian length n, then n
// bytes of .index, then the data shard (every shard id gets the same bytes). Each part is
// copied into a buffer of exactly its size, so reading past either is an ASan report.
// Any encore::Error is a correct answer; a crash, sanitizer report or other exception is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "io/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t n = data[0] | (data[1] << 8) | (data[2] << 16) | (static_cast<size_t>(data[3]) << 24);
  n = std::min(n, size - 4);
  const std::vector<unsigned char> index(data + 4, data + 4 + n), shard(data + 4 + n, data + size);
  try {
    const auto shards = [&](int, int) {
      return encore::io::BundleShard{"fuzz.data", encore::io::borrow(shard.data(), shard.size())};
    };
    volatile uint8_t sink = encore::fuzz::touch(
        encore::io::read_tf_bundle_bytes("fuzz.index", encore::io::borrow(index.data(), index.size()), shards));
    (void)sink;
  } catch (const encore::Error&) {
  }
  return 0;
}
