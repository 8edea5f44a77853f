#include "nn/position_bias.h"

#include <algorithm>

namespace encore::nn {

int64_t relative_position_bucket(int64_t relative, int64_t num_buckets, int64_t max_distance) {
  int64_t n = -relative;
  const int64_t half = num_buckets / 2;
  int64_t bucket = n < 0 ? half : 0;
  n = n < 0 ? -n : n;
  const int64_t max_exact = half / 2;
  if (n < max_exact) return bucket + n;
  // max_exact + int(log(n / max_exact) / log(max_distance / max_exact) * steps), i.e. the
  // number of j >= 1 with (n / max_exact)^steps >= (max_distance / max_exact)^j, counted
  // without logarithms. The reference runs them in float32; for MPNet's 32 buckets and
  // distance 128 it agrees with exact arithmetic at every boundary (docs/encoder-family.md).
  const int64_t steps = half - max_exact;
  const double ratio = static_cast<double>(max_distance) / static_cast<double>(max_exact);
  double x = 1.0;
  for (int64_t s = 0; s < steps; ++s) x *= static_cast<double>(n) / static_cast<double>(max_exact);
  int64_t k = 0;
  for (double power = ratio; k < steps && x >= power; power *= ratio) ++k;
  return bucket + std::min(max_exact + k, half - 1);
}

PositionBias bucket_position_bias(const Tensor& table, int64_t heads, int64_t S, int64_t num_buckets,
                                  int64_t max_distance) {
  PositionBias p;
  const int64_t width = 2 * S - 1;
  p.values = Tensor::empty(DType::F32, {heads, width});
  const float* t = table.data<float>();
  float* v = p.values.data<float>();
  for (int64_t k = 0; k < width; ++k) {  // k = S - 1 + query - key
    const int64_t bucket = relative_position_bucket(S - 1 - k, num_buckets, max_distance);
    ENCORE_CHECK(bucket < table.size(0), "relative position bucket ", bucket, " of distance ", S - 1 - k,
                 " is beyond the ", table.size(0), " rows of the relative attention bias");
    for (int64_t h = 0; h < heads; ++h) v[h * width + k] = t[bucket * heads + h];
  }
  // at[h * width + (S - 1) + i - j]: sq = 1, sk = -1 from the centre column.
  p.bias = {v + (S - 1), 0, width, 1, -1};
  return p;
}

}  // namespace encore::nn
