// PackedLinear across many row counts, as a server meets them: every row count gives the
// double-precision product, and the process keeps a bounded number of shape-specific oneDNN
// primitives (issue 16: a server's memory grew ~0.75 MB with each new request length).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/packed_linear.h"

namespace encore {
namespace {

TEST(PackedLinear, ManyRowCountsKeepABoundedSetOfPrimitives) {
  const int64_t in = 48, out = 40;
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out));
  for (float& v : w) v = g(rng) * 0.2f;
  for (float& v : b) v = g(rng);
  // Each type twice: through oneDNN (the portable kernels forced), and through panel_gemm
  // where the CPU runs it (no oneDNN primitive: the cache must not grow).
  for (const auto& [type, portable] : {std::pair{ComputeType::F32, true}, {ComputeType::F32, false},
                                       {ComputeType::Int8, true}, {ComputeType::Int8, false}}) {
    kernels::force_portable_kernels(portable);
    const kernels::PackedLinear lin(w.data(), b.data(), in, out, type);
    const bool onednn = !lin.uses_panel_gemm();
    const size_t before = kernels::PackedLinear::cached_primitives();
    // Row counts 1..300, then the first ones again (made again after they were dropped).
    for (int64_t i = 0; i < 320; ++i) {
      const int64_t T = i < 300 ? i + 1 : i - 299;
      std::vector<float> x(static_cast<size_t>(T * in)), y(static_cast<size_t>(T * out));
      for (float& v : x) v = g(rng);
      lin.run(y.data(), x.data(), T, Activation::Relu);
      const double tol = type == ComputeType::F32 ? 1e-4 : 0.1;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t n = 0; n < out; ++n) {
          double ref = b[static_cast<size_t>(n)];
          for (int64_t k = 0; k < in; ++k)
            ref += static_cast<double>(x[static_cast<size_t>(t * in + k)]) * w[static_cast<size_t>(n * in + k)];
          ref = std::max(ref, 0.0);
          ASSERT_NEAR(y[static_cast<size_t>(t * out + n)], ref, tol * (1.0 + std::fabs(ref)))
              << "type " << static_cast<int>(type) << " T=" << T << " row " << t << " column " << n;
        }
      ASSERT_LE(kernels::PackedLinear::cached_primitives(), kernels::PackedLinear::cache_capacity())
          << "T=" << T;
    }
    const size_t capacity = kernels::PackedLinear::cache_capacity();
    if (onednn)
      EXPECT_GE(kernels::PackedLinear::cached_primitives(), std::min<size_t>(300, capacity));
    else
      EXPECT_EQ(kernels::PackedLinear::cached_primitives(), before);
    kernels::force_portable_kernels(false);
  }
}

}  // namespace
}  // namespace encore
