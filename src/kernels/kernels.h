// CPU kernels: plain functions over raw pointers, output first.
// Legend: T = tokens (rows), N = features (columns), K = input features.
#pragma once

#include <cstdint>

#include "encore/compute.h"

namespace encore::kernels {

// y[T,N] = x[T,K] · w[N,K]^T (+ bias[N]); w is a Linear weight in [out,in] layout, K = in and
// N = out (the order PackedLinear takes them in).
// oneDNN's GEMM; threads follow OpenMP's setting.
void linear(float* y, const float* x, const float* w, const float* bias, int64_t T, int64_t K, int64_t N);

// x[i] = act(x[i]) for n elements.
void activate(float* x, int64_t n, Activation act);

// y[T,N] = (x - mean) / sqrt(var + eps) * gamma + beta, two-pass statistics per row.
// beta may be null (PyTorch bias=False). y may alias x.
void layer_norm(float* y, const float* x, const float* gamma, const float* beta, int64_t T, int64_t N,
                float eps);

// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

// y[i] *= x[i].
void multiply(float* y, const float* x, int64_t n);

// Inverted dropout, deterministic from (seed, site, index): each element i of x is zeroed
// with probability p, else scaled by 1/(1-p). `first_index` offsets the counter so a slice
// gets the same mask as the whole. p >= 1 zeroes everything.
void dropout(float* x, int64_t n, float p, uint64_t seed, uint64_t site, uint64_t first_index = 0);
// The keep decision used by dropout(), for callers that walk their own index space.
bool dropout_keep(float p, uint64_t seed, uint64_t site, uint64_t index);

// Softmax (runtime ISA dispatch): x = softmax(x), max-shifted; returns false, leaving x as
// it was, when every entry is -inf (the caller decides what such a row becomes). And x *= s.
bool softmax_inplace(float* x, int64_t n);
// Softmax for the bfloat16 product P·V, left unnormalized: out = exp(x - max x) in bfloat16
// (to_bf16_operands' rounding), and the return value is 1 / the sum of those exps in float32,
// by which the caller scales P·V's row; 0, out untouched, when every entry is -inf. x is
// scratch. On AVX512-BF16 CPUs the exp is a cheaper form (within 2.6e-6, far inside
// bfloat16's rounding) in two passes; elsewhere softmax_inplace's exp.
float exp_to_bf16(uint16_t* out, float* x, int64_t n);
void scale_inplace(float* x, int64_t n, float s);

// Small attention products, one (sequence, head, query block) at a time, for few keys
// (n <= kSmallKeys), where a GEMM library's per-call dispatch (and, in a fresh process, its
// one-time kernel generation) costs as much as the arithmetic:
//   scores[r, j] = alpha * q[r, :] · k[j, :]       r < rows, j < n, over d features
//   out[r, :]    = sum_j p[r, j] * v[j, :]
// q, k, v, out have row strides ldq, ldk, ldv, ldo; scores and p are dense [rows, n].
constexpr int64_t kSmallKeys = 16;
void attention_scores_small(float* scores, const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t rows,
                            int64_t n, int64_t d, float alpha);
void attention_values_small(float* out, int64_t ldo, const float* p, const float* v, int64_t ldv, int64_t rows,
                            int64_t n, int64_t d);

// The two products of attention for one (sequence, head, query block), any number of keys:
// attention_*_small for n <= kSmallKeys, else oneDNN's sgemm (single-threaded inside the
// caller's parallel loop). Same arguments as the small kernels; throw encore::Error if
// sgemm reports a failure.
void attention_scores(float* scores, const float* q, int64_t ldq, const float* k, int64_t ldk, int64_t rows,
                      int64_t n, int64_t d, float alpha);
void attention_values(float* out, int64_t ldo, const float* p, const float* v, int64_t ldv, int64_t rows, int64_t n,
                      int64_t d);

// Fused attention of one (sequence, head) block with no mask, dropout or head mask:
//   out[r, :] = softmax(alpha * q[r, :] · kᵀ) · v        r < rows, over n keys
// with q, k, v at row stride ld and out at ldo. Scores, probabilities and the output rows
// stay in AVX-512 registers (Kᵀ is built once per call by in-register 16x16 transposes);
// softmax is softmax_inplace's. Runs for n <= kFusedKeys and head sizes 16, 32, 48, 64 on
// CPUs with AVX-512 and returns false otherwise, leaving the caller to the general path.
constexpr int64_t kFusedKeys = 64;
bool attention_fused(float* out, int64_t ldo, const float* q, const float* k, const float* v, int64_t ld, int64_t rows,
                     int64_t n, int64_t d, float alpha);

// bfloat16 attention products (use_bf16_attention(), isa.h), one (sequence, head, query
// block) at a time on dense bfloat16 blocks, float32 accumulation and output:
//   scores[rows, n] = alpha * q[rows, d] · k[n, d]ᵀ        out[rows, d] = p[rows, n] · v[n, d]
// oneDNN's matmul: its brgemm kernels take dense blocks only (views at the fused projection's
// row stride fall back to a slower GEMM), hence to_bf16_heads first. Primitives are made per
// shape and kept in a process-wide cache (kernels/onednn.h); they run single-threaded inside
// the caller's parallel loop. Throw encore::Error if oneDNN fails.
void attention_scores_bf16(float* scores, const uint16_t* q, const uint16_t* k, int64_t rows, int64_t n, int64_t d,
                           float alpha);
void attention_values_bf16(float* out, const uint16_t* p, const uint16_t* v, int64_t rows, int64_t n, int64_t d);
// qkv [T, 3H] (Q, K, V of `heads` heads of d = H / heads features) -> out [3, heads, T, d]
// in bfloat16: each head's block of each part dense. Parallel over T.
void to_bf16_heads(uint16_t* out, const float* qkv, int64_t T, int64_t H, int64_t heads);
// How many primitives their cache holds (at most PackedLinear::cache_capacity()).
size_t attention_cached_primitives();

}  // namespace encore::kernels
