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
//         post-ops (per-column output scales), then per-token scale, bias and epilogue.
//         Outlier input channels (`f32_channels`, found by calibration: BERT's LayerNorm
//         outputs carry a few channels 10-30x larger than the rest, which would otherwise
//         set every token's scale) are left out of the int8 product and added back in float32
//         as a rank-k update (LLM.int8()'s decomposition, with static channels).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "encore/model.h"

namespace encore::kernels {

class PackedLinear {
 public:
  static constexpr size_t kMaxF32Channels = 64;

  // weight [out, in] row-major, bias [out] or null. The data is copied (reordered).
  // f32_channels (Int8 only): input channels computed in float32, outside the int8 GEMM.
  PackedLinear(const float* weight, const float* bias, int64_t out, int64_t in, ComputeType type = ComputeType::F32,
               const std::vector<int64_t>& f32_channels = {});
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
  const std::vector<int64_t>& f32_channels() const;  // Int8: the outlier channels kept in float32

  struct Impl;

 private:
  int64_t out_, in_;
  ComputeType type_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace encore::kernels
