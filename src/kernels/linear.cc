#include "kernels/linear.h"

#include <vector>

#include "kernels/kernels.h"

namespace encore::kernels {

void linear_forward(float* y, const float* x, const LinearRef& l, int64_t T, std::optional<Activation> act,
                    bool accumulate) {
  if (l.packed) {
    l.packed->run(y, x, T, act, accumulate);
    return;
  }
  if (accumulate) {
    std::vector<float> tmp(static_cast<size_t>(T * l.out));
    linear(tmp.data(), x, l.weight, l.bias, T, l.in, l.out);
    add_inplace(y, tmp.data(), T * l.out);
    return;
  }
  linear(y, x, l.weight, l.bias, T, l.in, l.out);
  if (act) activate(y, T * l.out, *act);
}

bool bf16_pair(const LinearRef& first, const LinearRef& second) {
  return first.packed && second.packed && first.packed->type() == ComputeType::BF16 &&
         second.packed->type() == ComputeType::BF16;
}

void mlp_bf16_accumulate(float* y, void* inner, const float* x, const LinearRef& first, Activation act,
                         const LinearRef& second, int64_t T) {
  auto* h16 = static_cast<uint16_t*>(inner);
  first.packed->run_to_bf16(h16, x, T, act);
  second.packed->run_from_bf16(y, h16, T, /*accumulate=*/true);
}

}  // namespace encore::kernels
