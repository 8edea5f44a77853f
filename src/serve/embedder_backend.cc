#include "serve/embedder_backend.h"

namespace encore::serve {

void EmbedderBackend::run(const TokenBatch& batch, const std::vector<bool>& all_tokens,
                          std::vector<SequenceResult>& out) {
  ForwardOptions forward;
  forward.threads = threads_;
  const Encoded encoded = embedder_.model().encode(batch, forward);
  const int64_t hidden = embedder_.model().config().hidden;
  const float* states = encoded.states.data<float>();
  for (size_t i = 0; i < batch.ids.size(); ++i) {
    out[i].pooled = embedder_.pool(encoded, i);
    if (all_tokens[i])
      out[i].tokens.assign(states + encoded.cu[i] * hidden, states + encoded.cu[i + 1] * hidden);
  }
}

}  // namespace encore::serve
