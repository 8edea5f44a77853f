// The Batcher's backend for an Embedder: one ragged Model::encode per batch, then the
// Embedder's own pooling per sequence (so a served embedding equals `encore embed`'s).
#pragma once

#include "encore/embedder.h"
#include "serve/batcher.h"

namespace encore::serve {

class EmbedderBackend : public Backend {
 public:
  EmbedderBackend(const Embedder& embedder, int threads) : embedder_(embedder), threads_(threads) {}
  void run(const TokenBatch& batch, const std::vector<bool>& all_tokens, std::vector<SequenceResult>& out) override;

 private:
  const Embedder& embedder_;
  int threads_;
};

}  // namespace encore::serve
