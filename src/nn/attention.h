// The attention block of an encoder layer: x += Dropout(OutProj(Attention(QKV(in)))).
//
// Position kinds (AttentionSpec::relative): absolute positions live in the embeddings and
// need nothing here; relative_key / relative_key_query add q·e (and k·e) from a distance
// table before the scaling (HF BERT); Bucket adds a per-forward position bias after the
// scaling (AttentionMask::position_bias, MPNet). Masks (AttentionMask): key padding is the
// ragged layout itself, plus a dense additive bias, causal, and fully masked sequences.
#pragma once

#include <string>
#include <vector>

#include "nn/linear.h"
#include "nn/run_context.h"

namespace encore::nn {

struct AttentionWeights {
  Linear qkv;       // [3H, H]: Q, K, V stacked on dim 0 (PyTorch in_proj order), one GEMM
  Linear out;       // HF attention.output.dense, Google attention/output/dense, PyTorch out_proj
  Tensor distance;  // [2*max_positions-1, d] HF relative distance embedding, else undefined
  // Disentangled (DeBERTa-v2): the layer's key and query projections of the shared relative
  // embeddings, [2 span, H] each (undefined for a term the spec does not use).
  Tensor pos_key, pos_query;
};

// The row of pos_key / pos_query for the distance i - j (query i, key j):
// clamp(bucket(i - j) + span, 0, 2 span - 1), span = position_buckets, else max_relative;
// bucket = transformers' make_log_bucket_position (identity when position_buckets <= 0).
int64_t disentangled_row(int64_t distance, int64_t position_buckets, int64_t max_relative);

// Rotary embeddings on the q and k parts of qkv [T, 3H] in place: each head's vector rotated
// by position * theta^(-2i/d) in the pairs (i, i + d/2), as transformers' apply_rotary_pos_emb.
// rotary_dims > 0: only the first rotary_dims features of each head, pairs (i, i + rotary_dims/2),
// frequencies theta^(-2i/rotary_dims) (NomicBERT's partial rotary); the rest pass unchanged.
void apply_rotary(float* qkv, int64_t T, int64_t H, int64_t heads, const int64_t* positions, float theta,
                  int64_t rotary_dims = 0);

// x[T, H] += Dropout_p(OutProj(Attention(QKV(in[T, H])))), p = residual_dropout (train
// only). `in` may be x (post-norm): it is read before x is written.
void attention_block(float* x, const float* in, const AttentionWeights& w, const AttentionSpec& spec, int64_t heads,
                     float residual_dropout, const RaggedBatch& batch, const AttentionMask& mask, const LayerStep& step,
                     const RunContext& ctx, Workspace& ws);

// Attention core: ctx[T,H] = softmax(scale·QKᵀ (+ position terms) + bias) V per sequence
// and head, with qkv [T, 3H] laid out as the fused projection writes it.
void attention_forward(float* ctx, const float* qkv, const RaggedBatch& batch, const AttentionMask& mask,
                       const AttentionWeights& w, const AttentionSpec& spec, int64_t heads, const LayerStep& step,
                       const RunContext& run);

// The block's operations, one line each, reading `input` ("x" or "y"); `bias` is appended to
// the Linears (" (no bias)" or "").
std::vector<std::string> attention_block_ops(const AttentionSpec& spec, const std::string& input,
                                             const std::string& bias, float residual_dropout);

}  // namespace encore::nn
