// One encoder layer, the whole composition on one screen.
//
//   post-norm (BERT family, PyTorch default)   pre-norm (PyTorch norm_first=True, ModernBERT)
//   x = LN1(x + Dropout(AttentionBlock(x)))     x = x + Dropout(AttentionBlock(LN1(x)))
//   x = LN2(x + Dropout(FeedForward(x)))        x = x + Dropout(FeedForward(LN2(x)))
//
// AttentionBlock = OutProj(Attn(QKV(.))) (src/nn/attention.cc); FeedForward =
// W2(Dropout'(Act(W1(.)))) (src/nn/feed_forward.cc), Dropout' only in PyTorch. References:
// transformers modeling_bert.py BertLayer; modeling.py transformer_model();
// torch/nn/modules/transformer.py TransformerEncoderLayer.forward.
#include "nn/encoder_layer.h"

#include "nn/op_listing.h"

namespace encore::nn {

void encoder_layer_forward(float* x, const RaggedBatch& batch, const AttentionMask& mask, const EncoderLayerWeights& w,
                           const LayerSpec& spec, int64_t heads, const LayerStep& step, const RunContext& ctx) {
  const int64_t T = batch.tokens(), H = w.attention.out.out(), I = w.feed_forward.in.out();
  Workspace local;
  Workspace& ws = ctx.workspace ? *ctx.workspace : local;
  ws.reserve(T, H, I, spec.feed_forward.kind == FeedForwardKind::Glu ? I : 0);
  float* normed = ws.tmp.data<float>();  // pre-norm: the block input (the residual scratch is free then)
  const float eps = spec.layer_norm_eps;

  const bool ln1_first = spec.norm_first && spec.attention_norm;
  if (ln1_first) layer_norm(normed, x, w.ln1, T, H, eps);
  attention_block(x, ln1_first ? normed : x, w.attention, spec.attention, heads, spec.hidden_dropout, batch, mask, step,
                  ctx, ws);
  if (!spec.norm_first) layer_norm(x, x, w.ln1, T, H, eps);

  if (spec.norm_first) layer_norm(normed, x, w.ln2, T, H, eps);
  const float ffn_dropout = spec.ffn_output_dropout < 0.0f ? spec.hidden_dropout : spec.ffn_output_dropout;
  feed_forward_block(x, spec.norm_first ? normed : x, w.feed_forward, spec.feed_forward, ffn_dropout, T, step, ctx,
                     ws);
  if (!spec.norm_first) layer_norm(x, x, w.ln2, T, H, eps);
}

std::vector<std::string> encoder_layer_ops(const LayerSpec& spec) {
  const std::string eps = op_number(spec.layer_norm_eps);
  const std::string bias = spec.bias ? "" : " (no bias)";
  const std::string in = spec.norm_first ? "y" : "x";
  std::vector<std::string> ops;
  auto append = [&](const std::vector<std::string>& more) { ops.insert(ops.end(), more.begin(), more.end()); };
  if (spec.norm_first && spec.attention_norm) ops.push_back("y = layer_norm1(x, eps=" + eps + ")" + bias);
  append(attention_block_ops(spec.attention, spec.attention_norm ? in : "x", bias, spec.hidden_dropout));
  ops.push_back(spec.norm_first ? "x = x + a" : "x = layer_norm1(x + a, eps=" + eps + ")");
  if (spec.norm_first) ops.push_back("y = layer_norm2(x, eps=" + eps + ")");
  append(feed_forward_block_ops(spec.feed_forward, in, bias,
                                spec.ffn_output_dropout < 0.0f ? spec.hidden_dropout : spec.ffn_output_dropout));
  ops.push_back(spec.norm_first ? "x = x + f" : "x = layer_norm2(x + f, eps=" + eps + ")");
  return ops;
}

}  // namespace encore::nn
