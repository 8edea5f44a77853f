// encore's own GEMMs for packed Linears on AVX-512 CPUs (float32; int8 with VNNI, where
// oneDNN has no AMX kernel), reading the weights where oneDNN packed them. Float32: its
// BA16a64b layout, [ceil(N / 64)] panels of [round_up(K, 16), 64] (64 output columns, each k
// a contiguous row of 64 floats; padding zero).
//
// Why not oneDNN's matmul on the same weights: Debian's oneDNN 2.6.3's f32 brgemm took
// 1.07-1.33x this kernel's time for 1-64 rows on AMD Zen 4 (a bert-base layer's four
// products, weights out of cache), 1.01-1.02x at 128-4,096 rows (docs/performance.md, the
// fast path). Not measured on Intel CPUs yet. The kernel is the plain
// register-blocked product: 6 rows x 64 columns of accumulators (24 vectors), one weight
// row of 4 vectors per k, one broadcast x per row, so every element of y is summed in k
// order 0, 1, ..., K-1 whatever the row count: a row's output does not depend on which
// rows share the call (the batch), bit for bit.
//
// y[T, N] = act(x[T, K] · W + bias), or y += x · W + bias when accumulate (act empty).
#pragma once

#include <cstdint>
#include <optional>

#include "encore/compute.h"

namespace encore::kernels {

// w: the packed panels; bias [N] or null. Needs use_avx512().
void panel_gemm(float* y, const float* x, int64_t T, int64_t K, int64_t N, const float* w, const float* bias,
                std::optional<Activation> act, bool accumulate);

// Int8 (PackedLinear's dynamic quantization): the weights' codes in oneDNN's BA16a64b4a
// layout, [ceil(N / 64)] panels of [round_up(K, 64) / 4, 64, 4] (4 consecutive k of a column
// together: VNNI's operand), with the weight rows' sums of codes, scales, the bias and the
// outlier channels' float32 weights [k_out, N].
struct Int8Panels {
  const int8_t* panels;
  const int32_t* sum;
  const float* scale;
  const float* bias;  // or null
  const float* outlier_w;
  int64_t k_out;
};

// Whether panel_gemm_int8 runs on this CPU: AVX-512 with VNNI.
bool panel_gemm_int8_runs();

// y[T, N] = act(float(x·W - zero[t] · sum) · scale · inv[t] + bias + xo[t] · outlier_w), or
// y += (the same without act): x the inputs' codes (rows of K, K a multiple of 4), inv and
// zero their per-row scales and zero points, xo [T, k_out] the outlier channels' values.
// The int32 accumulators stay in registers (no [T, N] int32 pass through memory), and the
// epilogue does PackedLinear's AVX-512 epilogue's operations in its order (int32 sums being
// exact in any order, the same result as oneDNN's matmul followed by that epilogue).
void panel_gemm_int8(float* y, const uint8_t* x, int64_t T, int64_t K, int64_t N, const Int8Panels& w,
                     const float* inv, const int32_t* zero, const float* xo, std::optional<Activation> act,
                     bool accumulate);

}  // namespace encore::kernels
