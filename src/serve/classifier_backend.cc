#include "serve/classifier_backend.h"

namespace encore::serve {

void ClassifierBackend::run(const TokenBatch& batch, const std::vector<bool>& /*all_tokens*/,
                            std::vector<SequenceResult>& out) {
  ForwardOptions forward;
  forward.threads = threads_;
  const Encoded encoded = classifier_.model().encode(batch, forward);
  for (size_t i = 0; i < batch.ids.size(); ++i) out[i].logits = classifier_.logits(encoded, i);
}

}  // namespace encore::serve
