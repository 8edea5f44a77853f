#include "kernels/onednn.h"

#include <immintrin.h>

#include <cstdlib>

#include "kernels/isa.h"
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

namespace {

// Compiled per ISA (the baseline build only vectorizes it 4 wide; GCC's avx512f clone still
// narrows 8 wide, in ymm registers, without AVX512-BW).
__attribute__((target_clones("avx2", "default")))
void to_bf16_n_portable(uint16_t* out, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

ENCORE_AVX512_BEGIN

// to_bf16 on 16 lanes, operation for operation (round to nearest even; a NaN keeps its sign
// and high bits and becomes quiet), with a masked tail.
ENCORE_AVX512 inline void to_bf16_16(uint16_t* out, const float* x, __mmask16 m) {
  const __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, x));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  const __m512i quiet = _mm512_or_si512(u, _mm512_set1_epi32(0x400000));
  const __m512i bits = _mm512_srli_epi32(_mm512_mask_blend_epi32(nan, rounded, quiet), 16);
  _mm256_mask_storeu_epi16(out, m, _mm512_cvtepi32_epi16(bits));
}

ENCORE_AVX512 void to_bf16_n_avx512(uint16_t* out, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) to_bf16_16(out + i, x + i, 0xffff);
  if (i < n) to_bf16_16(out + i, x + i, tail_mask(n - i));
}

ENCORE_AVX512_BF16 void to_bf16_operands_avx512(uint16_t* out, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(out + i, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

ENCORE_AVX512_END

}  // namespace

void to_bf16_n(uint16_t* out, const float* x, int64_t n) {
  if (use_avx512()) to_bf16_n_avx512(out, x, n);
  else to_bf16_n_portable(out, x, n);
}

void to_bf16_operands(uint16_t* out, const float* x, int64_t n) {
  if (use_avx512_bf16()) to_bf16_operands_avx512(out, x, n);
  else to_bf16_n(out, x, n);
}

}  // namespace encore::kernels
