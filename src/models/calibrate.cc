// Int8 calibration: which GEMM input channels stay in float32.
//
// BERT's LayerNorm outputs (the inputs of the QKV and FFN-in GEMMs) and the FFN's GELU
// output carry a few channels that are 10-50x larger than the rest, the same channels for
// every input (all-MiniLM-L6-v2: channel 99 reaches 28 where the median channel's maximum
// is 1.2). With one int8 scale per token those channels set the scale and the other
// channels keep 2-3 bits. Following LLM.int8() (Dettmers et al., 2022), but with channels
// found once at load instead of per batch: run the float32 model on one fixed sequence,
// take each GEMM input's per-channel maximum |x|, and keep the channels above
// kOutlierRatio x the median (at most kMaxOutliers per GEMM) in float32.
//
// Measured on all-MiniLM-L6-v2 (66 golden inputs, embedding cosine to float32; a fake-quant
// simulation in PyTorch reproduces encore's plain int8 exactly): plain int8 worst 0.9857,
// mean 0.9963; with this decomposition worst 0.9965, mean 0.9992. The choice of the
// calibration sequence barely matters (one real sentence: worst 0.9960), because the
// outlier channels are a property of the weights.
#include <algorithm>
#include <cmath>

#include "models/model_impl.h"

namespace encore {

namespace {

constexpr float kOutlierRatio = 3.0f;
constexpr size_t kMaxOutliers = 8;
constexpr int64_t kCalibrationTokens = 128;

// The calibration input [T, H]: embedded token ids spread over the vocabulary (token
// architectures), or a fixed pseudo-random N(0, 1) sequence (models that take hidden states).
Tensor calibration_input(const Model::Impl& m, int64_t T) {
  const ModelConfig& c = m.config;
  if (m.arch->embeddings == EmbeddingsKind::Tokens) {
    std::vector<int64_t> ids(static_cast<size_t>(T));
    for (int64_t j = 0; j < T; ++j) ids[static_cast<size_t>(j)] = (1000 + 13 * j) % c.vocab_size;
    return embed_sequence(m, ids);
  }
  Tensor x = Tensor::empty(DType::F32, {T, c.hidden});
  float* p = x.data<float>();
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto uniform = [&] {  // splitmix64 -> (0, 1)
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (static_cast<double>((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
  };
  for (int64_t i = 0; i < x.numel(); ++i)  // Box-Muller
    p[i] = static_cast<float>(std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()));
  return x;
}

std::vector<int64_t> outliers(const std::vector<float>& channel_max) {
  std::vector<float> sorted = channel_max;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const float threshold = kOutlierRatio * sorted[sorted.size() / 2];
  std::vector<int64_t> idx;
  for (size_t k = 0; k < channel_max.size(); ++k)
    if (channel_max[k] > threshold) idx.push_back(static_cast<int64_t>(k));
  std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    return channel_max[static_cast<size_t>(a)] > channel_max[static_cast<size_t>(b)];
  });
  if (idx.size() > kMaxOutliers) idx.resize(kMaxOutliers);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace

OutlierChannels int8_outlier_channels(const Model::Impl& m) {
  const ModelConfig& c = m.config;
  const int64_t T =
      std::max<int64_t>(1, std::min(kCalibrationTokens, c.max_length > 0 ? c.max_length : kCalibrationTokens));
  Tensor x = calibration_input(m, T);
  nn::RaggedBatch batch;
  batch.cu = {0, T};
  for (int64_t j = 0; j < T; ++j) batch.position.push_back(j);
  batch.padded_len = T;
  // Per stored layer: a layer the plan runs at several depths takes the maximum over all.
  std::vector<std::array<std::vector<float>, nn::kGemmSites>> channel_max(m.layers.size());
  ForwardOptions options;
  nn::Workspace workspace;
  nn::RunContext run;
  run.options = &options;
  run.workspace = &workspace;
  run.observe = [&](int64_t weights, nn::GemmSite site, const float* in, int64_t rows, int64_t K) {
    std::vector<float>& mx = channel_max[static_cast<size_t>(weights)][static_cast<size_t>(site)];
    mx.resize(static_cast<size_t>(K), 0.0f);
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t k = 0; k < K; ++k)
        mx[static_cast<size_t>(k)] = std::max(mx[static_cast<size_t>(k)], std::fabs(in[t * K + k]));
  };
  nn::AttentionMask mask;
  const nn::PositionBias position_bias = shared_position_bias(m, T);
  mask.position_bias = position_bias.bias;
  run_plan(m, x.data<float>(), batch, mask, run, [](size_t, const float*) {});
  OutlierChannels out(m.layers.size());
  for (size_t l = 0; l < out.size(); ++l)
    for (int s = 0; s < nn::kGemmSites; ++s) out[l][static_cast<size_t>(s)] = outliers(channel_max[l][static_cast<size_t>(s)]);
  return out;
}

}  // namespace encore
