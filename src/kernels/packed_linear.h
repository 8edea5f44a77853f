// A Linear layer prepared once for oneDNN's matmul primitive: weights reordered at load to
// the blocked layout oneDNN picks for this CPU (memory format `any`), bias and activation
// or a residual add fused as post-ops.
//
// Compute types (activations stay float32 outside the GEMM):
//   F32   float32 weights and inputs.
//   BF16  bfloat16 weights and inputs (inputs rounded per call), float32 accumulation and output.
//   Int8  dynamic quantization as CTranslate2's int8: weights int8 with one scale per output
//         row (127 / max|W_row|), inputs int8 with one scale per token row (127 / max|x_row|),
//         int32 accumulation (VNNI), float32 output rescaled by both scales inside the matmul's
//         post-ops (per-column output scales, per-row binary multiply), then bias and epilogue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "encore/model.h"

namespace encore::kernels {

class PackedLinear {
 public:
  // weight [out, in] row-major, bias [out] or null. The data is copied (reordered).
  PackedLinear(const float* weight, const float* bias, int64_t out, int64_t in, ComputeType type = ComputeType::F32);
  ~PackedLinear();
  PackedLinear(const PackedLinear&) = delete;
  PackedLinear& operator=(const PackedLinear&) = delete;

  // y[T, out] = act(x[T, in] · Wᵀ + b)          when accumulate is false
  // y[T, out] = y + (x · Wᵀ + b)                 when accumulate is true (act must be empty)
  void run(float* y, const float* x, int64_t T, std::optional<Activation> act = std::nullopt,
           bool accumulate = false) const;

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  ComputeType type() const { return type_; }
  size_t packed_bytes() const;

  struct Impl;

 private:
  int64_t out_, in_;
  ComputeType type_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace encore::kernels
