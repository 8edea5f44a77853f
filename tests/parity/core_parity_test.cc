// Every output of every core fixture against the reference:
//   |encore - reference| <= 1e-5 * max(1, |reference|) on compared positions.
// The log prints the worst error per fixture.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "parity/fixture.h"

namespace encore::testing {
namespace {

class CoreParity : public ::testing::TestWithParam<FixtureCase> {};

// For element `i` of output `name`, the (batch, position) it belongs to, or {-1,-1} when
// the element is compared unconditionally (pooled outputs).
struct Locator {
  Dialect dialect;
  bool batch_first;
  std::pair<int64_t, int64_t> operator()(const std::string& name, const Shape& shape, int64_t i) const {
    if (name == "pooler_output" || name == "pooled_output") return {-1, -1};
    if (name.rfind("attentions.", 0) == 0) {  // [B, heads, S, S]: the query row decides
      const int64_t S = shape[2], heads = shape[1];
      const int64_t q = (i / S) % S, b = i / (S * S * heads);
      return {b, q};
    }
    const int64_t E = shape.back();
    const int64_t row = i / E;
    if (dialect != Dialect::Torch) return {row / shape[1], row % shape[1]};
    if (shape.size() == 2) return {0, row};  // unbatched [S, E]
    if (batch_first) return {row / shape[1], row % shape[1]};
    return {row % shape[1], row / shape[1]};  // [S, B, E]
  }
};

TEST_P(CoreParity, MatchesReference) {
  const FixtureCase& c = GetParam();
  Model model = Model::load((c.dir / "model").string(), load_options_of(c));
  TensorFile in = read_safetensors((c.dir / (c.name + ".in.safetensors")).string());
  TensorFile expected = read_safetensors((c.dir / (c.name + ".out.safetensors")).string());
  TensorMap inputs(in.tensors.begin(), in.tensors.end());
  TensorMap out = model.forward(inputs, forward_options_of(c));

  ASSERT_TRUE(expected.tensors.count("compare_mask")) << "fixture has no compare_mask";
  const Tensor cmp = expected.tensors.at("compare_mask").to_i64();
  const int64_t S = cmp.size(1);
  Locator locate{model.config().dialect, model.config().batch_first};

  // A case's "tolerance" loosens only its fully masked sequences (tests/fixtures/README.md).
  const double loose = c.case_spec.value("tolerance", 1e-5);
  std::vector<uint8_t> fully_masked(static_cast<size_t>(cmp.size(0)), 0);
  for (const char* mask_name : {"attention_mask", "input_mask"}) {
    if (!in.tensors.count(mask_name) || in.tensors.at(mask_name).dim() != 2) continue;
    const Tensor m = in.tensors.at(mask_name).to_i64();
    for (int64_t b = 0; b < m.size(0); ++b) {
      bool any = false;
      for (int64_t j = 0; j < m.size(1); ++j) any = any || m.data<int64_t>()[b * m.size(1) + j];
      fully_masked[static_cast<size_t>(b)] = !any;
    }
  }

  double worst = 0.0, worst_loose = 0.0;
  std::string worst_name;
  int64_t compared = 0, nan_matches = 0, padded_nonzero = 0;
  for (const auto& [name, ref_raw] : expected.tensors) {
    if (name == "compare_mask") continue;
    ASSERT_TRUE(out.count(name)) << c.label() << ": encore produced no '" << name << "'";
    const Tensor ref = ref_raw.to_f32();
    const Tensor& got = out.at(name);
    ASSERT_EQ(got.shape(), ref.shape()) << c.label() << ": " << name;
    const float* r = ref.data<float>();
    const float* g = got.data<float>();
    int64_t failures = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
      auto [b, s] = locate(name, ref.shape(), i);
      if (b >= 0 && !cmp.data<int64_t>()[b * S + s]) {  // padding: encore defines it as zero
        if (g[i] != 0.0f && padded_nonzero++ < 3)
          ADD_FAILURE() << c.label() << ": " << name << "[" << i << "] is padding but " << g[i];
        continue;
      }
      ++compared;
      if (std::isnan(r[i]) && std::isnan(g[i])) {
        ++nan_matches;
        continue;
      }
      const double err = std::fabs(static_cast<double>(g[i]) - r[i]);
      const double rel = err / std::max(1.0, std::fabs(static_cast<double>(r[i])));
      const double tol = b >= 0 && fully_masked[static_cast<size_t>(b)] ? loose : 1e-5;
      if (!(rel <= tol)) {
        if (failures++ < 5)
          ADD_FAILURE() << c.label() << ": " << name << "[" << i << "] (batch " << b << ", position " << s
                        << "): encore " << g[i] << " vs reference " << r[i];
      }
      if (tol > 1e-5) {
        worst_loose = std::max(worst_loose, rel);
      } else if (!(rel <= worst)) {
        worst = rel, worst_name = name;
      }
    }
    EXPECT_EQ(failures, 0) << c.label() << ": " << name << " has " << failures << " mismatches";
  }
  for (const auto& [name, t] : out)
    EXPECT_TRUE(expected.tensors.count(name)) << c.label() << ": encore produced extra output '" << name << "'";
  std::printf("[parity] %-40s worst scaled error %.3g (%s), %lld values compared, %lld NaN==NaN\n",
              c.label().c_str(), worst, worst_name.c_str(), static_cast<long long>(compared),
              static_cast<long long>(nan_matches));
  if (worst_loose > 0)
    std::printf("[parity] %-40s fully masked sequences: worst %.3g (tolerance %.g)\n", c.label().c_str(),
                worst_loose, loose);
  EXPECT_GT(compared, 0);
  EXPECT_EQ(padded_nonzero, 0) << c.label() << ": padded positions must be zero";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CoreParity, ::testing::ValuesIn(all_core_cases()),
                         [](const auto& info) { return test_name(info.param.label()); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CoreParity);

TEST(CoreFixtures, ArePresent) {
  // The parity suite is only meaningful with fixtures: fail loudly if they went missing.
  EXPECT_GE(all_core_cases().size(), 10u) << "tests/fixtures/core is missing; run tools/reference/make_core_fixtures.sh";
}

}  // namespace
}  // namespace encore::testing
