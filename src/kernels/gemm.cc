// Linear layers on plain [out, in] weights through oneDNN's sgemm: the path of a Linear that
// is not packed (kernels::linear_forward; packed weights run in packed_linear.cc).

#include <oneapi/dnnl/dnnl.h>

#include "encore/error.h"
#include "kernels/kernels.h"

namespace encore::kernels {

void linear(float* y, const float* x, const float* w, const float* bias, int64_t T, int64_t K, int64_t N) {
  if (T == 0) return;
  dnnl_status_t st = dnnl_sgemm('N', 'T', T, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
  ENCORE_CHECK(st == dnnl_success, "oneDNN sgemm failed with status ", static_cast<int>(st));
  if (bias) {
#pragma omp parallel for if (T * N > 32768)
    for (int64_t t = 0; t < T; ++t) {
      float* row = y + t * N;
      for (int64_t n = 0; n < N; ++n) row[n] += bias[n];
    }
  }
}

}  // namespace encore::kernels

