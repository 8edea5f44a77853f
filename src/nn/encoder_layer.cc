// One encoder layer, the whole block on one screen.
//
//   post-norm (HF, Google, PyTorch default)     pre-norm (PyTorch norm_first=True)
//   a = OutProj(Attn(QKV(x)))                    a = OutProj(Attn(QKV(LN1(x))))
//   x = LN1(x + Dropout(a))                      x = x + Dropout(a)
//   f = W2(Dropout'(Act(W1(x))))                 f = W2(Dropout'(Act(W1(LN2(x)))))
//   x = LN2(x + Dropout(f))                      x = x + Dropout(f)
//
// Dropout' exists only in PyTorch (spec.ffn_dropout); attention-probability dropout is
// inside Attn. References: transformers modeling_bert.py BertLayer; modeling.py
// transformer_model(); torch/nn/modules/transformer.py TransformerEncoderLayer.forward.
#include "nn/encoder_layer.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "kernels/kernels.h"
#include "kernels/linear.h"

namespace encore::nn {

namespace {

const float* ptr(const Tensor& t) {
  return t.defined() && t.numel() ? t.data<float>() : nullptr;
}

kernels::LinearRef ref(const Linear& l) {
  return {l.packed.get(), l.packed ? nullptr : l.weight.data<float>(), ptr(l.bias), l.in(), l.out()};
}

void run_linear(float* y, const float* x, const Linear& l, int64_t T, std::optional<Activation> act = std::nullopt,
                bool accumulate = false) {
  kernels::linear_forward(y, x, ref(l), T, act, accumulate);
}

void run_norm(float* y, const float* x, const LayerNorm& n, int64_t T, int64_t H, float eps) {
  kernels::layer_norm(y, x, n.gamma.data<float>(), ptr(n.beta), T, H, eps);
}

// x += Dropout(x_in Wᵀ + b): one fused GEMM in eval mode, three steps when dropout applies.
void residual_linear(float* x, float* scratch, const float* in, const Linear& l, int64_t T, float p,
                     const RunContext& ctx, uint64_t site) {
  if (!(ctx.options->train && p > 0.0f)) {
    run_linear(x, in, l, T, std::nullopt, /*accumulate=*/true);
    return;
  }
  run_linear(scratch, in, l, T);
  kernels::dropout(scratch, T * l.out(), p, ctx.options->seed, site);
  kernels::add_inplace(x, scratch, T * l.out());
}

}  // namespace

void Workspace::reserve(int64_t T, int64_t H, int64_t I) {
  const bool same_shape = H == H_ && I == I_ && qkv.defined();
  if (same_shape && !policy_.reallocate(static_cast<size_t>(T), static_cast<size_t>(rows_))) return;
  for (Tensor* t : {&qkv, &attn, &tmp, &inner}) *t = Tensor();  // release before allocating
  qkv = Tensor::empty(DType::F32, {T * 3 * H});
  attn = Tensor::empty(DType::F32, {T * H});
  tmp = Tensor::empty(DType::F32, {T * H});
  inner = Tensor::empty(DType::F32, {T * I});
  rows_ = T, H_ = H, I_ = I;
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

void pack(Linear& l, ComputeType type, const std::vector<int64_t>& f32_channels) {
  l.packed =
      std::make_shared<kernels::PackedLinear>(l.weight.data<float>(), ptr(l.bias), l.out(), l.in(), type, f32_channels);
  l.weight = Tensor();
}

Tensor dense_weight(const Linear& l) {
  if (!l.packed) return l.weight;
  Tensor w = Tensor::empty(DType::F32, {l.out(), l.in()});
  l.packed->unpack(w.data<float>());
  return w;
}

void encoder_layer_forward(float* x, const RaggedBatch& batch, const AttentionMask& mask, const EncoderLayerWeights& w,
                           const LayerSpec& spec, int64_t heads, int64_t layer, const RunContext& ctx) {
  const int64_t T = batch.tokens(), H = w.attn_out.out(), I = w.ffn_in.out();
  const uint64_t site = static_cast<uint64_t>(layer) * kSitesPerLayer;
  Workspace local;
  Workspace& ws = ctx.workspace ? *ctx.workspace : local;
  ws.reserve(T, H, I);
  float* q = ws.qkv.data<float>();
  float* a = ws.attn.data<float>();
  float* t = ws.tmp.data<float>();
  float* h = ws.inner.data<float>();

  // Attention block.
  const float* attn_in = x;
  if (spec.norm_first) {
    run_norm(t, x, w.ln1, T, H, spec.layer_norm_eps);
    attn_in = t;
  }
  auto observe = [&](GemmSite site, const float* in, int64_t K) {
    if (ctx.observe) ctx.observe(layer, site, in, T, K);
  };
  observe(GemmSite::Qkv, attn_in, H);
  run_linear(q, attn_in, w.qkv, T);
  attention_forward(a, q, batch, mask, w, spec, heads, layer, ctx);
  observe(GemmSite::AttnOut, a, H);
  residual_linear(x, t, a, w.attn_out, T, spec.hidden_dropout, ctx, site + kSiteAttnOut);
  if (!spec.norm_first) run_norm(x, x, w.ln1, T, H, spec.layer_norm_eps);

  // Feed-forward block.
  const float* ffn_in = x;
  if (spec.norm_first) {
    run_norm(t, x, w.ln2, T, H, spec.layer_norm_eps);
    ffn_in = t;
  }
  observe(GemmSite::FfnIn, ffn_in, H);
  const bool train = ctx.options->train && (spec.ffn_dropout > 0.0f || spec.hidden_dropout > 0.0f);
  if (kernels::bf16_pair(ref(w.ffn_in), ref(w.ffn_out)) && !train && !ctx.observe) {  // h stays in bfloat16
    kernels::mlp_bf16_accumulate(x, h, ffn_in, ref(w.ffn_in), spec.activation, ref(w.ffn_out), T);
  } else {
    run_linear(h, ffn_in, w.ffn_in, T, spec.activation);
    if (ctx.options->train && spec.ffn_dropout > 0.0f)
      kernels::dropout(h, T * I, spec.ffn_dropout, ctx.options->seed, site + kSiteFfnInner);
    observe(GemmSite::FfnOut, h, I);
    residual_linear(x, t, h, w.ffn_out, T, spec.hidden_dropout, ctx, site + kSiteFfnOut);
  }
  if (!spec.norm_first) run_norm(x, x, w.ln2, T, H, spec.layer_norm_eps);
}

namespace {
std::string number(float v) {
  if (v == std::numeric_limits<float>::lowest()) return "float32 min";
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

std::vector<std::string> encoder_layer_ops(const LayerSpec& spec) {
  auto drop = [](const char* what, float p) {
    return std::string("dropout(") + what + ", p=" + number(p) + ", train only)";
  };
  const std::string eps = number(spec.layer_norm_eps);
  std::vector<std::string> ops;
  const std::string b = spec.bias ? "" : " (no bias)";
  if (spec.norm_first) ops.push_back("y = layer_norm1(x, eps=" + eps + ")" + b);
  ops.push_back(std::string("qkv = fused_linear_qkv(") + (spec.norm_first ? "y" : "x") + ")  [3H x H]" + b);
  std::string scores = "scores = (q k^T";
  if (spec.relative == RelativePositions::Key) scores += " + q.rel";
  if (spec.relative == RelativePositions::KeyQuery) scores += " + q.rel + k.rel";
  scores += ") / sqrt(d) + mask (masked key: ";
  scores += number(spec.mask_fill);
  scores += ")";
  ops.push_back(scores);
  ops.push_back(std::string("probs = softmax(scores)") + (spec.masked_row_zero ? "  [fully masked row -> 0]" : ""));
  ops.push_back(drop("probs", spec.attention_dropout));
  ops.push_back("ctx = probs v  (per head, concatenated)");
  ops.push_back("a = attn_out_proj(ctx)" + b);
  ops.push_back(drop("a", spec.hidden_dropout));
  ops.push_back(spec.norm_first ? "x = x + a" : "x = layer_norm1(x + a, eps=" + eps + ")");
  if (spec.norm_first) ops.push_back("y = layer_norm2(x, eps=" + eps + ")");
  ops.push_back(std::string("h = ") + activation_name(spec.activation) + "(ffn_in(" + (spec.norm_first ? "y" : "x") +
                "))  [" + spec.activation_label + "]");
  if (spec.ffn_dropout > 0.0f) ops.push_back(drop("h", spec.ffn_dropout));
  ops.push_back("f = ffn_out(h)" + b);
  ops.push_back(drop("f", spec.hidden_dropout));
  ops.push_back(spec.norm_first ? "x = x + f" : "x = layer_norm2(x + f, eps=" + eps + ")");
  return ops;
}

}  // namespace encore::nn
