// The AVX-512 kernels (isa.h) against the portable ones they replace on AVX-512 CPUs, on the
// shapes that exercise their masked tails: softmax over 1..80 keys (with masked -inf keys,
// fully masked rows and NaN), and the int8 Linear (input quantization and epilogue, with and
// without outlier channels, bias and residual) at widths that are not multiples of 16 or 64.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/packed_linear.h"

namespace encore {
namespace {

class IsaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernels::use_avx512()) GTEST_SKIP() << "this CPU has no AVX-512: only the portable kernels run";
  }
  void TearDown() override { kernels::force_portable_kernels(false); }

  template <class F>
  auto both(F f) {  // f() with the AVX-512 kernels, then with the portable ones
    kernels::force_portable_kernels(false);
    auto fast = f();
    kernels::force_portable_kernels(true);
    auto portable = f();
    kernels::force_portable_kernels(false);
    return std::make_pair(fast, portable);
  }
};

TEST_F(IsaKernels, SoftmaxMatchesPortableOnEveryRowLength) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 4.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n = 1; n <= 80; ++n) {
    std::vector<float> x(static_cast<size_t>(n) + 16, 123.0f);  // past the row: must stay 123
    for (int64_t j = 0; j < n; ++j) x[static_cast<size_t>(j)] = (j % 5 == 3) ? -inf : g(rng);
    x[0] = g(rng);  // at least one key unmasked
    const auto [fast, portable] = both([&] {
      std::vector<float> y = x;
      EXPECT_TRUE(kernels::softmax_inplace(y.data(), n));
      return y;
    });
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j) {
      const size_t i = static_cast<size_t>(j);
      ASSERT_NEAR(fast[i], portable[i], 2e-7f + 2e-6f * portable[i]) << "n=" << n << " key " << j;
      if (j % 5 == 3) {
        ASSERT_EQ(fast[i], 0.0f) << "a masked key must get exactly 0";
      }
      sum += fast[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << "n=" << n;
    for (size_t i = static_cast<size_t>(n); i < x.size(); ++i)
      ASSERT_EQ(fast[i], 123.0f) << "wrote past the row, n=" << n;
  }
}

TEST_F(IsaKernels, SoftmaxFullyMaskedAndNaNRows) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {1, 7, 16, 17, 33}) {
    std::vector<float> masked(static_cast<size_t>(n), -inf);
    EXPECT_FALSE(kernels::softmax_inplace(masked.data(), n)) << "n=" << n;
    for (float v : masked) EXPECT_EQ(v, -inf) << "a fully masked row is left as it was";
    std::vector<float> nan(static_cast<size_t>(n), 0.5f);
    nan[static_cast<size_t>(n - 1)] = std::numeric_limits<float>::quiet_NaN();
    kernels::softmax_inplace(nan.data(), n);
    for (float v : nan) EXPECT_TRUE(std::isnan(v)) << "NaN must propagate to the whole row, n=" << n;
  }
}

TEST_F(IsaKernels, Int8LinearMatchesPortable) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  for (const auto& shape : {std::pair<int64_t, int64_t>{64, 48}, {37, 100}, {384, 384}, {96, 1000}}) {
    const int64_t in = shape.first, out = shape.second;
    for (const bool outliers : {false, true}) {
      std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out));
      for (float& v : w) v = g(rng) * 0.1f;
      for (float& v : b) v = g(rng);
      std::vector<int64_t> channels;
      if (outliers) channels = {1, 5, in - 1};
      const kernels::PackedLinear lin(w.data(), b.data(), out, in, ComputeType::Int8, channels);
      for (const int64_t T : {1, 3, 40}) {
        std::vector<float> x(static_cast<size_t>(T * in));
        for (float& v : x) v = g(rng);
        for (int64_t c : channels)
          for (int64_t t = 0; t < T; ++t) x[static_cast<size_t>(t * in + c)] *= 30.0f;
        for (const bool accumulate : {false, true}) {
          auto [fast, portable] = both([&] {
            std::vector<float> y(static_cast<size_t>(T * out), 0.25f);
            lin.run(y.data(), x.data(), T, std::nullopt, accumulate);
            return y;
          });
          for (size_t i = 0; i < fast.size(); ++i)
            ASSERT_NEAR(fast[i], portable[i], 1e-5f * (1.0f + std::fabs(portable[i])))
                << "in=" << in << " out=" << out << " T=" << T << " outliers=" << outliers
                << " accumulate=" << accumulate << " at " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace encore
