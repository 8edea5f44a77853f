// Activations, residual adds, LayerNorm and dropout: the token-wise kernels.
// Each activation is the reference's own formula (see docs/architecture.md): "gelu" in HF
// and PyTorch is the exact erf form; Google's modeling.py and HF gelu_new use tanh.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace encore::kernels {

namespace {
inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752440f)); }
inline float gelu_tanh(float x) {
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): transformers/activations.py NewGELUActivation,
  // google-research/bert modeling.py gelu().
  const float k = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

void activate(float* x, int64_t n, Activation act) {
  switch (act) {
    case Activation::GeluErf:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = gelu_erf(x[i]);
      break;
    case Activation::GeluTanh:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = gelu_tanh(x[i]);
      break;
    case Activation::QuickGelu:  // x * sigmoid(1.702 x), transformers QuickGELUActivation
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] * sigmoid(1.702f * x[i]);
      break;
    case Activation::Relu:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Activation::Silu:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] * sigmoid(x[i]);
      break;
    case Activation::Tanh:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      break;
  }
}

namespace {

// One row: statistics in double (two passes), vectorized (the simd reductions let the
// compiler reorder the double sums; each stays exact to well below float32 rounding).
__attribute__((target_clones("avx512f", "avx2", "default")))
void layer_norm_row(float* yr, const float* xr, const float* gamma, const float* beta, int64_t N, float eps) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < N; ++i) sum += xr[i];
  const double mean = sum / static_cast<double>(N);
  double sq = 0.0;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < N; ++i) {
    const double d = xr[i] - mean;
    sq += d * d;
  }
  const float var = static_cast<float>(sq / static_cast<double>(N));
  const float inv = 1.0f / std::sqrt(var + eps);
  const float m = static_cast<float>(mean);
  if (beta) {
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - m) * inv * gamma[i] + beta[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - m) * inv * gamma[i];
  }
}

}  // namespace

void layer_norm(float* y, const float* x, const float* gamma, const float* beta, int64_t T, int64_t N,
                float eps) {
#pragma omp parallel for if (T * N > 32768)
  for (int64_t t = 0; t < T; ++t) layer_norm_row(y + t * N, x + t * N, gamma, beta, N, eps);
}

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

namespace {
__attribute__((target_clones("avx512f", "avx2", "default")))
void multiply_span(float* y, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] *= x[i];
}
}  // namespace

void multiply(float* y, const float* x, int64_t n) {
  constexpr int64_t kChunk = 16384;  // per thread item: a span the vector clone runs through
#pragma omp parallel for if (n > 4 * kChunk)
  for (int64_t at = 0; at < n; at += kChunk) multiply_span(y + at, x + at, std::min(kChunk, n - at));
}

namespace {
inline uint64_t mix(uint64_t z) {  // splitmix64 finalizer
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

bool dropout_keep(float p, uint64_t seed, uint64_t site, uint64_t index) {
  if (p <= 0.0f) return true;
  if (p >= 1.0f) return false;
  const uint64_t h = mix(mix(seed ^ mix(site)) ^ index);
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // uniform in [0,1)
  return u >= p;
}

void dropout(float* x, int64_t n, float p, uint64_t seed, uint64_t site, uint64_t first_index) {
  if (p <= 0.0f) return;
  const float scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    x[i] = dropout_keep(p, seed, site, first_index + static_cast<uint64_t>(i)) ? x[i] * scale : 0.0f;
}

}  // namespace encore::kernels
