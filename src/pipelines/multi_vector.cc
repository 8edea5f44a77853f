// MaxSim over multi-vector embeddings (encore/multi_vector.h).
#include <algorithm>
#include <cmath>

#include "encore/error.h"
#include "encore/multi_vector.h"

namespace encore {

float maxsim(const MultiVector& query, const MultiVector& document) {
  if (query.rows == 0) return 0.0f;
  ENCORE_CHECK(document.rows == 0 || query.dim == document.dim, "MaxSim of ", query.dim, "- and ", document.dim,
               "-dimensional vectors");
  double total = 0.0;
  for (int64_t i = 0; i < query.rows; ++i) {
    const float* q = query.row(i);
    double best = document.rows == 0 ? 0.0 : -INFINITY;
    for (int64_t j = 0; j < document.rows; ++j) {
      const float* d = document.row(j);
      double dot = 0.0;
      for (int64_t k = 0; k < query.dim; ++k) dot += static_cast<double>(q[k]) * d[k];
      best = std::max(best, dot);
    }
    total += best;
  }
  return static_cast<float>(total);
}

}  // namespace encore
