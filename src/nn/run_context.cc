#include "nn/run_context.h"

namespace encore::nn {

void Workspace::reserve(int64_t T, int64_t H, int64_t I, int64_t G) {
  const bool same_shape = H == H_ && I == I_ && G == G_ && qkv.defined();
  if (same_shape && !policy_.reallocate(static_cast<size_t>(T), static_cast<size_t>(rows_))) return;
  for (Tensor* t : {&qkv, &attn, &tmp, &inner, &gated}) *t = Tensor();  // release before allocating
  qkv = Tensor::empty(DType::F32, {T * 3 * H});
  attn = Tensor::empty(DType::F32, {T * H});
  tmp = Tensor::empty(DType::F32, {T * H});
  inner = Tensor::empty(DType::F32, {T * I});
  if (G > 0) gated = Tensor::empty(DType::F32, {T * G});
  rows_ = T, H_ = H, I_ = I, G_ = G;
}

WorkspacePool::Lease WorkspacePool::take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) return Lease(*this, std::make_unique<Workspace>());
  std::unique_ptr<Workspace> ws = std::move(free_.back());
  free_.pop_back();
  return Lease(*this, std::move(ws));
}

void WorkspacePool::give_back(std::unique_ptr<Workspace> ws) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(ws));
}

}  // namespace encore::nn
