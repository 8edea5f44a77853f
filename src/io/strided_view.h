// A tensor described by (storage, offset, sizes, strides), as PyTorch stores one, turned into
// encore's dense row-major Tensor: a view of the storage when the layout is contiguous and
// the address aligned, a copy otherwise. Every index is checked against the storage first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "encore/tensor.h"

namespace encore::io {

struct StridedSpec {
  DType dtype = DType::F32;
  int64_t offset = 0;  // elements
  Shape sizes;
  std::vector<int64_t> strides;  // elements, non-negative
};

// `storage` holds `storage_bytes` bytes kept alive by `owner`. Errors name `where`
// ("<file>: tensor 'x'").
Tensor strided_view(const StridedSpec& spec, const unsigned char* storage, uint64_t storage_bytes,
                    const std::shared_ptr<const void>& owner, const std::string& where);

}  // namespace encore::io
