// Shared by the fuzz targets: touch every byte of every tensor a reader returned, so that a
// view reaching past its input is an AddressSanitizer report, not a silent success.
#pragma once

#include <cstdint>

#include "encore/safetensors.h"

namespace encore::fuzz {

inline uint8_t touch(const TensorFile& file) {
  uint8_t acc = 0;
  for (const auto& [name, t] : file.tensors) {
    const auto* p = static_cast<const uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) acc ^= p[i];
    acc ^= static_cast<uint8_t>(name.size());
  }
  return acc;
}

}  // namespace encore::fuzz
