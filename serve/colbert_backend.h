// The Batcher's backend for a ColBERT model: ColBERT::run on each batch (queries and
// documents mixed), so that served vectors equal `encore embed --multi-vector`'s. Each
// sequence's vectors go back as its token embeddings [kept tokens, dimensions].
#pragma once

#include "encore/multi_vector.h"
#include "serve/batcher.h"

namespace encore::serve {

class ColBERTBackend : public Backend {
 public:
  explicit ColBERTBackend(const ColBERT& model) : model_(model) {}
  void run(const BackendBatch& batch, std::vector<SequenceResult>& out) override {
    std::vector<ColBERT::Input> inputs(batch.tokens.ids.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      inputs[i] = {batch.tokens.ids[i], batch.attended[i], static_cast<bool>(batch.is_query[i])};
    std::vector<MultiVector> vectors = model_.run(inputs);
    for (size_t i = 0; i < vectors.size(); ++i) out[i].tokens = std::move(vectors[i].values);
  }

 private:
  const ColBERT& model_;
};

}  // namespace encore::serve
