// The weights of a Linear layer and of a LayerNorm, as the blocks of src/nn use them.
#pragma once

#include <memory>
#include <vector>

#include "encore/model.h"
#include "kernels/linear.h"
#include "kernels/packed_linear.h"

namespace encore::nn {

struct Linear {
  // F32 [out, in] until packed; undefined once packed (the packed copy is then the only
  // one in memory: dense_weight() gets the values back).
  Tensor weight;
  Tensor bias;  // F32 [out], undefined when the spec has no bias
  // The weights packed for oneDNN's matmul (built at load); null: plain sgemm path on `weight`.
  std::shared_ptr<const kernels::PackedLinear> packed = nullptr;
  int64_t in() const { return packed ? packed->in() : weight.size(1); }
  int64_t out() const { return packed ? packed->out() : weight.size(0); }
  bool defined() const { return packed || weight.defined(); }
};

struct LayerNorm {
  Tensor gamma;  // F32 [H]
  Tensor beta;   // F32 [H], undefined when the spec has no bias
};

// Packs a Linear's weights for the fast GEMM path and lets go of `weight`; f32_channels:
// see kernels::PackedLinear.
void pack(Linear& l, ComputeType type = ComputeType::F32, const std::vector<int64_t>& f32_channels = {});

// The weights as F32 [out, in]: `weight` when not packed, else the packed copy reordered
// back, bit-identical for F32 packing. BF16 / Int8 packing rounded them: encore::Error
// (the checkpoint has to be read again; see export_torch_encoder).
Tensor dense_weight(const Linear& l);

// The GEMM's view of a Linear (kernels/linear.h).
kernels::LinearRef gemm_ref(const Linear& l);

// x[T, out] += Dropout_p(in[T, in] Wᵀ + b): one fused GEMM unless dropout applies (train
// mode, p > 0), then three steps through `scratch` [T, out]; `site` seeds the dropout mask.
void residual_linear(float* x, float* scratch, const float* in, const Linear& l, int64_t T, float p,
                     const ForwardOptions& options, uint64_t site);

// y[T, H] = LN(x) over H; y may alias x.
void layer_norm(float* y, const float* x, const LayerNorm& n, int64_t T, int64_t H, float eps);

// The data of an optional tensor: null when undefined or empty.
inline const float* data_or_null(const Tensor& t) {
  return t.defined() && t.numel() ? t.data<float>() : nullptr;
}

}  // namespace encore::nn
