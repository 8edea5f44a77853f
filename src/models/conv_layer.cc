// DeBERTa-v2's ConvLayer (modeling_deberta_v2.py ConvLayer.forward, applied by
// DebertaV2Encoder.forward after the first layer only):
//   out = Conv1d(embeddings) over the padded sequence (padding (k - 1) / 2; the embeddings of
//         masked positions are zeros, DebertaV2Embeddings multiplies them by the mask)
//   out = act(out masked_fill 0 at masked positions)
//   x   = LayerNorm(x + out) * mask
// On the ragged layout a tap reads the row at padded position p + offset when it is a real
// token of the same sequence, else zeros; a fully masked sequence (kept whole) gets zeros.
#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "models/model_impl.h"

namespace encore {

void conv_layer(const Model::Impl& m, const float* embeddings, float* x, const nn::RaggedBatch& batch,
                const nn::AttentionMask& mask) {
  const int64_t H = m.config.hidden, k = m.config.conv_kernel, pad = (k - 1) / 2, T = batch.tokens();
  // The k taps of every row side by side: [T, k * H], zeros where the neighbour is not a real token.
  Tensor taps = Tensor::zeros(DType::F32, {T, k * H});
  for (int64_t b = 0; b < batch.size(); ++b) {
    const int64_t begin = batch.cu[b], end = batch.cu[b + 1];
    if (!mask.all_masked.empty() && mask.all_masked[b]) {
      std::fill(x + begin * H, x + end * H, 0.0f);  // every position masked: output * mask
      continue;
    }
    std::vector<int64_t> row_at(static_cast<size_t>(batch.padded_len), -1);  // padded position -> row
    for (int64_t t = begin; t < end; ++t) row_at[static_cast<size_t>(batch.position[t])] = t;
    for (int64_t t = begin; t < end; ++t)
      for (int64_t tap = 0; tap < k; ++tap) {
        const int64_t p = batch.position[t] + tap - pad;
        if (p < 0 || p >= batch.padded_len || row_at[static_cast<size_t>(p)] < 0) continue;
        const float* from = embeddings + row_at[static_cast<size_t>(p)] * H;
        std::copy(from, from + H, taps.data<float>() + t * k * H + tap * H);
      }
  }
  Tensor out = Tensor::empty(DType::F32, {T, H});
  kernels::linear(out.data<float>(), taps.data<float>(), m.conv_weight.data<float>(), m.conv_bias.data<float>(), T,
                  k * H, H);
  kernels::activate(out.data<float>(), T * H, m.config.conv_activation);
  for (int64_t b = 0; b < batch.size(); ++b) {
    if (!mask.all_masked.empty() && mask.all_masked[b]) continue;
    for (int64_t t = batch.cu[b]; t < batch.cu[b + 1]; ++t) {
      float* row = x + t * H;
      const float* o = out.data<float>() + t * H;
      for (int64_t i = 0; i < H; ++i) row[i] += o[i];
      nn::layer_norm(row, row, m.conv_norm, 1, H, m.config.layer.layer_norm_eps);
    }
  }
}

}  // namespace encore
