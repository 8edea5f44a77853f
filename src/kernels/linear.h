// A Linear layer's GEMM, whatever form its weights are in, and the bfloat16 hand-off between
// two Linears in a row. The layers in src/nn/ call these and never a GEMM library directly.
//
// Legend: T = rows (tokens), K = input features, N = output features.
#pragma once

#include <cstdint>
#include <optional>

#include "encore/compute.h"
#include "kernels/packed_linear.h"

namespace encore::kernels {

// A Linear's weights as the GEMM sees them (borrowed): packed for oneDNN's matmul (every
// loaded model), or plain F32 [N, K] for sgemm (weights built in memory, e.g. by tests).
struct LinearRef {
  const PackedLinear* packed = nullptr;
  const float* weight = nullptr;  // [N, K] when not packed
  const float* bias = nullptr;    // [N] or null
  int64_t in = 0, out = 0;        // K, N
};

// y[T, N] = act(x[T, K] Wᵀ + b), or y += x Wᵀ + b when accumulate (act must be empty): bias,
// activation and the residual add are fused into oneDNN's matmul when the weights are
// packed, else sgemm followed by the same epilogue.
void linear_forward(float* y, const float* x, const LinearRef& l, int64_t T,
                    std::optional<Activation> act = std::nullopt, bool accumulate = false);

// True when `first` and `second` both run in bfloat16 (packed BF16), so that the [T, inner]
// activation between them can be handed over in bfloat16 (mlp_bf16_accumulate).
bool bf16_pair(const LinearRef& first, const LinearRef& second);

// y[T, N] += act(x Wfᵀ + bf) Wsᵀ + bs for a bf16_pair: the inner activation is written once,
// rounded to bfloat16 (what the second GEMM would round its input to anyway), into `inner`
// (room for T * first.out bfloat16 values), and read as it is.
void mlp_bf16_accumulate(float* y, void* inner, const float* x, const LinearRef& first, Activation act,
                         const LinearRef& second, int64_t T);

}  // namespace encore::kernels
