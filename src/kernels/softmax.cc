// Softmax with runtime ISA dispatch: GCC's target_clones compiles each function for
// AVX-512, AVX2 and baseline x86-64 and picks one at load time (ifunc); exp is fast_exp
// (fast_exp.h).
//
// softmax_inplace, the kernel attention runs once per score row, also has an AVX-512
// version with masked tails (see isa.h): the same exp, the same three passes. exp_to_bf16,
// bfloat16 attention's, leaves the normalization to the caller and has its own exp.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/fast_exp.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"

namespace encore::kernels {

namespace {

ENCORE_AVX512_BEGIN

// The row's maximum, NaN entries left out (a NaN lane keeps vm); -inf when there is none.
ENCORE_AVX512 inline float row_max_avx512(const float* x, int64_t n) {
  int64_t i = 0;
  __m512 vm = _mm512_set1_ps(-INFINITY);
  for (; i + 16 <= n; i += 16) vm = _mm512_max_ps(_mm512_loadu_ps(x + i), vm);
  if (const __mmask16 tail = tail_mask(n - i)) vm = _mm512_mask_max_ps(vm, tail, _mm512_maskz_loadu_ps(tail, x + i), vm);
  return _mm512_reduce_max_ps(vm);
}

// The first two of softmax's passes: x = exp(x - max x); returns 1 / sum, or 0 when every
// entry is -inf (x left as it was).
ENCORE_AVX512 inline float shifted_exp_avx512(float* x, int64_t n) {
  const float m = row_max_avx512(x, n);
  if (m == -INFINITY) return 0.0f;
  const __mmask16 tail = tail_mask(n % 16);
  const __m512 vmax = _mm512_set1_ps(m);
  __m512 vs = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = fast_exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmax));
    _mm512_storeu_ps(x + i, e);
    vs = _mm512_add_ps(vs, e);
  }
  if (tail) {
    const __m512 e = fast_exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), vmax));
    _mm512_mask_storeu_ps(x + i, tail, e);
    vs = _mm512_mask_add_ps(vs, tail, vs, e);
  }
  return 1.0f / _mm512_reduce_add_ps(vs);  // the sum is at least 1 (the max's own term)
}

ENCORE_AVX512 bool softmax_avx512(float* x, int64_t n) {
  const float inv = shifted_exp_avx512(x, n);
  if (inv == 0.0f) return false;
  const __m512 s = _mm512_set1_ps(inv);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), s));
  if (const __mmask16 tail = tail_mask(n - i))
    _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), s));
  return true;
}

// 2^y for probabilities that are rounded to bfloat16 next: 2^round(y) times a degree-4
// polynomial in y - round(y) (a Lawson fit of 2^r over [-1/2, 1/2]: relative error 2.6e-6,
// a thousandth of bfloat16's half ulp), in 9 instructions where fast_exp16 takes 16 and its
// own subtraction. Exactly 0 below 2^-126 (-inf included), as fast_exp16 is below e^-87.3;
// NaN stays NaN (the compare keeps an unordered lane).
ENCORE_AVX512 inline __m512 exp2_for_bf16(__m512 y) {
  const __mmask16 kept = _mm512_cmp_ps_mask(y, _mm512_set1_ps(-126.0f), _CMP_NLT_UQ);
  const __m512 k = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(y, k);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.3997a6p-7f), r, _mm512_set1_ps(0x1.ca1434p-5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.ec06dap-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.62e0dcp-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.ffffe8p-1f));
  return _mm512_maskz_scalef_ps(kept, p, k);
}

// exp_to_bf16 in two passes: the max, then each exp (as 2^(x log2 e - max log2 e), one
// fused multiply-add) summed in float32 and written in bfloat16 (vcvtneps2bf16).
ENCORE_AVX512_BF16 float exp_to_bf16_avx512(uint16_t* out, const float* x, int64_t n) {
  const float m = row_max_avx512(x, n);
  if (m == -INFINITY) return 0.0f;
  const __mmask16 tail = tail_mask(n % 16);
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f), shift = _mm512_set1_ps(-m * 1.44269504088896341f);
  __m512 vs = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp2_for_bf16(_mm512_fmadd_ps(_mm512_loadu_ps(x + i), log2e, shift));
    vs = _mm512_add_ps(vs, e);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(e));
  }
  if (tail) {
    const __m512 e = exp2_for_bf16(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + i), log2e, shift));
    vs = _mm512_mask_add_ps(vs, tail, vs, e);
    _mm256_mask_storeu_epi16(out + i, tail, (__m256i)_mm512_cvtneps_pbh(e));
  }
  return 1.0f / _mm512_reduce_add_ps(vs);  // the sum is at least ~1 (the max's own term)
}

ENCORE_AVX512_END

// shifted_exp_avx512's two passes, for other CPUs.
__attribute__((target_clones("avx2", "default")))
float shifted_exp_portable(float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  if (m == -INFINITY) return 0.0f;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = fast_exp(x[i] - m);
    sum += x[i];
  }
  return 1.0f / sum;
}

__attribute__((target_clones("avx2", "default")))
bool softmax_portable(float* x, int64_t n) {
  const float s = shifted_exp_portable(x, n);
  if (s == 0.0f) return false;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
  return true;
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default")))
void scale_inplace(float* x, int64_t n, float s) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

// Max, shifted exp with its sum, and scale in one call: attention runs it once per score
// row, and rows of short sentences are a few dozen keys, where separately dispatched calls
// cost as much as the arithmetic.
bool softmax_inplace(float* x, int64_t n) { return use_avx512() ? softmax_avx512(x, n) : softmax_portable(x, n); }

float exp_to_bf16(uint16_t* out, float* x, int64_t n) {
  if (use_avx512_bf16()) return exp_to_bf16_avx512(out, x, n);
  const float s = use_avx512() ? shifted_exp_avx512(x, n) : shifted_exp_portable(x, n);
  if (s != 0.0f) to_bf16_operands(out, x, n);
  return s;
}

}  // namespace encore::kernels
