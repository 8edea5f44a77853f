// round_to_half (src/core/convert.h), behind LoadOptions::half_weights: the float16 nearest to a
// float, ties to even, subnormals in steps of 2^-24, beyond 65504 infinity, as torch's
// x.half().float(); checked on the edges and against float16's decoding (every float16 value
// maps to itself, every midpoint to its even neighbour).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/convert.h"
#include "encore/tensor.h"

namespace encore {
namespace {

float half_value(uint16_t h) {  // through Tensor::to_f32, encore's float16 decoder
  Tensor t = Tensor::zeros(DType::F16, {1});
  std::memcpy(t.raw_mut(), &h, 2);
  return t.to_f32().data<float>()[0];
}

TEST(RoundToHalf, Edges) {
  EXPECT_EQ(round_to_half(1.0f / 3.0f), 0.333251953125f);
  EXPECT_EQ(round_to_half(2049.0f), 2048.0f);  // a tie: to the even 2048
  EXPECT_EQ(round_to_half(2051.0f), 2052.0f);  // a tie: to the even 2052
  EXPECT_EQ(round_to_half(65504.0f), 65504.0f);
  EXPECT_EQ(round_to_half(65519.0f), 65504.0f);
  EXPECT_EQ(round_to_half(65520.0f), INFINITY);  // the midpoint to the next binade: inf, as torch
  EXPECT_EQ(round_to_half(-1e6f), -INFINITY);
  EXPECT_EQ(round_to_half(std::ldexp(1.0f, -24)), std::ldexp(1.0f, -24));  // the smallest subnormal
  EXPECT_EQ(round_to_half(std::ldexp(1.0f, -25)), 0.0f);                   // its half: a tie to 0
  EXPECT_EQ(round_to_half(std::ldexp(1.5f, -25)), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::signbit(round_to_half(-1e-10f)));
  EXPECT_TRUE(std::isnan(round_to_half(NAN)));
}

TEST(RoundToHalf, EveryHalfAndEveryMidpoint) {
  for (uint32_t h = 0; h < 0x7c00u; ++h) {  // the finite non-negative float16 values
    const float v = half_value(static_cast<uint16_t>(h));
    ASSERT_EQ(round_to_half(v), v) << h;
    ASSERT_EQ(round_to_half(-v), -v) << h;
    if (h + 1 < 0x7c00u) {
      const float next = half_value(static_cast<uint16_t>(h + 1));
      const float mid = v + (next - v) / 2;  // exact in float
      ASSERT_EQ(round_to_half(mid), (h % 2 == 0) ? v : next) << h;
      ASSERT_EQ(round_to_half(std::nextafter(mid, 0.0f)), v) << h;
      ASSERT_EQ(round_to_half(std::nextafter(mid, INFINITY)), next) << h;
    }
  }
}

}  // namespace
}  // namespace encore
