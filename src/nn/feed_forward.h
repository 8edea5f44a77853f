// The feed-forward block of an encoder layer: x += Dropout(W2(Dropout'(Act(W1(in))))), or
// gated (FeedForwardKind::Glu): x += Dropout(W2(Dropout'(Act(W1 in) * Wg in))).
#pragma once

#include <string>
#include <vector>

#include "nn/linear.h"
#include "nn/run_context.h"

namespace encore::nn {

struct FeedForwardWeights {
  Linear in;    // HF intermediate.dense, Google intermediate/dense, PyTorch linear1: [I, H]
  Linear gate;  // gated only: the [I, H] Linear whose output multiplies Act(in) (ModernBERT Wi's second half)
  Linear out;   // HF output.dense, Google output/dense, PyTorch linear2: [H, I]
};

// x[T, H] += Dropout_p(W2(Dropout'(Act(W1 in[T, H])))), p = residual_dropout, Dropout' at
// spec.dropout (train only). `in` may be x (post-norm).
void feed_forward_block(float* x, const float* in, const FeedForwardWeights& w, const FeedForwardSpec& spec,
                        float residual_dropout, int64_t T, const LayerStep& step, const RunContext& ctx, Workspace& ws);

std::vector<std::string> feed_forward_block_ops(const FeedForwardSpec& spec, const std::string& input,
                                                const std::string& bias, float residual_dropout);

}  // namespace encore::nn
