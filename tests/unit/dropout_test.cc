// Train-mode dropout sits exactly at the reference positions. With p = 1 a dropout site
// zeroes its tensor, which is the same as zeroing the weights that produce it; so each
// site is checked against an eval-mode run with those weights zeroed. Then 0 < p < 1 is
// checked statistically and for determinism.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/safetensors.h"
#include "nn/encoder_layer.h"
#include "test_util.h"

namespace encore::testing {
namespace {

struct Layer {
  nn::EncoderLayerWeights w;
  int64_t H = 24, I = 40, heads = 3;
  explicit Layer(uint32_t seed) {
    w.attention.qkv = {random_tensor({3 * H, H}, seed + 1, 0.3f), random_tensor({3 * H}, seed + 2, 0.1f)};
    w.attention.out = {random_tensor({H, H}, seed + 3, 0.3f), random_tensor({H}, seed + 4, 0.1f)};
    w.feed_forward.in = {random_tensor({I, H}, seed + 5, 0.3f), random_tensor({I}, seed + 6, 0.1f)};
    w.feed_forward.out = {random_tensor({H, I}, seed + 7, 0.3f), random_tensor({H}, seed + 8, 0.1f)};
    w.ln1 = {random_tensor({H}, seed + 9, 0.2f), random_tensor({H}, seed + 10, 0.2f)};
    w.ln2 = {random_tensor({H}, seed + 11, 0.2f), random_tensor({H}, seed + 12, 0.2f)};
    for (auto* g : {&w.ln1.gamma, &w.ln2.gamma})
      for (int64_t i = 0; i < H; ++i) g->data<float>()[i] += 1.0f;
  }
};

void zero(Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 0.0f;
}

nn::RaggedBatch two_sequences() {
  nn::RaggedBatch b;
  b.cu = {0, 5, 12};
  b.position = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6};
  b.padded_len = 7;
  return b;
}

Tensor run(const Layer& layer, const LayerSpec& spec, bool train, uint64_t seed = 7) {
  nn::RaggedBatch batch = two_sequences();
  Tensor x = random_tensor({batch.tokens(), layer.H}, 99);
  ForwardOptions opt;
  opt.train = train;
  opt.seed = seed;
  nn::RunContext ctx;
  ctx.options = &opt;
  nn::encoder_layer_forward(x.data<float>(), batch, nn::AttentionMask{}, layer.w, spec, layer.heads,
                            nn::LayerStep::plain(0), ctx);
  return x;
}

LayerSpec base_spec(bool norm_first) {
  LayerSpec s;
  s.feed_forward.activation = Activation::GeluErf;  // act(0) == 0, so a zeroed FFN input equals a dropped one
  s.layer_norm_eps = 1e-5f;
  s.norm_first = norm_first;
  return s;
}

void expect_close(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_LT(max_abs_diff(a.data<float>(), b.data<float>(), a.numel()), 1e-5);
}

class DropoutSite : public ::testing::TestWithParam<bool> {};

TEST_P(DropoutSite, AttentionProbabilitiesAtP1EqualZeroValues) {
  Layer layer(1);
  LayerSpec s = base_spec(GetParam());
  s.attention.dropout = 1.0f;
  Layer zeroed = layer;
  zeroed.w.attention.qkv.weight = layer.w.attention.qkv.weight.clone();
  zeroed.w.attention.qkv.bias = layer.w.attention.qkv.bias.clone();
  // V rows are the last H rows of the fused projection.
  float* wv = zeroed.w.attention.qkv.weight.data<float>() + 2 * layer.H * layer.H;
  for (int64_t i = 0; i < layer.H * layer.H; ++i) wv[i] = 0.0f;
  for (int64_t i = 2 * layer.H; i < 3 * layer.H; ++i) zeroed.w.attention.qkv.bias.data<float>()[i] = 0.0f;
  expect_close(run(layer, s, true), run(zeroed, base_spec(GetParam()), false));
}

TEST_P(DropoutSite, AttentionOutputAtP1EqualsZeroProjection) {
  Layer layer(2);
  LayerSpec s = base_spec(GetParam());
  s.hidden_dropout = 1.0f;  // also drops the FFN output: zero both producers
  Layer zeroed = layer;
  zeroed.w.attention.out = {layer.w.attention.out.weight.clone(), layer.w.attention.out.bias.clone()};
  zeroed.w.feed_forward.out = {layer.w.feed_forward.out.weight.clone(), layer.w.feed_forward.out.bias.clone()};
  zero(zeroed.w.attention.out.weight), zero(zeroed.w.attention.out.bias);
  zero(zeroed.w.feed_forward.out.weight), zero(zeroed.w.feed_forward.out.bias);
  expect_close(run(layer, s, true), run(zeroed, base_spec(GetParam()), false));
}

TEST_P(DropoutSite, FfnInnerAtP1EqualsZeroFirstLinear) {
  Layer layer(3);
  LayerSpec s = base_spec(GetParam());
  s.feed_forward.dropout = 1.0f;
  Layer zeroed = layer;
  zeroed.w.feed_forward.in = {layer.w.feed_forward.in.weight.clone(), layer.w.feed_forward.in.bias.clone()};
  zero(zeroed.w.feed_forward.in.weight), zero(zeroed.w.feed_forward.in.bias);
  expect_close(run(layer, s, true), run(zeroed, base_spec(GetParam()), false));
}

TEST_P(DropoutSite, EvalIgnoresDropout) {
  Layer layer(4);
  LayerSpec s = base_spec(GetParam());
  s.attention.dropout = s.hidden_dropout = s.feed_forward.dropout = 0.9f;
  expect_close(run(layer, s, false), run(layer, base_spec(GetParam()), false));
}

INSTANTIATE_TEST_SUITE_P(PostAndPreNorm, DropoutSite, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "pre_norm" : "post_norm"; });

// A copy of a fixture model with its dropout probabilities replaced.
std::filesystem::path model_with_dropout(const TempDir& tmp, double hidden, double attention) {
  auto src = fixture("core/bert-hf-gelu-abs-h36/model");
  std::filesystem::copy(src, tmp.path, std::filesystem::copy_options::recursive);
  std::ifstream in(tmp.path / "config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["hidden_dropout_prob"] = hidden;
  j["attention_probs_dropout_prob"] = attention;
  std::ofstream(tmp.path / "config.json") << j.dump(2);
  return tmp.path;
}

TensorMap fixture_inputs() {
  TensorFile f = read_safetensors(fixture("core/bert-hf-gelu-abs-h36/no_mask.in.safetensors").string());
  return TensorMap(f.tensors.begin(), f.tensors.end());
}

TEST(BertDropout, EmbeddingDropoutAtP1ZeroesEmbeddingOutput) {
  TempDir tmp;
  Model m = Model::load(model_with_dropout(tmp, 1.0, 0.0).string());
  ForwardOptions o;
  o.train = true, o.all_hidden = true;
  TensorMap out = m.forward(fixture_inputs(), o);
  const Tensor& e = out.at("hidden_states.0");
  for (int64_t i = 0; i < e.numel(); ++i) ASSERT_EQ(e.data<float>()[i], 0.0f);
}

TEST(BertDropout, AttentionDropoutAtP1ZeroesProbabilities) {
  TempDir tmp;
  Model m = Model::load(model_with_dropout(tmp, 0.0, 1.0).string());
  ForwardOptions o;
  o.train = true, o.attentions = true;
  TensorMap out = m.forward(fixture_inputs(), o);
  const Tensor& a = out.at("attentions.0");
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data<float>()[i], 0.0f);
}

TEST(BertDropout, StatisticsSeedsAndThreads) {
  TempDir tmp;
  const double p = 0.3;
  Model m = Model::load(model_with_dropout(tmp, p, 0.0).string());
  ForwardOptions eval;
  eval.all_hidden = true;
  ForwardOptions train = eval;
  train.train = true, train.seed = 1234;
  TensorMap in = fixture_inputs();
  const Tensor ref = m.forward(in, eval).at("hidden_states.0");
  const Tensor got = m.forward(in, train).at("hidden_states.0");
  int64_t zeros = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float g = got.data<float>()[i], r = ref.data<float>()[i];
    if (g == 0.0f) {
      ++zeros;
    } else {
      EXPECT_NEAR(g, r / (1.0 - p), 1e-5 * std::max(1.0, std::fabs(r / (1.0 - p))));  // kept: scaled by 1/(1-p)
    }
  }
  const double n = static_cast<double>(ref.numel()), sigma = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(zeros), n * p, 5 * sigma) << "dropped " << zeros << " of " << n;

  // Same seed: the same mask whatever the thread count (the embedding output involves no
  // GEMM, so it is compared bit for bit). Another seed: another mask.
  ForwardOptions one_thread = train;
  one_thread.threads = 1;
  const Tensor again = m.forward(in, one_thread).at("hidden_states.0");
  train.threads = 2;
  const Tensor twice = m.forward(in, train).at("hidden_states.0");
  EXPECT_EQ(max_abs_diff(again.data<float>(), twice.data<float>(), again.numel()), 0.0);
  ForwardOptions other = train;
  other.seed = 99;
  const Tensor different = m.forward(in, other).at("hidden_states.0");
  EXPECT_GT(max_abs_diff(again.data<float>(), different.data<float>(), again.numel()), 1e-3);
}

}  // namespace
}  // namespace encore::testing
