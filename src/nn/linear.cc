#include "nn/linear.h"

#include "kernels/kernels.h"

namespace encore::nn {

void pack(Linear& l, ComputeType type, const std::vector<int64_t>& f32_channels) {
  l.packed = std::make_shared<kernels::PackedLinear>(l.weight.data<float>(), data_or_null(l.bias), l.in(), l.out(),
                                                     type, f32_channels);
  l.weight = Tensor();
}

Tensor dense_weight(const Linear& l) {
  if (!l.packed) return l.weight;
  Tensor w = Tensor::empty(DType::F32, {l.out(), l.in()});
  l.packed->unpack(w.data<float>());
  return w;
}

kernels::LinearRef gemm_ref(const Linear& l) {
  return {l.packed.get(), l.packed ? nullptr : l.weight.data<float>(), data_or_null(l.bias), l.in(), l.out()};
}

void residual_linear(float* x, float* scratch, const float* in, const Linear& l, int64_t T, float p,
                     const ForwardOptions& options, uint64_t site) {
  if (!(options.train && p > 0.0f)) {
    kernels::linear_forward(x, in, gemm_ref(l), T, std::nullopt, /*accumulate=*/true);
    return;
  }
  kernels::linear_forward(scratch, in, gemm_ref(l), T);
  kernels::dropout(scratch, T * l.out(), p, options.seed, site);
  kernels::add_inplace(x, scratch, T * l.out());
}

void layer_norm(float* y, const float* x, const LayerNorm& n, int64_t T, int64_t H, float eps) {
  kernels::layer_norm(y, x, n.gamma.data<float>(), data_or_null(n.beta), T, H, eps);
}

}  // namespace encore::nn
