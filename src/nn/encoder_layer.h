// The one encoder layer: an attention block and a feed-forward block (src/nn/attention.h,
// src/nn/feed_forward.h) composed with the norm placement of a LayerSpec.
//
// Legend: T = real tokens in the batch, H = hidden, I = FFN width, B = sequences,
// S = the caller's padded length, d = head size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "encore/model.h"
#include "nn/attention.h"
#include "nn/feed_forward.h"
#include "nn/linear.h"
#include "nn/run_context.h"

namespace encore::nn {

struct EncoderLayerWeights {
  AttentionWeights attention;
  LayerNorm ln1;  // after attention (post-norm) or before it (pre-norm)
  FeedForwardWeights feed_forward;
  LayerNorm ln2;
};

// x: [T, H] in place; `step` says which plan step runs (dropout sites, head_mask row,
// calibration key).
void encoder_layer_forward(float* x, const RaggedBatch& batch, const AttentionMask& mask, const EncoderLayerWeights& w,
                           const LayerSpec& spec, int64_t heads, const LayerStep& step, const RunContext& ctx);

// The op sequence encoder_layer_forward performs for `spec`, one line per op.
std::vector<std::string> encoder_layer_ops(const LayerSpec& spec);

}  // namespace encore::nn
