#include "io/strided_view.h"

#include <cstring>

namespace encore::io {

Tensor strided_view(const StridedSpec& spec, const unsigned char* storage, uint64_t storage_bytes,
                    const std::shared_ptr<const void>& owner, const std::string& where) {
  const size_t es = dtype_size(spec.dtype);
  const uint64_t storage_numel = storage_bytes / es;
  const size_t dims = spec.sizes.size();
  ENCORE_CHECK(spec.strides.size() == dims, where, ": sizes and strides differ in length");
  ENCORE_CHECK(spec.offset >= 0, where, ": negative storage offset");
  uint64_t numel = 1;
  for (int64_t s : spec.sizes) {
    ENCORE_CHECK(s >= 0, where, ": negative size in ", shape_string(spec.sizes));
    if (s == 0) return Tensor::zeros(spec.dtype, spec.sizes);
    // No layout of a saved tensor names more elements than its storage holds (expand()ed,
    // stride-0 tensors are not saved that way by state_dict); this also bounds any copy.
    ENCORE_CHECK(static_cast<uint64_t>(s) <= storage_numel / numel, where, ": size ", shape_string(spec.sizes),
                 " has more elements than its storage (", storage_numel, ")");
    numel *= static_cast<uint64_t>(s);
  }
  // The last element any index reaches: offset + sum((size_i - 1) * stride_i), each term
  // checked before it is added so nothing overflows.
  uint64_t last = static_cast<uint64_t>(spec.offset);
  ENCORE_CHECK(last < storage_numel, where, ": storage offset ", spec.offset, " is outside its storage (",
               storage_numel, " elements)");
  for (size_t d = 0; d < dims; ++d) {
    ENCORE_CHECK(spec.strides[d] >= 0, where, ": negative stride");
    const uint64_t extent = static_cast<uint64_t>(spec.sizes[d] - 1), stride = static_cast<uint64_t>(spec.strides[d]);
    ENCORE_CHECK(stride == 0 || extent <= (storage_numel - last) / stride, where, ": size ", shape_string(spec.sizes),
                 " with strides ", shape_string(spec.strides), " at offset ", spec.offset,
                 " reaches past its storage (", storage_numel, " elements)");
    last += extent * stride;
  }
  ENCORE_CHECK(last < storage_numel, where, ": size ", shape_string(spec.sizes), " at offset ", spec.offset,
               " reaches past its storage (", storage_numel, " elements)");

  bool contiguous = true;
  uint64_t expected = 1;
  for (size_t d = dims; d-- > 0;) {
    if (spec.sizes[d] == 1) continue;
    if (static_cast<uint64_t>(spec.strides[d]) != expected) contiguous = false;
    expected *= static_cast<uint64_t>(spec.sizes[d]);
  }
  const unsigned char* base = storage + spec.offset * es;
  if (contiguous) {
    Tensor t = Tensor::view(spec.dtype, spec.sizes, base, owner);
    return reinterpret_cast<uintptr_t>(base) % es == 0 ? t : t.clone();  // keep loads aligned
  }
  Tensor out = Tensor::zeros(spec.dtype, spec.sizes);
  auto* dst = static_cast<unsigned char*>(out.raw_mut());
  std::vector<int64_t> index(dims, 0);
  uint64_t src = 0;  // element offset from base, kept in step with `index`
  for (uint64_t n = 0; n < numel; ++n) {
    std::memcpy(dst + n * es, base + src * es, es);
    for (size_t d = dims; d-- > 0;) {
      if (++index[d] < spec.sizes[d]) {
        src += static_cast<uint64_t>(spec.strides[d]);
        break;
      }
      src -= static_cast<uint64_t>(spec.strides[d]) * static_cast<uint64_t>(spec.sizes[d] - 1);
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace encore::io
