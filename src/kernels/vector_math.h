// Scalar math written branch-free so that `#pragma omp simd` loops vectorize it, for the
// kernels compiled per ISA (target_clones).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace encore::kernels {

// A Cephes-style expf: range reduction by ln 2, degree-6 polynomial, ~1 ulp over the range
// softmax uses; inputs below -87.3 (including -inf) give exactly 0, as expf does.
inline float fast_exp(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365447504f;
  const bool underflow = x < lo;
  float xc = x > hi ? hi : (x < lo ? lo : x);
  const float fx = std::nearbyint(xc * 1.44269504088896341f);
  float r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(fx) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  const float v = p * scale;
  return underflow ? 0.0f : v;
}

// GELU with erf, 0.5 x (1 + erf(x / sqrt 2)), with erf from Abramowitz & Stegun 7.1.26
// (|error| <= 1.5e-7; the approximation oneDNN's own gelu_erf kernels use). For the int8
// epilogue, where the inputs carry quantization error orders of magnitude larger.
inline float gelu_erf_approx(float x) {
  const float z = std::fabs(x) * 0.70710678118654752440f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float erf_abs = 1.0f - p * t * fast_exp(-z * z);
  const float erf = x < 0.0f ? -erf_abs : erf_abs;
  return 0.5f * x * (1.0f + erf);
}

}  // namespace encore::kernels
