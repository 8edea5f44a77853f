// A Linear layer prepared once for oneDNN's matmul primitive: weights reordered at load to
// the blocked layout oneDNN picks for this CPU (memory format `any`), bias and activation
// or a residual add fused as post-ops (Int8: in encore's own epilogue, below). F32 on
// AVX-512 CPUs, and Int8 on VNNI without AMX, run encore's own GEMMs on that same layout
// instead (kernels/panel_gemm.h).
//
// Compute types (activations stay float32 outside the GEMM):
//   F32   float32 weights and inputs.
//   BF16  bfloat16 weights and inputs (inputs rounded per call), float32 accumulation and output.
//   Int8  dynamic quantization: weights int8 with one scale per output row (127 / max|W_row|,
//         as CTranslate2's int8), inputs uint8 with one scale and zero point per token row
//         (255 / (max - min) of x_row and 0: the row's whole range gets the 256 codes; a GELU
//         output, -0.17 .. max, would get half of them with a symmetric scale), int32
//         accumulation (oneDNN's brgemm on AMX-INT8 tiles where the CPU has them; else with
//         VNNI, whose u8 x s8 products are native, encore's panel_gemm_int8 on oneDNN's
//         layout, the epilogue on its registers), and encore's epilogue: the zero point's share
//         (zero x the weight row's sum of codes) taken off in int32, both scales, the bias,
//         the outlier channels below and the activation (in registers on AVX-512 CPUs,
//         kernels/activation16.h), one row at a time.
//         Outlier input channels (`f32_channels`, found by calibration: BERT's LayerNorm
//         outputs carry a few channels 10-30x larger than the rest, which would otherwise
//         set every token's scale) are left out of the int8 product and added back in float32
//         as a rank-k update (LLM.int8()'s decomposition, with static channels).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "encore/compute.h"

namespace encore::kernels {

class PackedLinear {
 public:
  static constexpr size_t kMaxF32Channels = 64;
  // oneDNN primitives are specific to the row count: the process keeps the most recently
  // used cache_capacity() matmuls, shared by every Linear of the same problem:
  // kCachedPrimitives unless ENCORE_PRIMITIVE_CACHE_CAPACITY says otherwise (docs/performance.md: memory against speed).
  static constexpr size_t kCachedPrimitives = 256;
  static size_t cache_capacity();
  static size_t cached_primitives();  // at most cache_capacity()

  // weight [out, in] row-major, bias [out] or null; the sizes in GEMM order (K = in, N = out),
  // as kernels::linear takes them. The data is copied (reordered).
  // f32_channels (Int8 only): input channels computed in float32, outside the int8 GEMM.
  PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out, ComputeType type = ComputeType::F32,
               const std::vector<int64_t>& f32_channels = {});
  // A block of rows of the [out, in] weight matrix as a checkpoint stores it: row-major
  // [rows, in], or transposed ([in, rows] row-major, a TensorFlow kernel) when in_out is set.
  struct Rows {
    const float* data;
    int64_t rows;
    bool in_out = false;
  };
  // The weight given as row blocks stacked on dim 0 (Q, K and V of the fused projection, or
  // one block), packed straight from them: F32 and BF16 blocks are reordered into their
  // columns of the packed layout, so no stacked or transposed copy is built (unless the
  // layout pads or the block sizes are not multiples of oneDNN's blocks: then a temporary
  // dense copy is packed). Int8 quantizes a temporary dense copy.
  PackedLinear(const std::vector<Rows>& blocks, const float* bias, int64_t in, ComputeType type = ComputeType::F32);
  ~PackedLinear();
  PackedLinear(const PackedLinear&) = delete;
  PackedLinear& operator=(const PackedLinear&) = delete;

  // y[T, out] = act(x[T, in] · Wᵀ + b)          when accumulate is false
  // y[T, out] = y + (x · Wᵀ + b)                 when accumulate is true (act must be empty)
  void run(float* y, const float* x, int64_t T, std::optional<Activation> act = std::nullopt,
           bool accumulate = false) const;

  // BF16 only, for two Linears in a row (the feed-forward block): run_to_bf16 writes
  // act(x Wᵀ + b) rounded to bfloat16 — what the next BF16 Linear would round its input
  // to — and run_from_bf16 takes that input as it is, so the [T, inner] activation is
  // written once at half the size and never converted in a separate pass.
  void run_to_bf16(uint16_t* y, const float* x, int64_t T, std::optional<Activation> act = std::nullopt) const;
  void run_from_bf16(float* y, const uint16_t* x, int64_t T, bool accumulate = false) const;

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  ComputeType type() const { return type_; }
  // Whether run() takes encore's panel_gemm (F32 packed as BA16a64b, on AVX-512: see
  // kernels/panel_gemm.h) rather than oneDNN's matmul, now.
  bool uses_panel_gemm() const;

  // The weights back as [out, in] row-major float32 (out * in floats at `weight`): for F32,
  // a oneDNN reorder of the packed copy, bit-identical to the weights that were packed.
  // BF16 and Int8 weights were rounded when packed, so they are not the source values any
  // more: that throws encore::Error (re-read the checkpoint instead).
  void unpack(float* weight) const;

  struct Impl;

 private:
  // y (float32, or bfloat16 when y_bf16) from x (float32, or the GEMM's bfloat16 input when
  // x_bf16).
  void execute(void* y, bool y_bf16, const void* x, bool x_bf16, int64_t T, std::optional<Activation> act,
               bool accumulate) const;

  int64_t out_, in_;
  ComputeType type_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace encore::kernels
