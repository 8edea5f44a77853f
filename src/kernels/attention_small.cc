// Attention on short sequences (at most kSmallKeys keys), where a GEMM call per (sequence,
// head) costs more than the arithmetic: scores and values as plain loops compiled per ISA,
// and the fused block (scores, softmax and P·V for 4 query rows at a time in AVX-512
// registers) that every inference run of a BERT-family model takes when it applies.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/fast_exp.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"

namespace encore::kernels {

__attribute__((target_clones("avx512f", "avx2", "default")))
void attention_scores_small(float* scores, const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t rows,
                            int64_t n, int64_t d, float alpha) {
  // Kᵀ once per call ([d, n], at most 128 x 64 floats on the stack), then each score row is
  // a sum of d scaled rows of Kᵀ: vectorized over keys, no horizontal reductions.
  float kt[128 * kSmallKeys];
  if (d > 128) {  // not a BERT head size; plain dot products
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (int64_t c = 0; c < d; ++c) s += q[r * ldq + c] * k[j * ldk + c];
        scores[r * n + j] = alpha * s;
      }
    return;
  }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < d; ++c) kt[c * n + j] = k[j * ldk + c];
  for (int64_t r = 0; r < rows; ++r) {
    const float* qr = q + r * ldq;
    float* out = scores + r * n;
    float acc[kSmallKeys];
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) acc[j] = 0.0f;
    for (int64_t c = 0; c < d; ++c) {
      const float w = qr[c];
      const float* row = kt + c * n;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) acc[j] += w * row[j];
    }
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) out[j] = alpha * acc[j];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void attention_values_small(float* out, int64_t ldo, const float* p, const float* v, int64_t ldv, int64_t rows,
                            int64_t n, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * ldo;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) o[c] = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      const float w = p[r * n + j];
      const float* vj = v + j * ldv;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) o[c] += w * vj[c];
    }
  }
}

namespace {

ENCORE_AVX512_BEGIN

// In-register transpose of 16 rows of 16 floats (r[i][j] -> r[j][i]): 32-bit, 64-bit, then
// two rounds of 128-bit lane interleaves.
ENCORE_AVX512 inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// NB blocks of 16 keys, DB blocks of 16 features; 4 query rows at a time, so the scores
// (4 x NB) and output rows (4 x DB) are at most 16 registers each.
template <int NB, int DB>
ENCORE_AVX512 void attention_fused_block(float* out, int64_t ldo, const float* q, const float* k, const float* v,
                                         int64_t ld, int64_t rows, int64_t n, float alpha) {
  constexpr int NP = NB * 16, D = DB * 16;
  alignas(64) float kt[D * NP];  // Kᵀ [D, NP], keys past n zero
  for (int jb = 0; jb < NB; ++jb)
    for (int cb = 0; cb < DB; ++cb) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        const int64_t j = jb * 16 + i;
        r[i] = j < n ? _mm512_loadu_ps(k + j * ld + cb * 16) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(kt + (cb * 16 + i) * NP + jb * 16, r[i]);
    }
  const __mmask16 live = tail_mask(n - (NB - 1) * 16);  // keys of the last block that exist
  const __m512 va = _mm512_set1_ps(alpha), ninf = _mm512_set1_ps(-INFINITY);
  alignas(64) float p[4 * NP];
  for (int64_t r0 = 0; r0 < rows; r0 += 4) {
    const float* qr[4];
    for (int u = 0; u < 4; ++u) qr[u] = q + std::min<int64_t>(r0 + u, rows - 1) * ld;
    __m512 s[4][NB];
    for (int u = 0; u < 4; ++u)
      for (int b = 0; b < NB; ++b) s[u][b] = _mm512_setzero_ps();
    for (int c = 0; c < D; ++c) {
      __m512 kc[NB];
      for (int b = 0; b < NB; ++b) kc[b] = _mm512_load_ps(kt + c * NP + b * 16);
      for (int u = 0; u < 4; ++u) {
        const __m512 qb = _mm512_set1_ps(qr[u][c]);
        for (int b = 0; b < NB; ++b) s[u][b] = _mm512_fmadd_ps(qb, kc[b], s[u][b]);
      }
    }
    for (int u = 0; u < 4; ++u) {
      for (int b = 0; b < NB; ++b) s[u][b] = _mm512_mul_ps(s[u][b], va);
      s[u][NB - 1] = _mm512_mask_blend_ps(live, ninf, s[u][NB - 1]);
      __m512 m = s[u][0];
      for (int b = 1; b < NB; ++b) m = _mm512_max_ps(s[u][b], m);
      const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(m));
      __m512 sum = _mm512_setzero_ps();
      for (int b = 0; b < NB; ++b) {
        s[u][b] = fast_exp16(_mm512_sub_ps(s[u][b], vmax));
        sum = _mm512_add_ps(sum, s[u][b]);
      }
      const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
      for (int b = 0; b < NB; ++b) _mm512_store_ps(p + u * NP + b * 16, _mm512_mul_ps(s[u][b], inv));
    }
    __m512 o[4][DB];
    for (int u = 0; u < 4; ++u)
      for (int b = 0; b < DB; ++b) o[u][b] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
      __m512 vj[DB];
      for (int b = 0; b < DB; ++b) vj[b] = _mm512_loadu_ps(v + j * ld + b * 16);
      for (int u = 0; u < 4; ++u) {
        const __m512 pb = _mm512_set1_ps(p[u * NP + j]);
        for (int b = 0; b < DB; ++b) o[u][b] = _mm512_fmadd_ps(pb, vj[b], o[u][b]);
      }
    }
    for (int u = 0; u < 4 && r0 + u < rows; ++u)
      for (int b = 0; b < DB; ++b) _mm512_storeu_ps(out + (r0 + u) * ldo + b * 16, o[u][b]);
  }
}

using FusedBlock = void (*)(float*, int64_t, const float*, const float*, const float*, int64_t, int64_t, int64_t,
                            float);
template <int NB>
constexpr FusedBlock kFusedByHead[4] = {attention_fused_block<NB, 1>, attention_fused_block<NB, 2>,
                                        attention_fused_block<NB, 3>, attention_fused_block<NB, 4>};
constexpr const FusedBlock* kFused[4] = {kFusedByHead<1>, kFusedByHead<2>, kFusedByHead<3>, kFusedByHead<4>};

ENCORE_AVX512_END

}  // namespace

bool attention_fused(float* out, int64_t ldo, const float* q, const float* k, const float* v, int64_t ld, int64_t rows,
                     int64_t n, int64_t d, float alpha) {
  if (n < 1 || n > kFusedKeys || d % 16 != 0 || d > 64 || !use_avx512()) return false;
  kFused[(n - 1) / 16][d / 16 - 1](out, ldo, q, k, v, ld, rows, n, alpha);
  return true;
}

}  // namespace encore::kernels
