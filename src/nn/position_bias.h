// Bucketed relative position bias (RelativePositions::Bucket; MPNet, after T5): a table
// [buckets, heads] read at the bucket of each key - query distance, computed once per
// forward and shared by every layer.
#pragma once

#include <cstdint>

#include "encore/tensor.h"
#include "nn/run_context.h"

namespace encore::nn {

// The bucket of `relative` = key position - query position: half the buckets per direction
// (keys before the query in the upper half), distances below a quarter of the buckets exact,
// the rest log-spaced up to max_distance and clamped (modeling_mpnet.py L382-399).
int64_t relative_position_bucket(int64_t relative, int64_t num_buckets, int64_t max_distance);

// The bias of positions 0..S-1 as a score bias by distance: values [heads, 2S - 1], entry
// (h, S - 1 + i - j) for query i and key j; `bias` views `values`.
struct PositionBias {
  Tensor values;
  ScoreBias bias;
};
PositionBias bucket_position_bias(const Tensor& table, int64_t heads, int64_t S, int64_t num_buckets,
                                  int64_t max_distance);

}  // namespace encore::nn
