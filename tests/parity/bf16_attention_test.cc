// Attention's products in bfloat16 (bf16 and int8 models on CPUs with AVX512-BF16 or AMX,
// kernels::use_bf16_attention): the products themselves against a float64 reference of the
// same bfloat16 operands, at head sizes oneDNN blocks oddly and key counts with tails; and
// whole models with bfloat16 attention against the same models with float32 attention
// (force_f32_attention), on inputs long enough to take the path: key padding, float and
// causal masks, a fully masked query, ragged batches, rotary positions and local windows.
// How far reduced precision is from the float32 reference is reduced_precision_test.cc's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "kernels/packed_linear.h"
#include "parity/fixture.h"

namespace encore::testing {
namespace {

using kernels::from_bf16;

std::vector<uint16_t> random_bf16(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<uint16_t> out(n);
  for (auto& x : out) x = kernels::to_bf16(g(rng));
  return out;
}

class Bf16Attention : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernels::use_bf16_attention())
      GTEST_SKIP() << "this CPU has no AVX512-BF16: attention's products stay in float32 here";
  }
  void TearDown() override { kernels::force_f32_attention(false); }
};

TEST_F(Bf16Attention, ProductsAreTheBf16OperandsProductsInFloat32) {
  std::mt19937 rng(11);
  for (int64_t d : {17, 32, 64, 96})
    for (int64_t rows : {1, 37, 128})
      for (int64_t n : {128, 203}) {
        const auto q = random_bf16(static_cast<size_t>(rows * d), rng), k = random_bf16(static_cast<size_t>(n * d), rng),
                   v = random_bf16(static_cast<size_t>(n * d), rng), p = random_bf16(static_cast<size_t>(rows * n), rng);
        const float alpha = 0.37f;
        std::vector<float> scores(static_cast<size_t>(rows * n)), out(static_cast<size_t>(rows * d));
        kernels::attention_scores_bf16(scores.data(), q.data(), k.data(), rows, n, d, alpha);
        kernels::attention_values_bf16(out.data(), p.data(), v.data(), rows, n, d);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t j = 0; j < n; ++j) {
            double exact = 0.0, magnitude = 0.0;
            for (int64_t i = 0; i < d; ++i) {
              const double t = static_cast<double>(from_bf16(q[r * d + i])) * from_bf16(k[j * d + i]);
              exact += t, magnitude += std::fabs(t);
            }
            ASSERT_NEAR(scores[r * n + j], alpha * exact, 1e-6 * (1.0 + alpha * magnitude))
                << "scores d=" << d << " rows=" << rows << " n=" << n << " at " << r << "," << j;
          }
          for (int64_t i = 0; i < d; ++i) {
            double exact = 0.0, magnitude = 0.0;
            for (int64_t j = 0; j < n; ++j) {
              const double t = static_cast<double>(from_bf16(p[r * n + j])) * from_bf16(v[j * d + i]);
              exact += t, magnitude += std::fabs(t);
            }
            ASSERT_NEAR(out[r * d + i], exact, 1e-6 * (1.0 + magnitude))
                << "values d=" << d << " rows=" << rows << " n=" << n << " at " << r << "," << i;
          }
        }
      }
  // 48 shapes: kept, up to the cache's bound.
  EXPECT_GE(kernels::attention_cached_primitives(), std::min<size_t>(48, kernels::PackedLinear::cache_capacity()));
  EXPECT_LE(kernels::attention_cached_primitives(), kernels::PackedLinear::cache_capacity());
}

// The relative L2 difference of two forward results over every output both have (NaN where
// the reference has NaN required in both), and whether any value differs at all.
struct Difference {
  double relative = 0.0;
  bool any = false;
};

Difference compare(const TensorMap& a, const TensorMap& b) {
  Difference out;
  for (const auto& [name, ta] : a) {
    const Tensor fa = ta.to_f32(), fb = b.at(name).to_f32();
    EXPECT_EQ(fa.shape(), fb.shape()) << name;
    double diff = 0.0, norm = 0.0;
    for (int64_t i = 0; i < fa.numel(); ++i) {
      const float x = fa.data<float>()[i], y = fb.data<float>()[i];
      if (std::isnan(x) || std::isnan(y)) {
        EXPECT_TRUE(std::isnan(x) && std::isnan(y)) << name << " [" << i << "]: " << x << " vs " << y;
        continue;
      }
      diff += (static_cast<double>(x) - y) * (static_cast<double>(x) - y), norm += static_cast<double>(y) * y;
      out.any = out.any || x != y;
    }
    out.relative = std::max(out.relative, std::sqrt(diff / std::max(norm, 1e-30)));
  }
  return out;
}

// forward() of `dir`'s model at bf16 and int8 with bfloat16 attention and with float32
// attention. Tolerances: about 3x the largest difference measured when they were set (bf16
// 0.0081, int8 0.023: int8 amplifies a small change, every token's input scale moving with
// it). For scale: the same models' relative error to the float32 reference is 0.0099 (bf16)
// and 0.030 (int8) on the ModernBERT fixture, 0.0086 and 0.030 with float32 attention.
// `output`: a name the outputs must have (null: any).
void expect_close(const std::filesystem::path& dir, const TensorMap& inputs, const ForwardOptions& options,
                  const char* output = nullptr) {
  for (const auto& [type, tolerance] : {std::pair{ComputeType::BF16, 2.5e-2}, std::pair{ComputeType::Int8, 7e-2}}) {
    LoadOptions lo;
    lo.dtype = type;
    const Model model = Model::load(dir.string(), lo);
    kernels::force_f32_attention(false);
    const TensorMap bf16 = model.forward(inputs, options);
    kernels::force_f32_attention(true);
    const TensorMap f32 = model.forward(inputs, options);
    kernels::force_f32_attention(false);
    if (output) {
      ASSERT_TRUE(bf16.count(output)) << dir << ": no output " << output;
    }
    const Difference d = compare(bf16, f32);
    std::printf("[%s] %s: bf16 vs f32 attention, relative L2 difference %.3g\n", compute_type_name(type),
                dir.parent_path().filename().string().c_str(), d.relative);
    EXPECT_TRUE(d.any) << dir << ": bfloat16 attention did not run (the outputs are bit-identical)";
    EXPECT_LE(d.relative, tolerance) << dir << " " << compute_type_name(type);
  }
}

// PyTorch nn.TransformerEncoder (two heads of 17 features), 160 positions: key padding
// (lengths 160, 131, 20), a float mask with -inf, finite negatives and a boost, and a
// query whose every key the mask removes (NaN in the reference's math path, here in both).
TEST_F(Bf16Attention, TorchEncoderWithMasksMatchesFloat32Attention) {
  const std::filesystem::path dir = core_fixtures_dir() / "torch-gelu-post-bf-d34" / "model";
  const int64_t B = 3, S = 160, H = 34;
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  Tensor src = Tensor::empty(DType::F32, {B, S, H}), mask = Tensor::empty(DType::F32, {S, S}),
         padding = Tensor::zeros(DType::Bool, {B, S});
  for (int64_t i = 0; i < src.numel(); ++i) src.data<float>()[i] = g(rng);
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j)
      mask.data<float>()[i * S + j] = (i + j) % 7 == 0 ? -INFINITY : (i + 2 * j) % 5 == 0 ? -3.0f : i == j ? 0.5f : 0.0f;
  for (int64_t j = 0; j < S; ++j) mask.data<float>()[100 * S + j] = -INFINITY;  // query 100 sees nothing
  const int64_t lengths[B] = {160, 131, 20};
  auto* pad = static_cast<bool*>(padding.raw_mut());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = lengths[b]; s < S; ++s) pad[b * S + s] = true;
  ForwardOptions options;
  options.all_hidden = true;
  expect_close(dir, {{"src", src}, {"mask", mask}, {"src_key_padding_mask", padding}}, options);
  // A causal mask (the other masks off): every query a different number of keys.
  options.causal = true;
  expect_close(dir, {{"src", src}}, options);
}

// The long fixtures of the family: ModernBERT (rotary, local windows of 128 and global
// layers, 2,048 positions, ragged) and NomicBERT (rotary, 512 positions, ragged); NomicBERT
// again with the probabilities recorded, where its plain softmax stays in float32 (the
// recorded values) and the bfloat16 copy for P·V is made after it (the probabilities' own
// difference is the largest then: bf16 0.0061, int8 0.0060).
TEST_F(Bf16Attention, LongFamilyFixturesMatchFloat32Attention) {
  for (const char* name : {"modernbert-long-w128", "nomic-bert-long-s512"}) {
    const std::filesystem::path dir = std::filesystem::path(ENCORE_FIXTURES_DIR) / "family" / name;
    TensorFile in = read_safetensors((dir / "ragged.in.safetensors").string());
    const TensorMap inputs(in.tensors.begin(), in.tensors.end());
    ForwardOptions options;
    options.all_hidden = true;
    expect_close(dir / "model", inputs, options);
    if (std::string(name) != "nomic-bert-long-s512") continue;
    options.attentions = true;
    expect_close(dir / "model", inputs, options, "attentions.0");
  }
}

}  // namespace
}  // namespace encore::testing
