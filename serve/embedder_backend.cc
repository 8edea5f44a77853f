#include "serve/embedder_backend.h"

namespace encore::serve {

void EmbedderBackend::run(const BackendBatch& batch, std::vector<SequenceResult>& out) {
  bool any_tokens = false;
  for (bool b : batch.all_tokens) any_tokens |= b;
  std::vector<std::vector<float>> tokens;
  std::vector<std::vector<float>> pooled =
      embedder_.run(batch.tokens, batch.prompt_tokens, "", any_tokens ? &tokens : nullptr,
                    /*final_normalize=*/false);
  for (size_t i = 0; i < pooled.size(); ++i) {
    out[i].pooled = std::move(pooled[i]);
    if (batch.all_tokens[i]) out[i].tokens = std::move(tokens[i]);
  }
}

}  // namespace encore::serve
