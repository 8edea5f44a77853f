#include "serve/classifier_backend.h"

namespace encore::serve {

void ClassifierBackend::run(const BackendBatch& batch, std::vector<SequenceResult>& out) {
  ForwardOptions forward;
  forward.threads = threads_;
  const Encoded encoded = classifier_.model().encode(batch.tokens, forward);
  for (size_t i = 0; i < batch.tokens.ids.size(); ++i) out[i].logits = classifier_.logits(encoded, i);
}

}  // namespace encore::serve
