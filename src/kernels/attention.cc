// The GEMMs of attention (Q·Kᵀ and P·V), one (sequence, head, query block) at a time.
#include <oneapi/dnnl/dnnl.h>

#include "encore/error.h"
#include "kernels/kernels.h"

namespace encore::kernels {

namespace {

void check(dnnl_status_t status, const char* what) {
  ENCORE_CHECK(status == dnnl_success, "oneDNN sgemm (", what, ") failed with status ", static_cast<int>(status));
}

}  // namespace

void attention_scores(float* scores, const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t rows, int64_t n,
                      int64_t d, float alpha) {
  if (n <= kSmallKeys) {
    attention_scores_small(scores, q, ldq, k, ldk, rows, n, d, alpha);
    return;
  }
  check(dnnl_sgemm('N', 'T', rows, n, d, alpha, q, ldq, k, ldk, 0.0f, scores, n), "attention scores");
}

void attention_values(float* out, int64_t ldo, const float* p, const float* v, int64_t ldv, int64_t rows, int64_t n,
                      int64_t d) {
  if (n <= kSmallKeys) {
    attention_values_small(out, ldo, p, v, ldv, rows, n, d);
    return;
  }
  check(dnnl_sgemm('N', 'N', rows, d, n, 1.0f, p, n, v, ldv, 0.0f, out, ldo), "attention values");
}

}  // namespace encore::kernels
