// Softmax with runtime ISA dispatch: GCC's target_clones compiles each function for
// AVX-512, AVX2 and baseline x86-64 and picks one at load time (ifunc); exp is fast_exp
// (fast_exp.h).
//
// softmax_inplace, the kernel attention runs once per score row, also has an AVX-512
// version with masked tails (see isa.h): the same exp, the same three passes.
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

// The first two of softmax's passes: x = exp(x - max x); returns 1 / sum, or 0 when every
// entry is -inf (x left as it was).
ENCORE_AVX512 inline float shifted_exp_avx512(float* x, int64_t n) {
  int64_t i = 0;
  __m512 vm = _mm512_set1_ps(-INFINITY);
  for (; i + 16 <= n; i += 16) vm = _mm512_max_ps(_mm512_loadu_ps(x + i), vm);  // a NaN lane keeps vm
  const __mmask16 tail = tail_mask(n - i);
  if (tail) vm = _mm512_mask_max_ps(vm, tail, _mm512_maskz_loadu_ps(tail, x + i), vm);
  const float m = _mm512_reduce_max_ps(vm);
  if (m == -INFINITY) return 0.0f;
  const __m512 vmax = _mm512_set1_ps(m);
  __m512 vs = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
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

// softmax_avx512 whose last pass writes the probabilities in bfloat16 (vcvtneps2bf16).
ENCORE_AVX512_BF16 bool softmax_to_bf16_avx512(uint16_t* out, float* x, int64_t n) {
  const float inv = shifted_exp_avx512(x, n);
  if (inv == 0.0f) return false;
  const __m512 s = _mm512_set1_ps(inv);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(x + i), s)));
  if (const __mmask16 tail = tail_mask(n - i))
    _mm256_mask_storeu_epi16(out + i, tail,
                             (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), s)));
  return true;
}

ENCORE_AVX512_END

__attribute__((target_clones("avx2", "default")))
bool softmax_portable(float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  if (m == -INFINITY) return false;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = fast_exp(x[i] - m);
    sum += x[i];
  }
  const float s = 1.0f / sum;
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

bool softmax_to_bf16(uint16_t* out, float* x, int64_t n) {
  if (use_avx512_bf16()) return softmax_to_bf16_avx512(out, x, n);
  if (!softmax_inplace(x, n)) return false;
  to_bf16_operands(out, x, n);
  return true;
}

}  // namespace encore::kernels
