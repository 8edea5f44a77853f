// The MLP of BERT-family layers (transformers BertIntermediate + BertOutput, modeling.py's
// intermediate/output dense, PyTorch linear1/linear2).
#include "nn/feed_forward.h"

#include "kernels/kernels.h"
#include "nn/op_listing.h"

namespace encore::nn {

void feed_forward_block(float* x, const float* in, const FeedForwardWeights& w, const FeedForwardSpec& spec,
                        float residual_dropout, int64_t T, const LayerStep& step, const RunContext& ctx,
                        Workspace& ws) {
  const int64_t H = w.out.out(), I = w.out.in();
  const uint64_t site = static_cast<uint64_t>(step.index) * kSitesPerLayer;
  float* h = ws.inner.data<float>();
  if (ctx.observe) ctx.observe(step.weights, GemmSite::FfnIn, in, T, H);
  const bool dropout = ctx.train() && (spec.dropout > 0.0f || residual_dropout > 0.0f);
  if (spec.kind == FeedForwardKind::Glu) {
    // h = act(W1 in) * (Wg in), in the order the reference rounds: the activation (W1's
    // post-op), then the product.
    float* g = ws.gated.data<float>();
    kernels::linear_forward(h, in, gemm_ref(w.in), T, spec.activation);
    kernels::linear_forward(g, in, gemm_ref(w.gate), T);
    kernels::multiply(h, g, T * I);
  } else if (kernels::bf16_pair(gemm_ref(w.in), gemm_ref(w.out)) && !dropout && !ctx.observe) {  // h stays in bfloat16
    kernels::mlp_bf16_accumulate(x, h, in, gemm_ref(w.in), spec.activation, gemm_ref(w.out), T);
    return;
  } else {
    kernels::linear_forward(h, in, gemm_ref(w.in), T, spec.activation);
  }
  if (ctx.train() && spec.dropout > 0.0f)
    kernels::dropout(h, T * I, spec.dropout, ctx.options->seed, site + kSiteFfnInner);
  if (ctx.observe) ctx.observe(step.weights, GemmSite::FfnOut, h, T, I);
  residual_linear(x, ws.tmp.data<float>(), h, w.out, T, residual_dropout, *ctx.options, site + kSiteFfnOut);
}

std::vector<std::string> feed_forward_block_ops(const FeedForwardSpec& spec, const std::string& input,
                                                const std::string& bias, float residual_dropout) {
  std::vector<std::string> ops;
  if (spec.kind == FeedForwardKind::Glu) {
    ops.push_back(std::string("h = ") + activation_name(spec.activation) + "(ffn_in(" + input + ")) * ffn_gate(" +
                  input + ")  [" + spec.activation_label + "]" + bias);
  } else {
    ops.push_back(std::string("h = ") + activation_name(spec.activation) + "(ffn_in(" + input + "))  [" +
                  spec.activation_label + "]");
  }
  if (spec.dropout > 0.0f) ops.push_back(dropout_op("h", spec.dropout));
  ops.push_back("f = ffn_out(h)" + bias);
  ops.push_back(dropout_op("f", residual_dropout));
  return ops;
}

}  // namespace encore::nn
