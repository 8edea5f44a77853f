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
    // h = act(a) * g from W1's [T, 2I] (a the first I features, g the rest), in the order the
    // reference rounds: the activation, then the product.
    const float* ag = h;
    h = ws.gated.data<float>();
    kernels::linear_forward(ws.inner.data<float>(), in, gemm_ref(w.in), T);
#pragma omp parallel for if (T * I > 65536)
    for (int64_t t = 0; t < T; ++t) {
      float* row = h + t * I;
      std::copy(ag + t * 2 * I, ag + t * 2 * I + I, row);
      kernels::activate(row, I, spec.activation);
      const float* g = ag + t * 2 * I + I;
      for (int64_t k = 0; k < I; ++k) row[k] *= g[k];
    }
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
    ops.push_back("a, g = split(ffn_in(" + input + "))  [2I x H]" + bias);
    ops.push_back(std::string("h = ") + activation_name(spec.activation) + "(a) * g  [" + spec.activation_label + "]");
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
