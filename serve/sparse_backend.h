// The Batcher's backend for a SPLADE SparseEncoder: SparseEncoder::run on each ragged batch,
// so that a served sparse embedding equals `encore embed --sparse`'s.
#pragma once

#include "encore/sparse_encoder.h"
#include "serve/batcher.h"

namespace encore::serve {

class SparseBackend : public Backend {
 public:
  explicit SparseBackend(const SparseEncoder& encoder) : encoder_(encoder) {}
  void run(const BackendBatch& batch, std::vector<SequenceResult>& out) override {
    std::vector<SparseEmbedding> weights = encoder_.run(batch.tokens);
    for (size_t i = 0; i < weights.size(); ++i) out[i].sparse = std::move(weights[i]);
  }

 private:
  const SparseEncoder& encoder_;
};

}  // namespace encore::serve
