// Scaled dot-product attention over a ragged batch, one (sequence, head) at a time.
// Reference order of operations (transformers eager_attention_forward / modeling.py
// attention_layer / torch scaled_dot_product_attention math path):
//   scores = q·k * (1/sqrt(d))  [+ relative terms, scaled too]  + mask bias
//   probs  = softmax(scores)    (max-subtracted)
//   probs  = dropout(probs) * head_mask
//   ctx    = probs · v
// Masked keys that the ragged layout dropped would get exp(fill - max) == 0 exactly in the
// reference (fill is -inf, -10000 or float32 min), so dropping them changes nothing.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kernels.h"
#include "nn/encoder_layer.h"

namespace encore::nn {

namespace {

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

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

#pragma omp parallel for schedule(dynamic) collapse(2)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t begin = batch.cu[b], n = batch.cu[b + 1] - begin;
      const bool all_masked = !mask.all_masked.empty() && mask.all_masked[b];
      std::vector<float> p(static_cast<size_t>(n));
      const float hm = head_mask ? head_mask[layer * heads + h] : 1.0f;
      for (int64_t i = 0; i < n; ++i) {
        const float* qi = qkv + (begin + i) * ld + h * d;
        const int64_t pi = batch.position[begin + i];
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n; ++j) {
          const float* kj = qkv + (begin + j) * ld + H + h * d;
          const int64_t pj = batch.position[begin + j];
          float s = dot(qi, kj, d);
          if (dist) {  // HF: distance embedding at (l - r) + max_positions - 1, added before scaling
            const float* e = dist + (pi - pj + spec.max_relative - 1) * d;
            s += dot(qi, e, d);
            if (spec.relative == RelativePositions::KeyQuery) s += dot(kj, e, d);
          }
          s *= scale;
          if (mask.dense) s += mask.dense[b * mask.sb + h * mask.sh + pi * mask.sq + pj * mask.sk];
          if ((mask.causal && pj > pi) || all_masked) s += spec.mask_fill;
          p[j] = s;
          mx = std::max(mx, s);
        }
        if (mx == -std::numeric_limits<float>::infinity() && spec.masked_row_zero) {
          for (int64_t j = 0; j < n; ++j) p[j] = 0.0f;
        } else {
          float sum = 0.0f;
          for (int64_t j = 0; j < n; ++j) {
            p[j] = std::exp(p[j] - mx);
            sum += p[j];
          }
          const float inv = 1.0f / sum;
          for (int64_t j = 0; j < n; ++j) p[j] *= inv;
        }
        const uint64_t row_index = static_cast<uint64_t>(((b * heads + h) * S + pi) * S);
        for (int64_t j = 0; j < n; ++j) {
          if (train) {
            const uint64_t idx = row_index + static_cast<uint64_t>(batch.position[begin + j]);
            p[j] = kernels::dropout_keep(spec.attention_dropout, run.options->seed, site, idx) ? p[j] * keep_scale
                                                                                              : 0.0f;
          }
          p[j] *= hm;
        }
        if (run.probs_out) {
          float* row = run.probs_out + ((b * heads + h) * S + pi) * S;
          for (int64_t j = 0; j < n; ++j) row[batch.position[begin + j]] = p[j];
        }
        float* out = ctx + (begin + i) * H + h * d;
        for (int64_t c = 0; c < d; ++c) out[c] = 0.0f;
        for (int64_t j = 0; j < n; ++j) {
          const float* vj = qkv + (begin + j) * ld + 2 * H + h * d;
          const float pj = p[j];
          for (int64_t c = 0; c < d; ++c) out[c] += pj * vj[c];
        }
      }
    }
  }
}

}  // namespace encore::nn
