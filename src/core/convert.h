// Dtype conversion into a caller's buffer (Tensor::to_f32 allocates; the loader converts
// weights into a reused per-thread buffer instead).
#pragma once

#include "encore/tensor.h"

namespace encore {

// t's values as float32 into out[0 .. t.numel()): exact for F16, BF16 and integers up to
// 2^24, rounded to nearest for F64 and larger integers (as Tensor::to_f32).
void to_f32_into(const Tensor& t, float* out);

// The float16 value nearest to x (ties to even; beyond float16's range, infinity), as a
// float: what torch's x.half().float() gives.
float round_to_half(float x);

}  // namespace encore
