// The Batcher's backend for a bge-m3 model: BgeM3::run on each ragged batch, all three outputs
// at once (loaded without normalization: the routes normalize as each request asks), so that
// served outputs equal `encore embed --bge-m3 --no-normalize`'s, normalized by the route.
#pragma once

#include "encore/bge_m3.h"
#include "serve/batcher.h"

namespace encore::serve {

class BgeM3Backend : public Backend {
 public:
  explicit BgeM3Backend(const BgeM3& model) : model_(model) {}
  void run(const BackendBatch& batch, std::vector<SequenceResult>& out) override {
    std::vector<BgeM3Embedding> r = model_.run(batch.tokens);
    for (size_t i = 0; i < r.size(); ++i) {
      out[i].pooled = std::move(r[i].dense);
      out[i].sparse = std::move(r[i].sparse);
      out[i].tokens = std::move(r[i].colbert.values);
    }
  }

 private:
  const BgeM3& model_;
};

}  // namespace encore::serve
