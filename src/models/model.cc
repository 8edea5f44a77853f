#include <omp.h>

#include "encore/model_path.h"
#include "kernels/kernels.h"
#include "models/model_impl.h"
#include "nn/encoder_layer.h"

namespace encore {

Model Model::load(const std::string& dir, const LoadOptions& options) {
  Model m;
  m.impl_ = load_model(resolve_model_path(dir), options);
  return m;
}

const Model::Impl& impl_of(const Model& model) { return *model.impl_; }

ThreadScope::ThreadScope(int threads) {
  if (threads <= 0) return;
  previous_ = omp_get_max_threads();
  omp_set_num_threads(threads);
}

ThreadScope::~ThreadScope() {
  if (previous_ > 0) omp_set_num_threads(previous_);
}

const ModelConfig& Model::config() const { return impl_->config; }
const std::string& Model::directory() const { return impl_->dir; }
int64_t Model::parameter_count() const { return impl_->parameters; }
std::vector<std::string> Model::layer_ops(int64_t layer) const {
  const auto& plan = impl_->plan;
  if (plan.empty()) return nn::encoder_layer_ops(impl_->specs.front());
  ENCORE_CHECK(layer >= 0 && layer < static_cast<int64_t>(plan.size()), "layer ", layer, " of ", plan.size());
  return nn::encoder_layer_ops(impl_->specs[static_cast<size_t>(plan[static_cast<size_t>(layer)].spec)]);
}

TensorMap Model::forward(const TensorMap& inputs, const ForwardOptions& options) const {
  const ThreadScope threads(options.threads);
  if (impl_->arch->embeddings == EmbeddingsKind::None) return transformer_encoder_forward(*impl_, inputs, options);
  return token_forward(*impl_, inputs, options);
}

Encoded Model::encode(const TokenBatch& batch, const ForwardOptions& options) const {
  ENCORE_CHECK(impl_->arch->embeddings == EmbeddingsKind::Tokens, "encode() takes token ids; a ",
               impl_->arch->reference, " takes embeddings (use forward)");
  const ThreadScope threads(options.threads);
  return token_encode(*impl_, batch, options);
}

Tensor Model::token_logits(const Encoded& encoded, const std::vector<int64_t>& rows) const {
  ENCORE_CHECK(!encoded.cu.empty(), "token_logits: empty encoding");
  if (!rows.empty()) {
    for (int64_t r : rows)
      ENCORE_CHECK(r >= 0 && r < encoded.cu.back(), "token_logits: row ", r, " is outside [0, ", encoded.cu.back(), ")");
    return head_token_logits(*impl_, encoded.states.data<float>(), rows);
  }
  std::vector<int64_t> all(static_cast<size_t>(encoded.cu.back()));
  for (size_t t = 0; t < all.size(); ++t) all[t] = static_cast<int64_t>(t);
  return head_token_logits(*impl_, encoded.states.data<float>(), all);
}

Tensor Model::sequence_logits(const Encoded& encoded) const {
  return head_sequence_logits(*impl_, encoded);
}

}  // namespace encore
