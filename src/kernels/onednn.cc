#include "kernels/onednn.h"

#include <cstdlib>

#include "kernels/packed_linear.h"
#include "kernels/scratch.h"

namespace encore::kernels {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine = [] {
    // oneDNN's own cache would keep 1,024 more primitives, which encore's caches make
    // redundant for the GEMMs; it keeps a few (load-time reorders), unless the user set it.
    if (!std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") && !std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY"))
      dnnl::set_primitive_cache_capacity(16);
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return engine;
}

size_t primitive_cache_capacity() { return PackedLinear::cache_capacity(); }

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void add_scratchpad(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory>& args) {
  const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  const size_t bytes = md ? dnnl_memory_desc_get_size(md) : 0;
  if (bytes == 0) return;
  constexpr size_t kAlign = 64;
  thread_local ScratchBuffer<uint8_t> buffer;
  const uintptr_t at = reinterpret_cast<uintptr_t>(buffer.get(bytes + kAlign));
  args[DNNL_ARG_SCRATCHPAD] =
      dnnl::memory(dnnl::memory::desc(*md), cpu_engine(), reinterpret_cast<void*>((at + kAlign - 1) & ~(kAlign - 1)));
}

// Compiled per ISA (the baseline build only vectorizes it 4 wide).
__attribute__((target_clones("avx512f", "avx2", "default")))
void to_bf16_n(uint16_t* out, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

}  // namespace encore::kernels
