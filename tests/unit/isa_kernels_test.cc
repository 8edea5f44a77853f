// The AVX-512 kernels (isa.h) against the portable ones they replace on AVX-512 CPUs, on the
// shapes that exercise their masked tails: softmax over 1..80 keys (with masked -inf keys,
// fully masked rows and NaN), the int8 Linear (input quantization and epilogue, with and
// without outlier channels, bias, residual and each activation) at widths that are not
// multiples of 16 or 64, the bfloat16 conversions bit for bit (and softmax into bfloat16 within its rounding),
// fast_exp's lanes, the activations' lane forms
// against their formulas in double, and the panel GEMMs against oneDNN's matmul.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/activation16.h"
#include "kernels/fast_exp.h"
#include "kernels/isa.h"
#include "kernels/onednn.h"
#include "kernels/kernels.h"
#include "kernels/packed_linear.h"
#include "kernels/panel_gemm.h"

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

// Int8 inputs are uint8 codes over each row's own range (and 0), with a zero point: rows
// that are all zero, all positive (a GELU or ReLU output), all negative, constant, one
// nonzero value, or skewed like GELU's output, in both kernels, against the float32 product.
TEST_F(IsaKernels, Int8LinearQuantizesEachRowsOwnRange) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  const int64_t in = 200, out = 72;
  std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out));
  for (float& v : w) v = g(rng) * 0.1f;
  for (float& v : b) v = g(rng);
  const kernels::PackedLinear lin(w.data(), b.data(), in, out, ComputeType::Int8);
  const std::vector<std::function<float(int64_t)>> rows = {
      [](int64_t) { return 0.0f; },
      [&](int64_t) { return 0.5f + std::fabs(g(rng)); },
      [&](int64_t) { return -0.5f - std::fabs(g(rng)); },
      [](int64_t) { return 2.5f; },
      [](int64_t k) { return k == 17 ? -3.0f : 0.0f; },
      [&](int64_t) {  // GELU of a normal value: -0.17 .. a few
        const float v = g(rng);
        return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
      },
  };
  const int64_t T = static_cast<int64_t>(rows.size());
  std::vector<float> x(static_cast<size_t>(T * in));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < in; ++k) x[static_cast<size_t>(t * in + k)] = rows[static_cast<size_t>(t)](k);
  auto [fast, portable] = both([&] {
    std::vector<float> y(static_cast<size_t>(T * out));
    lin.run(y.data(), x.data(), T);
    return y;
  });
  for (const auto* y : {&fast, &portable}) {
    for (int64_t t = 0; t < T; ++t) {
      double diff = 0.0, norm = 0.0;
      for (int64_t n = 0; n < out; ++n) {
        double exact = b[static_cast<size_t>(n)];
        for (int64_t k = 0; k < in; ++k)
          exact += static_cast<double>(x[static_cast<size_t>(t * in + k)]) * w[static_cast<size_t>(n * in + k)];
        const double d = (*y)[static_cast<size_t>(t * out + n)] - exact;
        diff += d * d, norm += (exact - b[static_cast<size_t>(n)]) * (exact - b[static_cast<size_t>(n)]);
        if (t == 0) {
          ASSERT_EQ((*y)[static_cast<size_t>(n)], b[static_cast<size_t>(n)]) << "a zero row gives the bias";
        }
      }
      // Relative to the product without the bias; weights (127 levels per row) and inputs
      // (255 per row) each add about 1%.
      if (t > 0) {
        EXPECT_LE(std::sqrt(diff / norm), 0.03) << "row " << t << (y == &fast ? " (AVX-512)" : " (portable)");
      }
    }
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
      const kernels::PackedLinear lin(w.data(), b.data(), in, out, ComputeType::Int8, channels);
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

// float32 -> bfloat16 on 16 lanes against the scalar to_bf16, bit for bit: random bit
// patterns (NaNs, infinities, denormals, ties) and every tail length.
TEST_F(IsaKernels, Bf16ConversionMatchesScalarBitForBit) {
  std::mt19937 rng(3);
  std::vector<float> x(4096);
  for (float& v : x) {
    const uint32_t u = rng();
    std::memcpy(&v, &u, 4);
  }
  const float specials[] = {0.0f, -0.0f, 1.0f, 1.00390625f, 1.01171875f, 3.4e38f, -3.4e38f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::signaling_NaN()};
  std::copy(std::begin(specials), std::end(specials), x.begin());
  for (const int64_t n : {1, 5, 15, 16, 17, 31, 33, 4096}) {
    auto [fast, portable] = both([&] {
      std::vector<uint16_t> y(static_cast<size_t>(n) + 8, 0xabcd);
      kernels::to_bf16_n(y.data(), x.data(), n);
      return y;
    });
    for (size_t i = 0; i < fast.size(); ++i) {
      const uint16_t want = static_cast<int64_t>(i) < n ? kernels::to_bf16(x[i]) : 0xabcd;
      ASSERT_EQ(fast[i], want) << "n=" << n << " at " << i;
      ASSERT_EQ(portable[i], want) << "n=" << n << " at " << i;
    }
  }
}

// The conversion for bfloat16 products' operands: to_bf16's bits, except that where the CPU
// converts (vcvtneps2bf16) a denormal becomes a zero of its sign, as those products read it.
TEST_F(IsaKernels, Bf16OperandsAreTheConversionButForDenormals) {
  std::mt19937 rng(5);
  std::vector<float> x(4096);
  for (float& v : x) {
    const uint32_t u = rng() >> (rng() % 2 ? 0 : 4);  // every fifth or so denormal-or-small
    std::memcpy(&v, &u, 4);
  }
  const float specials[] = {0.0f, -0.0f, 1.00390625f, 1.01171875f, std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::signaling_NaN(),
                            std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min()};
  std::copy(std::begin(specials), std::end(specials), x.begin());
  for (const int64_t n : {1, 9, 16, 17, 4096}) {
    std::vector<uint16_t> y(static_cast<size_t>(n) + 8, 0xabcd);
    kernels::to_bf16_operands(y.data(), x.data(), n);
    for (size_t i = 0; i < y.size(); ++i) {
      uint16_t want = 0xabcd;
      if (static_cast<int64_t>(i) < n) {
        want = kernels::to_bf16(x[i]);
        if (kernels::use_avx512_bf16() && std::fpclassify(x[i]) == FP_SUBNORMAL) want = std::signbit(x[i]) ? 0x8000 : 0;
      }
      ASSERT_EQ(y[i], want) << "n=" << n << " at " << i << " x=" << x[i];
    }
  }
}

// exp_to_bf16 (bfloat16 attention's probabilities, left unnormalized) in both kernels: each
// code times the returned 1 / sum is the float32 softmax within bfloat16's rounding (a half
// ulp: 2^-8 relative at most, plus 2e-5 for the exps and the sum); a masked key is exactly 0, a
// fully masked row returns 0 and writes nothing, a NaN score makes the row's factor NaN.
TEST_F(IsaKernels, ExpToBf16TimesItsFactorIsTheSoftmax) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 4.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (const bool portable : {false, true}) {
    kernels::force_portable_kernels(portable);
    for (const int64_t n : {1, 2, 15, 16, 17, 31, 64, 77, 128, 512, 777}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j) x[static_cast<size_t>(j)] = (j % 7 == 5) ? -inf : (j % 11 == 3) ? -1e4f : g(rng);
      std::vector<float> want = x, scratch = x;
      ASSERT_TRUE(kernels::softmax_inplace(want.data(), n));
      std::vector<uint16_t> out(static_cast<size_t>(n) + 8, 0xabcd);
      const float s = kernels::exp_to_bf16(out.data(), scratch.data(), n);
      ASSERT_GT(s, 0.0f);
      for (int64_t j = 0; j < n; ++j) {
        const float got = kernels::from_bf16(out[static_cast<size_t>(j)]) * s, w = want[static_cast<size_t>(j)];
        if (x[static_cast<size_t>(j)] <= -1e4f) {
          ASSERT_EQ(out[static_cast<size_t>(j)], 0) << "a masked key is exactly 0 (n=" << n << ", portable " << portable << ")";
          continue;
        }
        ASSERT_NEAR(got, w, (0x1p-8f + 2e-5f) * w + 1e-37f) << "n=" << n << " j=" << j << " portable " << portable;
      }
      for (size_t j = static_cast<size_t>(n); j < out.size(); ++j) ASSERT_EQ(out[j], 0xabcd) << "written past n";
    }
    for (const int64_t n : {1, 16, 33}) {
      std::vector<float> masked(static_cast<size_t>(n), -inf);
      std::vector<uint16_t> out(static_cast<size_t>(n), 0xabcd);
      EXPECT_EQ(kernels::exp_to_bf16(out.data(), masked.data(), n), 0.0f);
      for (uint16_t v : out) EXPECT_EQ(v, 0xabcd) << "a fully masked row writes nothing";
    }
    for (const int64_t n : {2, 16, 33}) {  // (a row of NaN alone has no maximum: left to the caller, as -inf)
      std::vector<float> with_nan(static_cast<size_t>(n), 1.0f);
      with_nan[static_cast<size_t>(n / 2)] = std::numeric_limits<float>::quiet_NaN();
      std::vector<uint16_t> out(static_cast<size_t>(n));
      EXPECT_TRUE(std::isnan(kernels::exp_to_bf16(out.data(), with_nan.data(), n))) << "n=" << n;
    }
  }
  kernels::force_portable_kernels(false);
}

// to_bf16_heads (Q, K and V of a fused projection for the bfloat16 products): block
// (part, head) of token t at [(part · heads + head) · T + t] · d, each value as
// to_bf16_operands converts it, bit for bit, for head sizes with and without the AVX512-BF16
// row loop (d a multiple of 16) and on the portable kernels.
TEST_F(IsaKernels, Bf16HeadsAreTheOperandsOfEachBlock) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 3.0f);
  for (const bool portable : {false, true}) {
    kernels::force_portable_kernels(portable);
    for (const auto& [T, heads, d] : {std::tuple<int64_t, int64_t, int64_t>{7, 12, 64}, {130, 12, 64}, {9, 4, 32},
                                     {5, 3, 24}, {3, 2, 80}}) {
      const int64_t H = heads * d;
      std::vector<float> qkv(static_cast<size_t>(T * 3 * H));
      for (float& v : qkv) v = g(rng);
      std::vector<uint16_t> got(qkv.size(), 0xabcd), want(qkv.size(), 0xabcd);
      kernels::to_bf16_heads(got.data(), qkv.data(), T, H, heads);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t part = 0; part < 3; ++part)
          for (int64_t h = 0; h < heads; ++h)
            kernels::to_bf16_operands(want.data() + ((part * heads + h) * T + t) * d,
                                      qkv.data() + t * 3 * H + part * H + h * d, d);
      ASSERT_EQ(got, want) << "T=" << T << " heads=" << heads << " d=" << d << " portable " << portable;
    }
  }
  kernels::force_portable_kernels(false);
}

// fast_exp16 (softmax, the fused attention, the activations' lanes) against the scalar
// fast_exp on every 389th float bit pattern: within one ulp (the scalar form's rounding steps
// are not the lanes' fused ones), exactly 0 where it underflows, NaN where it is NaN.
ENCORE_AVX512_BEGIN
ENCORE_AVX512 void fast_exp16_n(float* v) { _mm512_storeu_ps(v, kernels::fast_exp16(_mm512_loadu_ps(v))); }
ENCORE_AVX512_END

TEST_F(IsaKernels, FastExpLanesAreTheScalarForm) {
  std::vector<float> x(16);
  uint64_t u = 0;
  while (u < (1ull << 32)) {
    for (float& v : x) {
      const uint32_t bits = static_cast<uint32_t>(u);
      std::memcpy(&v, &bits, 4);
      u += 389;
    }
    std::vector<float> y = x;
    fast_exp16_n(y.data());
    for (size_t i = 0; i < 16; ++i) {
      if (std::isnan(x[i])) {  // (the scalar form would convert NaN to an integer)
        ASSERT_TRUE(std::isnan(y[i])) << "NaN must propagate";
        continue;
      }
      const float want = kernels::fast_exp(x[i]);
      if (want == 0.0f) {
        ASSERT_EQ(y[i], 0.0f) << "x=" << x[i];
        continue;
      }
      int32_t a, b;
      std::memcpy(&a, &y[i], 4);
      std::memcpy(&b, &want, 4);
      ASSERT_LE(std::abs(a - b), 1) << "x=" << std::hexfloat << x[i] << ": " << y[i] << " vs " << want;
    }
  }
}

// The activations' lane forms (activation16.h, in the int8 epilogue) on 16 values.
ENCORE_AVX512_BEGIN
template <int A>
ENCORE_AVX512 void activate16_n(float* v) {
  _mm512_storeu_ps(v, kernels::activate16<A>(_mm512_loadu_ps(v)));
}
ENCORE_AVX512_END

// Each lane form against the reference's formula in double over [-12, 12] in steps of 1/64
// and the edges: gelu within Abramowitz & Stegun's 1.5e-7 absolute error of erf (times
// 0.5 |x|) and float32 rounding; the sigmoid forms within a few float32 roundings.
TEST_F(IsaKernels, ActivationLanesMatchTheirFormulas) {
  std::vector<float> xs;
  for (int i = -768; i <= 768; ++i) xs.push_back(static_cast<float>(i) / 64.0f);
  for (float v : {1e-30f, -1e-30f, 0.0f, -0.0f, 1e-4f, -1e-4f, 30.0f, -30.0f, 100.0f, -100.0f, 1e30f, -1e30f,
                  std::numeric_limits<float>::infinity()})
    xs.push_back(v);
  while (xs.size() % 16) xs.push_back(0.5f);
  const auto sigmoid = [](double v, double a) { return v / (1.0 + std::exp(-a * v)); };
  const auto tanh_arg = [](double v) { return std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v); };
  struct Case {
    Activation act;
    void (*lanes)(float*);
    std::function<double(double)> ref;
    double abs_per_x;                     // the approximation's absolute error per unit of |x|
    std::function<double(double)> arg;  // exp's argument
  };
  const auto none = [](double) { return 0.0; };
  const std::vector<Case> cases = {
      {Activation::GeluErf, activate16_n<static_cast<int>(Activation::GeluErf)>,
       [](double v) { return 0.5 * v * std::erfc(-v / std::sqrt(2.0)); }, 0.5 * 1.5e-7, none},
      // 0.5 v (1 + tanh(u)) without the cancellation of 1 + tanh(u) for u << 0
      {Activation::GeluTanh, activate16_n<static_cast<int>(Activation::GeluTanh)>,
       [&](double v) { return v / (1.0 + std::exp(-2.0 * tanh_arg(v))); }, 0.0,
       [&](double v) { return 2.0 * tanh_arg(v); }},
      {Activation::QuickGelu, activate16_n<static_cast<int>(Activation::QuickGelu)>,
       [&](double v) { return sigmoid(v, 1.702); }, 0.0, [](double v) { return 1.702 * v; }},
      {Activation::Silu, activate16_n<static_cast<int>(Activation::Silu)>, [&](double v) { return sigmoid(v, 1.0); },
       0.0, [](double v) { return v; }},
      {Activation::Relu, activate16_n<static_cast<int>(Activation::Relu)>,
       [](double v) { return v > 0 ? v : 0.0; }, 0.0, none},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(kernels::has_activate16(c.act));
    std::vector<float> y = xs;
    for (size_t i = 0; i < y.size(); i += 16) c.lanes(y.data() + i);
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i], ref = c.ref(x);
      if (std::isinf(x)) {
        EXPECT_EQ(y[i], static_cast<float>(ref)) << activation_name(c.act) << " at x = inf";
        continue;
      }
      // exp's argument comes out of up to four float32 operations (gelu tanh's x^3, fma, two
      // products), each rounding it by up to |arg| 2^-24, which the result inherits.
      const double rounding = (4.0 + 4.0 * std::fabs(c.arg(x))) * std::ldexp(std::fabs(ref), -24);
      const double tol = c.abs_per_x * std::fabs(x) + rounding + 1e-37;
      EXPECT_NEAR(y[i], ref, tol) << activation_name(c.act) << " at x = " << x;
    }
    float nan[16];
    std::fill(nan, nan + 16, std::numeric_limits<float>::quiet_NaN());
    c.lanes(nan);
    if (c.act == Activation::Relu) EXPECT_EQ(nan[0], 0.0f);  // as the scalar x > 0 ? x : 0
    else EXPECT_TRUE(std::isnan(nan[0])) << activation_name(c.act);
  }
  EXPECT_FALSE(kernels::has_activate16(Activation::Tanh));
}

// The int8 Linear with each activation against the portable epilogue (the scalar
// activations of kernels::activate after the same dequantization).
TEST_F(IsaKernels, Int8LinearActivationsMatchPortable) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  const int64_t in = 96, out = 200, T = 7;
  std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out)), x(static_cast<size_t>(T * in));
  for (float& v : w) v = g(rng) * 0.2f;
  for (float& v : b) v = g(rng);
  for (float& v : x) v = g(rng);
  const kernels::PackedLinear lin(w.data(), b.data(), in, out, ComputeType::Int8, {3});
  for (const Activation act : {Activation::GeluErf, Activation::GeluTanh, Activation::QuickGelu, Activation::Relu,
                               Activation::Silu, Activation::Tanh}) {
    auto [fast, portable] = both([&] {
      std::vector<float> y(static_cast<size_t>(T * out));
      lin.run(y.data(), x.data(), T, act);
      return y;
    });
    for (size_t i = 0; i < fast.size(); ++i)
      ASSERT_NEAR(fast[i], portable[i], 1e-5f * (1.0f + std::fabs(portable[i]))) << activation_name(act) << " at " << i;
  }
}

// The panel GEMMs (panel_gemm.h) against oneDNN's matmul on the same packed weights (with
// the portable epilogue for int8), and float32's against the product in double: widths that
// are not multiples of 16 or 64 (int8's panels need rows of whole groups of 4: 37 runs through
// oneDNN), row counts around the 6-row blocks and 512-row groups, with and without bias, each
// activation and a residual, int8 with an outlier channel; every row bit for bit the same
// whatever the row count.
TEST_F(IsaKernels, PanelGemmsMatchOneDnnAndIgnoreTheBatch) {
  std::mt19937 rng(11);
  std::normal_distribution<float> g;
  for (const ComputeType type : {ComputeType::F32, ComputeType::Int8})
    for (const auto& [in, out] : {std::pair<int64_t, int64_t>{37, 1}, {48, 40}, {132, 200}, {64, 64}}) {
      std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out));
      for (float& v : w) v = g(rng) * 0.2f;
      for (float& v : b) v = g(rng);
      for (const bool bias : {true, false}) {
        const bool int8 = type == ComputeType::Int8;
        const kernels::PackedLinear lin(w.data(), bias ? b.data() : nullptr, in, out, type,
                                        int8 ? std::vector<int64_t>{5} : std::vector<int64_t>{});
        const bool panels = !int8 || (kernels::panel_gemm_int8_runs() && in % 4 == 0);
        ASSERT_EQ(lin.uses_panel_gemm(), panels) << compute_type_name(type) << " " << in << " x " << out;
        const int64_t most = 600;
        std::vector<float> x(static_cast<size_t>(most * in)), res(static_cast<size_t>(most * out));
        for (float& v : x) v = g(rng);
        for (float& v : res) v = g(rng);
        std::vector<std::optional<Activation>> acts = {std::nullopt, Activation::GeluErf, Activation::GeluTanh,
                                                       Activation::QuickGelu, Activation::Relu, Activation::Silu,
                                                       Activation::Tanh};
        for (const auto& act : acts)
          for (const bool accumulate : {false, true}) {
            if (act && accumulate) continue;
            std::vector<float> whole;  // all `most` rows in one call
            for (const int64_t T : {most, int64_t{1}, int64_t{5}, int64_t{6}, int64_t{13}, int64_t{513}}) {
              auto [fast, portable] = both([&] {
                std::vector<float> y(res.begin(), res.begin() + T * out);
                lin.run(y.data(), x.data(), T, act, accumulate);
                return y;
              });
              if (T == most) whole = fast;
              for (int64_t t = 0; t < T; ++t)
                for (int64_t n = 0; n < out; ++n) {
                  const size_t i = static_cast<size_t>(t * out + n);
                  const std::string where = std::string(compute_type_name(type)) + " " +
                                            (act ? activation_name(*act) : "none") + (accumulate ? " +residual" : "") +
                                            " T=" + std::to_string(T) + " " + std::to_string(in) + "x" +
                                            std::to_string(out) + " at " + std::to_string(t) + "," + std::to_string(n);
                  ASSERT_NEAR(fast[i], portable[i], 2e-5f * (1.0f + std::fabs(portable[i]))) << where;
                  ASSERT_EQ(std::memcmp(&fast[i], &whole[i], sizeof(float)), 0) << where << ": differs from the batch";
                  if (int8) continue;  // int8's rounding: Int8LinearQuantizesEachRowsOwnRange
                  double ref = bias ? b[static_cast<size_t>(n)] : 0.0;
                  for (int64_t k = 0; k < in; ++k)
                    ref += double(x[static_cast<size_t>(t * in + k)]) * w[static_cast<size_t>(n * in + k)];
                  if (accumulate) ref += res[i];
                  float r = static_cast<float>(ref);
                  if (act) kernels::activate(&r, 1, *act);
                  ASSERT_NEAR(fast[i], r, 2e-5f * (1.0f + std::fabs(r))) << where;
                }
            }
          }
      }
    }
}

// The fused attention block against softmax(alpha q kᵀ) v in double, for every key count it
// accepts, every head size, row counts that are and are not multiples of its 4-row blocks,
// strided q/k/v (as in the fused QKV buffer) and a strided output whose gaps stay untouched.
TEST_F(IsaKernels, FusedAttentionMatchesDoubleReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.5f);
  for (int64_t d : {16, 32, 48, 64}) {
    const int64_t ld = 3 * d + 7, ldo = d + 5;
    for (int64_t n = 1; n <= kernels::kFusedKeys; ++n) {
      for (int64_t rows : {int64_t{1}, std::min<int64_t>(n, 3), n}) {
        std::vector<float> q(static_cast<size_t>(rows * ld)), k(static_cast<size_t>(n * ld)), v(k.size());
        for (auto* x : {&q, &k, &v})
          for (float& f : *x) f = g(rng);
        std::vector<float> out(static_cast<size_t>(rows * ldo), -7.0f);
        const float alpha = 1.0f / std::sqrt(static_cast<float>(d));
        ASSERT_TRUE(kernels::attention_fused(out.data(), ldo, q.data(), k.data(), v.data(), ld, rows, n, d, alpha));
        for (int64_t r = 0; r < rows; ++r) {
          std::vector<double> p(static_cast<size_t>(n));
          double mx = -1e300, sum = 0.0;
          for (int64_t j = 0; j < n; ++j) {
            double s = 0.0;
            for (int64_t c = 0; c < d; ++c) s += double(q[r * ld + c]) * double(k[j * ld + c]);
            p[static_cast<size_t>(j)] = s * alpha;
            mx = std::max(mx, p[static_cast<size_t>(j)]);
          }
          for (double& x : p) sum += (x = std::exp(x - mx));
          for (int64_t c = 0; c < ldo; ++c) {
            const float got = out[static_cast<size_t>(r * ldo + c)];
            if (c >= d) {
              ASSERT_EQ(got, -7.0f) << "wrote past the head: d=" << d << " n=" << n << " rows=" << rows;
              continue;
            }
            double ref = 0.0;
            for (int64_t j = 0; j < n; ++j) ref += p[static_cast<size_t>(j)] / sum * double(v[j * ld + c]);
            ASSERT_NEAR(got, ref, 2e-5 * (1.0 + std::fabs(ref)))
                << "d=" << d << " n=" << n << " rows=" << rows << " at " << r << "," << c;
          }
        }
      }
    }
  }
  float dummy = 0.0f;
  EXPECT_FALSE(kernels::attention_fused(&dummy, 1, &dummy, &dummy, &dummy, 1, 1, kernels::kFusedKeys + 1, 32, 1.0f));
  EXPECT_FALSE(kernels::attention_fused(&dummy, 1, &dummy, &dummy, &dummy, 1, 1, 8, 24, 1.0f));
  kernels::force_portable_kernels(true);
  EXPECT_FALSE(kernels::attention_fused(&dummy, 1, &dummy, &dummy, &dummy, 1, 1, 8, 32, 1.0f));
}

}  // namespace
}  // namespace encore
