// The panel GEMMs (panel_gemm.h): one register-blocked loop, float32 (FMA) or int8 (VNNI's
// u8 x s8 dot products of 4), each with its epilogue on the registers.

#include "kernels/panel_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/activation16.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"

namespace encore::kernels {
namespace {

constexpr int64_t kPanel = 64;  // columns per panel: the layouts' inner block of N
constexpr int kRows = 6;        // rows per register block: 6 x 4 accumulators, 4 weight vectors
// Rows per work item. Items run group by group, each group's rows against every panel in
// turn: a group of x (1.5-6 MB here) is read from L3 once per panel, and each panel (196-786
// KB) from L2 once per 6 rows. Measured on Zen 4, one thread, a bert-base layer: with groups of
// 96 rows, 1.05x slower than panel after panel over all rows at 512 rows; all rows at once,
// 1.08x slower at 4,096 (x no longer in L3); groups of 384-512 rows are within 1% of the
// better of both at 512 and 4,096 rows.
constexpr int64_t kGroup = 512;

struct F32Args {  // w: panels of [round_up(K, 16), 64] floats
  float* y;
  const float* x;
  int64_t K, N;
  const float* bias;
  bool accumulate;
  int64_t panel_size() const { return (K + 15) / 16 * 16 * kPanel; }
};

struct Int8Args {  // w: panels of [round_up(K, 64) / 4, 64, 4] int8
  float* y;
  const uint8_t* x;  // codes, rows of K (a multiple of 4)
  int64_t K, N;
  const Int8Panels* w;
  const float* inv;    // [T] input scales
  const int32_t* zero;  // [T] zero points
  const float* xo;     // [T, k_out] outlier channels' values
  bool accumulate;
  int64_t panel_size() const { return (K + 63) / 64 * 64 * kPanel; }
};

ENCORE_AVX512_BEGIN

// Stores v at `out` (masked to the row's end) after the activation A (an Activation as an
// int, -1 none).
template <int A>
ENCORE_AVX512 inline void put(float* out, __mmask16 mask, __m512 v) {
  if constexpr (A >= 0) v = activate16<A>(v);
  _mm512_mask_storeu_ps(out, mask, v);
}

// Rows t .. t + MB of x against one panel (columns n0 .. n0 + 63), float32: then the bias
// and the residual (y's old value) or the activation.
template <int MB, int A>
struct F32Block {
  ENCORE_AVX512 static void run(const F32Args& a, int64_t t, const float* panel, int64_t n0) {
    const float* x = a.x + t * a.K;
    __m512 c[MB][4];
#pragma GCC unroll 8
    for (int m = 0; m < MB; ++m)
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) c[m][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < a.K; ++k) {
      const float* w = panel + k * kPanel;
      const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + 16), b2 = _mm512_loadu_ps(w + 32),
                   b3 = _mm512_loadu_ps(w + 48);
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m) {
        const __m512 s = _mm512_set1_ps(x[m * a.K + k]);
        c[m][0] = _mm512_fmadd_ps(s, b0, c[m][0]);
        c[m][1] = _mm512_fmadd_ps(s, b1, c[m][1]);
        c[m][2] = _mm512_fmadd_ps(s, b2, c[m][2]);
        c[m][3] = _mm512_fmadd_ps(s, b3, c[m][3]);
      }
    }
    float* y = a.y + t * a.N;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const int64_t col = n0 + 16 * v;
      if (col >= a.N) break;
      const __mmask16 mask = a.N - col >= 16 ? 0xffff : tail_mask(a.N - col);
      const __m512 b = a.bias ? _mm512_maskz_loadu_ps(mask, a.bias + col) : _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m) {
        float* out = y + m * a.N + col;
        const __m512 r = _mm512_add_ps(c[m][v], b);
        put<A>(out, mask, a.accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), r) : r);
      }
    }
  }
};

// The same in int8: 4 codes of a row against the panel's groups of 4 k per column, int32
// accumulators, then PackedLinear's int8 epilogue in its order of operations (bit for bit
// the result of oneDNN's accumulators through int8_epilogue_row): the zero point's share,
// both scales, the bias, the residual, the outlier channels, the activation.
template <int MB, int A>
struct Int8Block {
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,bmi2"))) static void run(
      const Int8Args& a, int64_t t, const int8_t* panel, int64_t n0) {
    const uint8_t* x = a.x + t * a.K;
    __m512i c[MB][4];
#pragma GCC unroll 8
    for (int m = 0; m < MB; ++m)
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) c[m][v] = _mm512_setzero_si512();
    for (int64_t k = 0; k < a.K; k += 4) {
      const int8_t* w = panel + k * kPanel;
      const __m512i b0 = _mm512_loadu_si512(w), b1 = _mm512_loadu_si512(w + 64), b2 = _mm512_loadu_si512(w + 128),
                    b3 = _mm512_loadu_si512(w + 192);
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m) {
        int32_t four;
        std::memcpy(&four, x + m * a.K + k, 4);
        const __m512i s = _mm512_set1_epi32(four);
        c[m][0] = _mm512_dpbusd_epi32(c[m][0], s, b0);
        c[m][1] = _mm512_dpbusd_epi32(c[m][1], s, b1);
        c[m][2] = _mm512_dpbusd_epi32(c[m][2], s, b2);
        c[m][3] = _mm512_dpbusd_epi32(c[m][3], s, b3);
      }
    }
    // The epilogue a column vector at a time, the outlier channels last (each outlier weight
    // vector loaded once for the block's rows, not once per row).
    const Int8Panels& p = *a.w;
    float* y = a.y + t * a.N;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const int64_t col = n0 + 16 * v;
      if (col >= a.N) break;
      const __mmask16 mask = a.N - col >= 16 ? 0xffff : tail_mask(a.N - col);
      const __m512 b = p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + col) : _mm512_setzero_ps();
      const __m512i sum = _mm512_maskz_loadu_epi32(mask, p.sum + col);
      const __m512 scale = _mm512_maskz_loadu_ps(mask, p.scale + col);
      __m512 r[MB];
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m) {
        const __m512i codes = _mm512_sub_epi32(c[m][v], _mm512_mullo_epi32(_mm512_set1_epi32(a.zero[t + m]), sum));
        r[m] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(codes), scale), _mm512_set1_ps(a.inv[t + m]), b);
        if (a.accumulate) r[m] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, y + m * a.N + col), r[m]);
      }
      for (int64_t i = 0; i < p.k_out; ++i) {
        const __m512 wv = _mm512_maskz_loadu_ps(mask, p.outlier_w + i * a.N + col);
#pragma GCC unroll 8
        for (int m = 0; m < MB; ++m) r[m] = _mm512_fmadd_ps(_mm512_set1_ps(a.xo[(t + m) * p.k_out + i]), wv, r[m]);
      }
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m) put<A>(y + m * a.N + col, mask, r[m]);
    }
  }
};

// Rows [t0, t1) against one panel, kRows at a time.
template <template <int, int> class Block, int A, class Args, class W>
ENCORE_AVX512 void rows(const Args& a, int64_t t0, int64_t t1, const W* panel, int64_t n0) {
  int64_t t = t0;
  for (; t + kRows <= t1; t += kRows) Block<kRows, A>::run(a, t, panel, n0);
  switch (t1 - t) {
    case 5: return Block<5, A>::run(a, t, panel, n0);
    case 4: return Block<4, A>::run(a, t, panel, n0);
    case 3: return Block<3, A>::run(a, t, panel, n0);
    case 2: return Block<2, A>::run(a, t, panel, n0);
    case 1: return Block<1, A>::run(a, t, panel, n0);
    default: return;
  }
}

ENCORE_AVX512_END

template <class Args, class W>
using Rows = void (*)(const Args&, int64_t, int64_t, const W*, int64_t);

// The loop with `act` in its lanes; tanh (no lane form) runs without and is applied after.
template <template <int, int> class Block, class Args, class W>
Rows<Args, W> rows_for(std::optional<Activation> act) {
  constexpr auto lanes = [](Activation a) { return static_cast<int>(a); };
  if (!act) return rows<Block, -1, Args, W>;
  switch (*act) {
    case Activation::GeluErf: return rows<Block, lanes(Activation::GeluErf), Args, W>;
    case Activation::GeluTanh: return rows<Block, lanes(Activation::GeluTanh), Args, W>;
    case Activation::QuickGelu: return rows<Block, lanes(Activation::QuickGelu), Args, W>;
    case Activation::Silu: return rows<Block, lanes(Activation::Silu), Args, W>;
    case Activation::Relu: return rows<Block, lanes(Activation::Relu), Args, W>;
    case Activation::Tanh: break;
  }
  return rows<Block, -1, Args, W>;
}

template <template <int, int> class Block, class Args, class W>
void gemm(const Args& a, const W* w, int64_t T, std::optional<Activation> act) {
  if (T == 0 || a.N == 0) return;
  const Rows<Args, W> run = rows_for<Block, Args, W>(act);
  // Groups of equal size (in whole register blocks): the threads split the items evenly,
  // so they must be of one size (600 rows as 512 + 88 left one of two threads 88 rows).
  const int64_t panels = (a.N + kPanel - 1) / kPanel, groups = (T + kGroup - 1) / kGroup;
  const int64_t size = ((T + groups - 1) / groups + kRows - 1) / kRows * kRows;
#pragma omp parallel for schedule(static) if (panels * groups > 1 && T * a.K * a.N > (1 << 18))
  for (int64_t i = 0; i < panels * groups; ++i) {
    const int64_t p = i % panels, t0 = i / panels * size;
    run(a, t0, std::min(T, t0 + size), w + p * a.panel_size(), p * kPanel);
  }
  if (act && !has_activate16(*act)) {
#pragma omp parallel for if (T * a.N > 65536)
    for (int64_t t = 0; t < T; ++t) activate(a.y + t * a.N, a.N, *act);
  }
}

}  // namespace

void panel_gemm(float* y, const float* x, int64_t T, int64_t K, int64_t N, const float* w, const float* bias,
                std::optional<Activation> act, bool accumulate) {
  gemm<F32Block>(F32Args{y, x, K, N, bias, accumulate}, w, T, act);
}

bool panel_gemm_int8_runs() {
  static const bool cpu = __builtin_cpu_supports("avx512vnni");
  return cpu && use_avx512();
}

void panel_gemm_int8(float* y, const uint8_t* x, int64_t T, int64_t K, int64_t N, const Int8Panels& w,
                     const float* inv, const int32_t* zero, const float* xo, std::optional<Activation> act,
                     bool accumulate) {
  gemm<Int8Block>(Int8Args{y, x, K, N, &w, inv, zero, xo, accumulate}, w.panels, T, act);
}

}  // namespace encore::kernels
