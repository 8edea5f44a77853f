// kernels/vector_math.h against libm: fast_exp (softmax) and the int8 epilogue's GELU.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/vector_math.h"

namespace encore {
namespace {

TEST(VectorMath, FastExpWithinTwoUlpAndZeroBelowRange) {
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const float want = std::exp(x), got = kernels::fast_exp(x);
    ASSERT_LE(std::fabs(got - want), 2.0f * (std::nextafter(want, INFINITY) - want)) << "x=" << x;
  }
  EXPECT_EQ(kernels::fast_exp(-100.0f), 0.0f);
  EXPECT_EQ(kernels::fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(kernels::fast_exp(0.0f), 1.0f);
}

TEST(VectorMath, GeluErfApproxWithinAbramowitzStegunBound) {
  for (double x = -12.0; x <= 12.0; x += 0.00731) {
    const double want = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    const double got = kernels::gelu_erf_approx(static_cast<float>(x));
    // erf's |error| <= 1.5e-7 scaled by 0.5|x|, plus float32 rounding of the result.
    const double bound = 0.5 * std::fabs(x) * 1.6e-7 + 2e-7 * std::max(1.0, std::fabs(want));
    ASSERT_LE(std::fabs(got - want), bound) << "x=" << x;
  }
  EXPECT_EQ(kernels::gelu_erf_approx(0.0f), 0.0f);
  EXPECT_EQ(kernels::gelu_erf_approx(-20.0f), -0.0f);
}

}  // namespace
}  // namespace encore
