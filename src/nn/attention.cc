// Scaled dot-product attention over a ragged batch, a block of queries of one (sequence,
// head) at a time — no [S, S] tensor is ever materialized beyond a block of rows.
// Reference order of operations (transformers eager attention / modeling.py
// attention_layer / torch scaled_dot_product_attention math path):
//   scores = q·k [+ relative terms] then * (1/sqrt(d)), then + mask bias
//   probs  = softmax(scores)    (max-subtracted)
//   probs  = dropout(probs) * head_mask
//   ctx    = probs · v
// Masked keys that the ragged layout dropped would get exp(fill - max) == 0 exactly in the
// reference (fill is -inf, -10000 or float32 min), so dropping them changes nothing.
//
// Without masks, dropout or relative positions, blocks of up to kernels::kFusedKeys keys run
// in one fused AVX-512 kernel (kernels::attention_fused: scores, softmax and P·V in
// registers). Otherwise, and on other CPUs, Q·Kᵀ and P·V are kernels::attention_scores /
// attention_values on strided views of the fused QKV projection (sgemm, or encore's small
// kernels for short sequences), single-threaded inside this parallel loop: the parallelism
// is over (sequence, head, query block) work items.
#include <cmath>
#include <exception>
#include <limits>
#include <vector>

#include "kernels/kernels.h"
#include "nn/encoder_layer.h"

namespace encore::nn {

namespace {

constexpr int64_t kQueryBlock = 64;

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

struct WorkItem {
  int64_t b, h, q0;
};

}  // namespace

void attention_forward(float* ctx, const float* qkv, const RaggedBatch& batch, const AttentionMask& mask,
                       const EncoderLayerWeights& w, const LayerSpec& spec, int64_t heads, int64_t layer,
                       const RunContext& run) {
  const int64_t B = batch.size(), H = w.attn_out.out(), d = H / heads, S = batch.padded_len;
  const int64_t ld = 3 * H;  // row stride of qkv
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const float* dist = spec.relative != RelativePositions::None ? w.distance.data<float>() : nullptr;
  const bool train = run.options->train && spec.attention_dropout > 0.0f;
  const float keep_scale = spec.attention_dropout >= 1.0f ? 0.0f : 1.0f / (1.0f - spec.attention_dropout);
  const uint64_t site = static_cast<uint64_t>(layer) * kSitesPerLayer + kSiteAttnProbs;
  const float* head_mask = run.head_mask && run.head_mask->defined() ? run.head_mask->data<float>() : nullptr;

  std::vector<WorkItem> items;
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = batch.cu[b + 1] - batch.cu[b];
    longest = std::max(longest, n);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t q0 = 0; q0 < n; q0 += kQueryBlock) items.push_back({b, h, q0});
  }
  const int64_t n_items = static_cast<int64_t>(items.size());
  std::exception_ptr failed;  // an exception must not leave the parallel region

#pragma omp parallel
  {
    std::vector<float> scores(static_cast<size_t>(kQueryBlock * longest));
#pragma omp for schedule(dynamic)
    for (int64_t it = 0; it < n_items; ++it) {
      try {
        const auto [b, h, q0] = items[static_cast<size_t>(it)];
        const int64_t begin = batch.cu[b], n = batch.cu[b + 1] - begin, rows = std::min(kQueryBlock, n - q0);
        const float* Q = qkv + (begin + q0) * ld + h * d;
        const float* K = qkv + begin * ld + H + h * d;
        const float* V = qkv + begin * ld + 2 * H + h * d;
        float* P = scores.data();
        const int64_t* pos = batch.position.data() + begin;
        const bool all_masked = !mask.all_masked.empty() && mask.all_masked[b];
        const float hm = head_mask ? head_mask[layer * heads + h] : 1.0f;

        // Plain attention (no relative positions, mask, dropout, head mask or recorded
        // probabilities: every inference run of an HF or Google BERT, whose padding the
        // ragged layout already dropped) runs fused when the kernel takes the shape.
        const bool plain =
            !dist && !mask.dense && !mask.causal && !all_masked && !train && hm == 1.0f && !run.probs_out;
        if (plain && kernels::attention_fused(ctx + (begin + q0) * H + h * d, H, Q, K, V, ld, rows, n, d, scale))
          continue;

        // HF adds relative-position scores before scaling, so scale afterwards in that case.
        kernels::attention_scores(P, Q, ld, K, ld, rows, n, d, dist ? 1.0f : scale);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = P + r * n;
          const int64_t pi = pos[q0 + r];
          if (dist) {  // distance embedding at (l - r) + max_positions - 1
            const float* qi = Q + r * ld;
            for (int64_t j = 0; j < n; ++j) {
              const float* e = dist + (pi - pos[j] + spec.max_relative - 1) * d;
              float s = row[j] + dot(qi, e, d);
              if (spec.relative == RelativePositions::KeyQuery) s += dot(K + j * ld, e, d);
              row[j] = s * scale;
            }
          }
          if (mask.dense) {
            const float* bias = mask.dense + b * mask.sb + h * mask.sh + pi * mask.sq;
            for (int64_t j = 0; j < n; ++j) row[j] += bias[pos[j] * mask.sk];
          }
          if (mask.causal)
            for (int64_t j = 0; j < n; ++j)
              if (pos[j] > pi) row[j] += spec.mask_fill;
          if (all_masked)
            for (int64_t j = 0; j < n; ++j) row[j] += spec.mask_fill;

          // Every key -inf: PyTorch's safe softmax gives 0, plain softmax NaN.
          if (!kernels::softmax_inplace(row, n)) {
            const float v = spec.masked_row_zero ? 0.0f : std::numeric_limits<float>::quiet_NaN();
            std::fill(row, row + n, v);
          }
          if (train) {
            const uint64_t row_index = static_cast<uint64_t>(((b * heads + h) * S + pi) * S);
            for (int64_t j = 0; j < n; ++j)
              row[j] = kernels::dropout_keep(spec.attention_dropout, run.options->seed, site,
                                             row_index + static_cast<uint64_t>(pos[j]))
                           ? row[j] * keep_scale
                           : 0.0f;
          }
          if (hm != 1.0f) kernels::scale_inplace(row, n, hm);
          if (run.probs_out) {
            float* out = run.probs_out + ((b * heads + h) * S + pi) * S;
            for (int64_t j = 0; j < n; ++j) out[pos[j]] = row[j];
          }
        }
        kernels::attention_values(ctx + (begin + q0) * H + h * d, H, P, V, ld, rows, n, d);
      } catch (...) {
#pragma omp critical(encore_attention_error)
        if (!failed) failed = std::current_exception();
      }
    }
  }
  if (failed) std::rethrow_exception(failed);
}

}  // namespace encore::nn
