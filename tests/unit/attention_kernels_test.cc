// The small attention kernels against a double-precision reference, over every key count
// they accept, head sizes up to 128, row counts of 1 to 16, and row strides wider than the
// rows (as in the fused QKV buffer).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"

namespace encore {
namespace {

struct Case {
  std::vector<float> q, k, v, p;
  int64_t ld;
};

Case make_case(int64_t rows, int64_t n, int64_t d, std::mt19937& rng) {
  std::normal_distribution<float> g;
  Case c;
  c.ld = 3 * d + 5;
  c.q.resize(static_cast<size_t>(rows * c.ld)), c.k.resize(static_cast<size_t>(n * c.ld));
  c.v.resize(static_cast<size_t>(n * c.ld)), c.p.resize(static_cast<size_t>(rows * n));
  for (auto* x : {&c.q, &c.k, &c.v, &c.p})
    for (float& f : *x) f = g(rng);
  return c;
}

// Checks scores and values of one shape with the given kernels; the entries of the output
// buffers outside the result (padding of the strided output) must stay untouched.
template <class Scores, class Values>
void check(int64_t rows, int64_t n, int64_t d, Scores scores_fn, Values values_fn, std::mt19937& rng) {
  const Case c = make_case(rows, n, d, rng);
  const float alpha = 0.37f;
  std::vector<float> s(static_cast<size_t>(rows * n) + 16, -7.0f);
  scores_fn(s.data(), c.q.data(), c.ld, c.k.data(), c.ld, rows, n, d, alpha);
  const int64_t ldo = d + 3;
  std::vector<float> o(static_cast<size_t>(rows * ldo) + 16, -7.0f);
  values_fn(o.data(), ldo, c.p.data(), c.v.data(), c.ld, rows, n, d);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0.0;
      for (int64_t x = 0; x < d; ++x) ref += double(c.q[r * c.ld + x]) * double(c.k[j * c.ld + x]);
      ASSERT_NEAR(s[static_cast<size_t>(r * n + j)], alpha * ref, 1e-5 * (1.0 + std::fabs(alpha * ref)))
          << "scores rows=" << rows << " n=" << n << " d=" << d << " at " << r << "," << j;
    }
    for (int64_t x = 0; x < ldo; ++x) {
      const float got = o[static_cast<size_t>(r * ldo + x)];
      if (x >= d) {
        ASSERT_EQ(got, -7.0f) << "values wrote past d: rows=" << rows << " n=" << n << " d=" << d;
        continue;
      }
      double ref = 0.0;
      for (int64_t j = 0; j < n; ++j) ref += double(c.p[r * n + j]) * double(c.v[j * c.ld + x]);
      ASSERT_NEAR(got, ref, 1e-5 * (1.0 + std::fabs(ref)))
          << "values rows=" << rows << " n=" << n << " d=" << d << " at " << r << "," << x;
    }
  }
  for (size_t i = static_cast<size_t>(rows * n); i < s.size(); ++i) ASSERT_EQ(s[i], -7.0f) << "scores overrun";
  for (size_t i = static_cast<size_t>(rows * ldo); i < o.size(); ++i) ASSERT_EQ(o[i], -7.0f) << "values overrun";
}

TEST(AttentionKernels, PortableSmallMatchReference) {
  std::mt19937 rng(1);
  for (int64_t n = 1; n <= kernels::kSmallKeys; ++n)
    for (int64_t d : {1, 9, 16, 17, 32, 64, 100, 128})
      for (int64_t rows : {1, 3, 4, 5, 16})
        check(rows, n, d, kernels::attention_scores_small, kernels::attention_values_small, rng);
}

}  // namespace
}  // namespace encore
