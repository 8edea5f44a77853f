// Model::layer_ops (what `encore inspect` prints as "one encoder layer") against a golden per
// dialect and position kind: the order of the steps, the mask constant, eps, the activation,
// where dropout sits and which Linears have no bias, as each reference computes its layer
// (HF BertLayer, Google's transformer_model, torch.nn.TransformerEncoderLayer with and without
// norm_first, relative_key_query positions, MPNet's shared position bias).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "encore/model.h"
#include "test_util.h"

namespace encore {
namespace {

using Ops = std::vector<std::string>;

Ops ops_of(const std::string& fixture_dir) {
  return Model::load((testing::fixture(fixture_dir) / "model").string()).layer_ops();
}

TEST(LayerOps, HuggingFaceBert) {
  EXPECT_EQ(ops_of("core/bert-hf-gelu-abs-h36"),
            (Ops{"qkv = fused_linear_qkv(x)  [3H x H]",
                 "scores = (q k^T) / sqrt(d) + mask (masked key: float32 min)",
                 "probs = softmax(scores)",
                 "dropout(probs, p=0.1, train only)",
                 "ctx = probs v  (per head, concatenated)",
                 "a = attn_out_proj(ctx)",
                 "dropout(a, p=0.1, train only)",
                 "x = layer_norm1(x + a, eps=1e-12)",
                 "h = gelu_erf(ffn_in(x))  [gelu]",
                 "f = ffn_out(h)",
                 "dropout(f, p=0.1, train only)",
                 "x = layer_norm2(x + f, eps=1e-12)"}));
}

TEST(LayerOps, GoogleBert) {
  EXPECT_EQ(ops_of("core/bert-google-erf-h36"),
            (Ops{"qkv = fused_linear_qkv(x)  [3H x H]",
                 "scores = (q k^T) / sqrt(d) + mask (masked key: -10000)",
                 "probs = softmax(scores)",
                 "dropout(probs, p=0.1, train only)",
                 "ctx = probs v  (per head, concatenated)",
                 "a = attn_out_proj(ctx)",
                 "dropout(a, p=0.1, train only)",
                 "x = layer_norm1(x + a, eps=1e-12)",
                 "h = gelu_tanh(ffn_in(x))  [gelu (modeling.py tanh form)]",
                 "f = ffn_out(h)",
                 "dropout(f, p=0.1, train only)",
                 "x = layer_norm2(x + f, eps=1e-12)"}));
}

TEST(LayerOps, TorchNormFirst) {
  EXPECT_EQ(ops_of("core/torch-gelu-pre-bf-d40"),
            (Ops{"y = layer_norm1(x, eps=1e-06)",
                 "qkv = fused_linear_qkv(y)  [3H x H]",
                 "scores = (q k^T) / sqrt(d) + mask (masked key: -inf)",
                 "probs = softmax(scores)  [fully masked row -> 0]",
                 "dropout(probs, p=0.1, train only)",
                 "ctx = probs v  (per head, concatenated)",
                 "a = attn_out_proj(ctx)",
                 "dropout(a, p=0.1, train only)",
                 "x = x + a",
                 "y = layer_norm2(x, eps=1e-06)",
                 "h = gelu_erf(ffn_in(y))  [gelu]",
                 "dropout(h, p=0.1, train only)",
                 "f = ffn_out(h)",
                 "dropout(f, p=0.1, train only)",
                 "x = x + f"}));
}

TEST(LayerOps, TorchPostNormWithoutBias) {
  EXPECT_EQ(ops_of("core/torch-relu-post-nobias-bf-d36"),
            (Ops{"qkv = fused_linear_qkv(x)  [3H x H] (no bias)",
                 "scores = (q k^T) / sqrt(d) + mask (masked key: -inf)",
                 "probs = softmax(scores)  [fully masked row -> 0]",
                 "dropout(probs, p=0.1, train only)",
                 "ctx = probs v  (per head, concatenated)",
                 "a = attn_out_proj(ctx) (no bias)",
                 "dropout(a, p=0.1, train only)",
                 "x = layer_norm1(x + a, eps=1e-05)",
                 "h = relu(ffn_in(x))  [relu]",
                 "dropout(h, p=0.1, train only)",
                 "f = ffn_out(h) (no bias)",
                 "dropout(f, p=0.1, train only)",
                 "x = layer_norm2(x + f, eps=1e-05)"}));
}

TEST(LayerOps, RelativeKeyQueryAndSharedPositionBias) {
  const Ops relkq = ops_of("core/bert-hf-tanh-relkq-h54");
  ASSERT_EQ(relkq.size(), 12u);
  EXPECT_EQ(relkq[1], "scores = (q k^T + q.rel + k.rel) / sqrt(d) + mask (masked key: float32 min)");
  EXPECT_EQ(relkq[8], "h = gelu_tanh(ffn_in(x))  [gelu_pytorch_tanh]");
  const Ops mpnet = ops_of("family/mpnet-gelu-h36-pool");
  ASSERT_EQ(mpnet.size(), 12u);
  EXPECT_EQ(mpnet[1], "scores = (q k^T) / sqrt(d) + position_bias + mask (masked key: float32 min)");
  EXPECT_EQ(mpnet[7], "x = layer_norm1(x + a, eps=1e-05)");
}

}  // namespace
}  // namespace encore
