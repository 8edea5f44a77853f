// CRC-32 (zip, IEEE 802.3 polynomial, as zlib's crc32) and CRC-32C (Castagnoli, as LevelDB
// and TensorFlow use), plus LevelDB's checksum masking (leveldb/util/crc32c.h: a CRC stored
// next to the data it covers is rotated and offset, so a CRC of data containing CRCs does
// not degenerate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace encore::io {

// `crc` continues an earlier value: crc32(b, n2, crc32(a, n1)) == crc32(a ++ b).
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// The table-driven versions, whatever the CPU (tests compare the fast paths with them).
uint32_t crc32_portable(const void* data, size_t n, uint32_t crc = 0);
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc = 0);

// Fuzz builds (libFuzzer's FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION convention) still compute
// every checksum but accept mismatches, so that mutated inputs reach the parsers behind them.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kVerifyChecksums = false;
#else
constexpr bool kVerifyChecksums = true;
#endif

// checksum(i) for i in [0, n), run in parallel: a checkpoint's tensors or storages are
// nearly the whole file, so their CRCs are most of its load time. The caller checks the
// results in order, so the first mismatch in the file is the one reported.
template <class Checksum>
std::vector<uint32_t> parallel_checksums(size_t n, Checksum&& checksum) {
  std::vector<uint32_t> crcs(n);
  const int64_t count = static_cast<int64_t>(n);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic)
#endif
  for (int64_t i = 0; i < count; ++i) crcs[static_cast<size_t>(i)] = checksum(static_cast<size_t>(i));
  return crcs;
}

inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t crc32c_unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace encore::io
