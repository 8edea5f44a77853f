// The Batcher's backend for an Embedder: Embedder::run on each ragged batch (the model and
// every sentence-transformers module but a final Normalize, which the routes apply as the
// request's `normalize` says), so a served embedding equals `encore embed`'s.
#pragma once

#include "encore/embedder.h"
#include "serve/batcher.h"

namespace encore::serve {

class EmbedderBackend : public Backend {
 public:
  explicit EmbedderBackend(const Embedder& embedder) : embedder_(embedder) {}
  void run(const BackendBatch& batch, std::vector<SequenceResult>& out) override;

 private:
  const Embedder& embedder_;
};

}  // namespace encore::serve
