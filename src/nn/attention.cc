// Scaled dot-product attention over a ragged batch, a block of queries of one (sequence,
// head) at a time — no [S, S] tensor is ever materialized beyond a block of rows.
// Reference order of operations (transformers eager attention / modeling.py
// attention_layer / torch scaled_dot_product_attention math path):
//   scores = q·k [+ relative terms] then * (1/sqrt(d)), then + position bias, + mask bias
//   probs  = softmax(scores)    (max-subtracted)
//   probs  = dropout(probs) * head_mask
//   ctx    = probs · v
// Masked keys that the ragged layout dropped would get exp(fill - max) == 0 exactly in the
// reference (fill is -inf, -10000 or float32 min), so dropping them changes nothing.
//
// Rotary embeddings (AttentionSpec::rotary_theta) rotate q and k in the projection's output
// before any product. A sliding window (AttentionSpec::window) reads only the band of keys a
// query block can see; keys of the band outside a query's window get the mask fill, as the
// reference's sliding_window_mask gives them finfo.min (exp(fill - max) == 0 exactly, so the
// keys outside the band change nothing either). DeBERTa's disentangled terms run one work item
// per (sequence, head) (attend_disentangled), the position products shared by its query blocks.
//
// Without masks, position terms, dropout or a head mask, blocks of up to kernels::kFusedKeys
// keys run in one fused AVX-512 kernel (kernels::attention_fused: scores, softmax and P·V in
// registers). Otherwise, and on other CPUs, Q·Kᵀ and P·V are kernels::attention_scores /
// attention_values on strided views of the fused QKV projection (sgemm, or encore's small
// kernels for short sequences), single-threaded inside this parallel loop: the parallelism
// is over (sequence, head, query block) work items.
#include "nn/attention.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <vector>

#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "kernels/scratch.h"
#include "nn/op_listing.h"

namespace encore::nn {

namespace {

constexpr int64_t kQueryBlock = 64;

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// One unit of parallel work: queries q0 .. q0 + rows of sequence b, head h.
struct WorkItem {
  int64_t b, h, q0, rows;
};

// Blocks of `block(n)` queries for a sequence of n tokens.
template <class Block>
std::vector<WorkItem> work_items(const RaggedBatch& batch, int64_t heads, Block&& block) {
  std::vector<WorkItem> items;
  for (int64_t b = 0; b < batch.size(); ++b) {
    const int64_t n = batch.cu[b + 1] - batch.cu[b], rows = block(n);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t q0 = 0; q0 < n; q0 += rows) items.push_back({b, h, q0, std::min(rows, n - q0)});
  }
  return items;
}

// What every work item of one attention call shares.
struct Call {
  // Disentangled: the row of pos_key / pos_query for distance i - j at [i - j + S - 1].
  std::vector<int32_t> rel_rows;
  const float *pos_key = nullptr, *pos_query = nullptr;  // [2 span, H]
  float rel_scale = 1.0f;                                 // sqrt(d * scale_factor): each term divided by it
  const RaggedBatch& batch;
  const AttentionMask& mask;
  const AttentionSpec& spec;
  const RunContext& run;
  int64_t heads, H, d, S;
  float scale;
  const float* distance;   // relative_key(_query) table, or null
  const float* head_mask;  // [rows, heads] or null
  int64_t head_mask_row;
  bool train;  // attention-probability dropout applies
  float keep_scale;
  uint64_t site;
  // bf16 / int8 models on CPUs that multiply bfloat16 natively: Q, K and V as
  // kernels::to_bf16_heads lays them out ([3, heads, T, d]), for blocks of at least
  // kBf16Keys keys; null: every product in float32.
  const uint16_t* heads16 = nullptr;
};

// From how many keys bfloat16 products pay for their conversions: bert-base int8 on one
// thread of an AMD Zen 4, `encore_latency --attention f32` against the default, gained 2-4% at
// 128 tokens, 5% at 256, 10% at 512. Query blocks of 128: the products ran 10-20% faster than
// in blocks of 64 (oneDNN repacks the keys and values for each), 256 no faster.
constexpr int64_t kBf16Keys = 128;
constexpr int64_t kBf16QueryBlock = 128;

// Per-thread buffers of the work items: scores, and (bfloat16 path) the probabilities in
// bfloat16, a dense output block and its rows' scales (exp_to_bf16's 1 / sum).
struct Scratch {
  std::vector<float> scores, out, row_scale;
  std::vector<uint16_t> probs16;
};

// row[j] + q·e (+ k·e), e the distance embedding at (l - r) + max_positions - 1, times `scale`.
void add_relative(float* row, const Call& c, const float* qi, const float* K, int64_t ld, const int64_t* pos,
                  int64_t pi, int64_t n, float scale) {
  for (int64_t j = 0; j < n; ++j) {
    const float* e = c.distance + (pi - pos[j] + c.spec.max_relative - 1) * c.d;
    float s = row[j] + dot(qi, e, c.d);
    if (c.spec.relative == RelativePositions::KeyQuery) s += dot(K + j * ld, e, c.d);
    row[j] = s * scale;
  }
}

// The row's scores after the product: relative terms and scaling (HF BERT adds them before
// the scale, ALBERT after the mask), then the position bias and the masks, in the
// references' order.
void finish_scores(float* row, const Call& c, const float* qi, const float* K, int64_t ld, const int64_t* pos,
                   int64_t pi, int64_t n, int64_t b, int64_t h, bool all_masked) {
  const bool after_mask = c.spec.relative_after_mask;
  if (c.distance && !after_mask) add_relative(row, c, qi, K, ld, pos, pi, n, c.scale);
  for (const ScoreBias* bias : {&c.mask.position_bias, &c.mask.dense}) {
    if (!*bias) continue;
    const float* at = bias->at + b * bias->sb + h * bias->sh + pi * bias->sq;
    for (int64_t j = 0; j < n; ++j) row[j] += at[pos[j] * bias->sk];
  }
  if (c.mask.causal)
    for (int64_t j = 0; j < n; ++j)
      if (pos[j] > pi) row[j] += c.spec.mask_fill;
  if (all_masked)
    for (int64_t j = 0; j < n; ++j) row[j] += c.spec.mask_fill;
  else if (c.spec.window > 0)  // every key of a fully masked row has the fill already
    for (int64_t j = 0; j < n; ++j)
      if (std::abs(pos[j] - pi) > c.spec.window) row[j] += c.spec.mask_fill;
  if (c.distance && after_mask) add_relative(row, c, qi, K, ld, pos, pi, n, 1.0f);  // modeling_albert.py L318-332
}

// Scores to probabilities: softmax, dropout, head mask; recorded when asked for; with
// `out16`, also in bfloat16 for the products. Returns the factor by which the row of P·V is
// still to be scaled: 1, or for a plain softmax into bfloat16 the 1 / sum that
// kernels::exp_to_bf16 leaves out (`row` is then scratch).
float probabilities(float* row, const Call& c, const int64_t* pos, int64_t pi, int64_t n, int64_t b, int64_t h,
                    float hm, uint16_t* out16 = nullptr) {
  const bool softmax_only = !c.train && hm == 1.0f && !c.run.probs_out;
  if (out16 && softmax_only)
    if (const float s = kernels::exp_to_bf16(out16, row, n); s != 0.0f) return s;
  // Every key -inf: PyTorch's safe softmax gives 0, plain softmax NaN.
  if (!kernels::softmax_inplace(row, n)) {
    const float v = c.spec.masked_row_zero ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    std::fill(row, row + n, v);
  }
  if (c.train) {
    const uint64_t row_index = static_cast<uint64_t>(((b * c.heads + h) * c.S + pi) * c.S);
    for (int64_t j = 0; j < n; ++j)
      row[j] =
          kernels::dropout_keep(c.spec.dropout, c.run.options->seed, c.site, row_index + static_cast<uint64_t>(pos[j]))
              ? row[j] * c.keep_scale
              : 0.0f;
  }
  if (hm != 1.0f) kernels::scale_inplace(row, n, hm);
  if (c.run.probs_out) {
    float* out = c.run.probs_out + ((b * c.heads + h) * c.S + pi) * c.S;
    for (int64_t j = 0; j < n; ++j) out[pos[j]] = row[j];
  }
  if (out16) kernels::to_bf16_operands(out16, row, n);  // while the row is in L1
  return 1.0f;
}

// The keys [lo, hi) of a sequence that queries first..last (rows of it) can see: all of them,
// or with a window the band of positions [pos[first] - window, pos[last] + window] (a
// sequence's positions ascend). `windowed`: some key of the band is outside some query's window.
struct KeyRange {
  int64_t lo, hi;
  bool windowed;
};
KeyRange key_range(const int64_t* pos, int64_t n, int64_t first, int64_t last, int64_t window, bool all_masked) {
  if (window <= 0 || all_masked) return {0, n, false};
  const int64_t lo = std::lower_bound(pos, pos + n, pos[first] - window) - pos;
  const int64_t hi = std::upper_bound(pos, pos + n, pos[last] + window) - pos;
  return {lo, hi, pos[hi - 1] - pos[first] > window || pos[last] - pos[lo] > window};
}

void attend(float* ctx, const float* qkv, const Call& c, const WorkItem& item, Scratch& scratch) {
  float* P = scratch.scores.data();
  const auto [b, h, q0, rows] = item;
  const int64_t H = c.H, d = c.d, ld = 3 * H;
  const int64_t begin = c.batch.cu[b], n_all = c.batch.cu[b + 1] - begin;
  const int64_t* pos_all = c.batch.position.data() + begin;
  const bool all_masked = !c.mask.all_masked.empty() && c.mask.all_masked[b];
  const KeyRange keys = key_range(pos_all, n_all, q0, q0 + rows - 1, c.spec.window, all_masked);
  const int64_t n = keys.hi - keys.lo;
  const int64_t* pos = pos_all + keys.lo;  // of the keys read
  const float* Q = qkv + (begin + q0) * ld + h * d;
  const float* K = qkv + (begin + keys.lo) * ld + H + h * d;
  const float* V = qkv + (begin + keys.lo) * ld + 2 * H + h * d;
  float* out = ctx + (begin + q0) * H + h * d;
  const float hm = c.head_mask ? c.head_mask[c.head_mask_row * c.heads + h] : 1.0f;

  // Plain attention (no position terms, mask, dropout, head mask or recorded probabilities:
  // every inference run of an HF or Google BERT, whose padding the ragged layout already
  // dropped; a window whose band every query of the block sees whole) runs fused when the
  // kernel takes the shape.
  const bool plain = !c.distance && c.rel_rows.empty() && !c.mask.position_bias && !c.mask.dense && !c.mask.causal &&
                     !all_masked &&
                     !keys.windowed && !c.train && hm == 1.0f && !c.run.probs_out;
  if (plain && kernels::attention_fused(out, H, Q, K, V, ld, rows, n, d, c.scale)) return;

  // bfloat16 products (no relative terms: those read Q and K in float32): the blocks of
  // Q, K and V of head h in to_bf16_heads' [3, heads, T, d] layout.
  const bool bf16 = c.heads16 && n >= kBf16Keys;
  const int64_t T = c.batch.tokens();
  const auto block16 = [&](int64_t part, int64_t row) { return c.heads16 + ((part * c.heads + h) * T + row) * d; };
  const bool scaled_later = c.distance && !c.spec.relative_after_mask;  // HF BERT scales q·k + relative terms
  if (bf16)
    kernels::attention_scores_bf16(P, block16(0, begin + q0), block16(1, begin + keys.lo), rows, n, d, c.scale);
  else
    kernels::attention_scores(P, Q, ld, K, ld, rows, n, d, scaled_later ? 1.0f : c.scale);
  uint16_t* P16 = scratch.probs16.data();
  float* row_scale = scratch.row_scale.data();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = P + r * n;
    const int64_t pi = pos_all[q0 + r];
    finish_scores(row, c, Q + r * ld, K, ld, pos, pi, n, b, h, all_masked);
    const float s = probabilities(row, c, pos, pi, n, b, h, hm, bf16 ? P16 + r * n : nullptr);
    if (bf16) row_scale[r] = s;
  }
  if (!bf16) {
    kernels::attention_values(out, H, P, V, ld, rows, n, d);
    return;
  }
  float* dense_out = scratch.out.data();
  kernels::attention_values_bf16(dense_out, P16, block16(2, begin + keys.lo), rows, n, d);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < d; ++j) out[r * H + j] = dense_out[r * d + j] * row_scale[r];
}

// Disentangled attention of one (sequence, head), every query block: the position terms come
// from two products with the rows of the layer's relative projections that the sequence's
// distances reach (rows lo .. lo + R - 1; distances ascend with the row): P2C = K pqᵀ [n, R]
// once, C2P = Q pkᵀ [rows, R] per block; score(i, j) += C2P[i, r] / scale + P2C[j, r] / scale, r
// the row of pos_i - pos_j (modeling_deberta_v2.py disentangled_attention_bias: both terms
// gather the same row, each divided by the scale, added to q·k / scale before the mask).
void attend_disentangled(float* ctx, const float* qkv, const Call& c, int64_t b, int64_t h, float* P,
                         std::vector<float>& c2p, std::vector<float>& p2c) {
  const int64_t H = c.H, d = c.d, ld = 3 * H, S = c.S;
  const int64_t begin = c.batch.cu[b], n = c.batch.cu[b + 1] - begin;
  if (n == 0) return;
  const int64_t* pos = c.batch.position.data() + begin;
  const bool all_masked = !c.mask.all_masked.empty() && c.mask.all_masked[b];
  const float hm = c.head_mask ? c.head_mask[c.head_mask_row * c.heads + h] : 1.0f;
  const float* Q = qkv + begin * ld + h * d;
  const float* K = qkv + begin * ld + H + h * d;
  const float* V = qkv + begin * ld + 2 * H + h * d;
  const int32_t* row_of = c.rel_rows.data() + (S - 1);  // row_of[pos_i - pos_j]
  const int64_t lo = row_of[pos[0] - pos[n - 1]], R = row_of[pos[n - 1] - pos[0]] - lo + 1;
  if (c.pos_query) {
    p2c.resize(static_cast<size_t>(n * R));
    kernels::attention_scores(p2c.data(), K, ld, c.pos_query + lo * H + h * d, H, n, R, d, 1.0f);
  }
  for (int64_t q0 = 0; q0 < n; q0 += kQueryBlock) {
    const int64_t rows = std::min(kQueryBlock, n - q0);
    if (c.pos_key) {
      c2p.resize(static_cast<size_t>(rows * R));
      kernels::attention_scores(c2p.data(), Q + q0 * ld, ld, c.pos_key + lo * H + h * d, H, rows, R, d, 1.0f);
    }
    kernels::attention_scores(P, Q + q0 * ld, ld, K, ld, rows, n, d, c.scale);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = P + r * n;
      const int64_t pi = pos[q0 + r];
      for (int64_t j = 0; j < n; ++j) {
        const int64_t at = row_of[pi - pos[j]] - lo;
        float terms = 0.0f;
        if (c.pos_key) terms = c2p[static_cast<size_t>(r * R + at)] / c.rel_scale;
        if (c.pos_query) terms += p2c[static_cast<size_t>(j * R + at)] / c.rel_scale;
        row[j] += terms;
      }
      finish_scores(row, c, Q + (q0 + r) * ld, K, ld, pos, pi, n, b, h, all_masked);
      probabilities(row, c, pos, pi, n, b, h, hm);
    }
    kernels::attention_values(ctx + (begin + q0) * H + h * d, H, P, V, ld, rows, n, d);
  }
}

}  // namespace

int64_t disentangled_row(int64_t distance, int64_t position_buckets, int64_t max_relative) {
  int64_t bucket = distance;
  int64_t span = max_relative;
  if (position_buckets > 0 && max_relative > 0) {
    // make_log_bucket_position, in float32 as torch computes it: distances within mid stay;
    // beyond, sign * (ceil(log(|x| / mid) / log((max_position - 1) / mid) * (mid - 1)) + mid).
    span = position_buckets;
    const int64_t mid = position_buckets / 2;
    if (distance >= mid || distance <= -mid) {
      const float abs_pos = static_cast<float>(distance < 0 ? -distance : distance);
      const float ratio = std::log(abs_pos / static_cast<float>(mid)) /
                          std::log(static_cast<float>(static_cast<double>(max_relative - 1) / static_cast<double>(mid)));
      const float log_pos = std::ceil(ratio * static_cast<float>(mid - 1)) + static_cast<float>(mid);
      if (std::fabs(static_cast<float>(distance)) > static_cast<float>(mid))
        bucket = static_cast<int64_t>(distance < 0 ? -log_pos : log_pos);
    }
  }
  return std::clamp<int64_t>(bucket + span, 0, 2 * span - 1);
}

void attention_forward(float* ctx, const float* qkv, const RaggedBatch& batch, const AttentionMask& mask,
                       const AttentionWeights& w, const AttentionSpec& spec, int64_t heads, const LayerStep& step,
                       const RunContext& run) {
  const int64_t H = w.out.out(), d = H / heads;
  const bool train = run.train() && spec.dropout > 0.0f;
  Call c{{},
         nullptr,
         nullptr,
         1.0f,
         batch,
               mask,
               spec,
               run,
               heads,
               H,
               d,
               batch.padded_len,
               1.0f / std::sqrt(static_cast<float>(d) * spec.scale_factor),
               spec.relative == RelativePositions::Key || spec.relative == RelativePositions::KeyQuery
                   ? w.distance.data<float>()
                   : nullptr,
               run.head_mask && run.head_mask->defined() ? run.head_mask->data<float>() : nullptr,
               step.head_mask_row,
               train,
               spec.dropout >= 1.0f ? 0.0f : 1.0f / (1.0f - spec.dropout),
               static_cast<uint64_t>(step.index) * kSitesPerLayer + kSiteAttnProbs};
  if (spec.relative == RelativePositions::Disentangled) {
    // torch.sqrt(torch.tensor(d, dtype=float) * scale_factor), in float32.
    c.rel_scale = std::sqrt(static_cast<float>(d) * spec.scale_factor);
    c.pos_key = spec.c2p ? w.pos_key.data<float>() : nullptr;
    c.pos_query = spec.p2c ? w.pos_query.data<float>() : nullptr;
    const int64_t S = batch.padded_len;
    c.rel_rows.resize(static_cast<size_t>(2 * S - 1));
    for (int64_t delta = -(S - 1); delta <= S - 1; ++delta)
      c.rel_rows[static_cast<size_t>(delta + S - 1)] =
          static_cast<int32_t>(disentangled_row(delta, spec.position_buckets, spec.max_relative));
  }
  int64_t longest = 0;
  for (int64_t b = 0; b < batch.size(); ++b) longest = std::max(longest, batch.cu[b + 1] - batch.cu[b]);
  const bool disentangled = !c.rel_rows.empty();
  const ComputeType type = w.qkv.packed ? w.qkv.packed->type() : ComputeType::F32;
  const bool bf16 = type != ComputeType::F32 && kernels::use_bf16_attention() && longest >= kBf16Keys &&
                    !c.distance && !disentangled;
  // bfloat16 blocks take more queries (oneDNN repacks the keys and values for each product),
  // unless a window makes the band of keys grow with the block.
  const int64_t bf16_block = spec.window > 0 ? kQueryBlock : kBf16QueryBlock;
  std::vector<WorkItem> items = work_items(batch, heads, [&](int64_t n) {
    return disentangled ? std::max<int64_t>(n, 1) : bf16 && n >= kBf16Keys ? bf16_block : kQueryBlock;
  });
  const int64_t block = bf16 ? bf16_block : kQueryBlock;  // the most rows an item has
  thread_local kernels::ScratchBuffer<uint16_t> heads16;
  if (bf16) {
    const int64_t T = batch.tokens();
    uint16_t* buffer = heads16.get(static_cast<size_t>(3 * T * H));
    kernels::to_bf16_heads(buffer, qkv, T, H, heads);
    c.heads16 = buffer;
  }
  const int64_t n_items = static_cast<int64_t>(items.size());
  std::exception_ptr failed;  // an exception must not leave the parallel region
#pragma omp parallel
  {
    Scratch scratch;
    scratch.scores.resize(static_cast<size_t>(block * longest));
    if (bf16) {
      scratch.probs16.resize(static_cast<size_t>(block * longest));
      scratch.out.resize(static_cast<size_t>(block * d));
      scratch.row_scale.resize(static_cast<size_t>(block));
    }
    std::vector<float> c2p, p2c;
#pragma omp for schedule(dynamic)
    for (int64_t it = 0; it < n_items; ++it) {
      try {
        const WorkItem& item = items[static_cast<size_t>(it)];
        if (disentangled)
          attend_disentangled(ctx, qkv, c, item.b, item.h, scratch.scores.data(), c2p, p2c);
        else
          attend(ctx, qkv, c, item, scratch);
      } catch (...) {
#pragma omp critical(encore_attention_error)
        if (!failed) failed = std::current_exception();
      }
    }
  }
  if (failed) std::rethrow_exception(failed);
}

void apply_rotary(float* qkv, int64_t T, int64_t H, int64_t heads, const int64_t* positions, float theta,
                  int64_t rotary_dims) {
  const int64_t d = H / heads, rd = rotary_dims > 0 ? rotary_dims : d, half = rd / 2;
  // transformers' default RoPE parameters (modeling_rope_utils.py
  // _compute_default_rope_parameters): inv_freq = 1.0 / (base ** (arange(0, d, 2).float() / d)),
  // the exponent in float32, the power as torch computes a float scalar to a float32 tensor
  // power (in double, rounded to float32), the reciprocal in float32; angle = position *
  // inv_freq, a float32 product. Bit for bit: one ulp of inv_freq moves a position-2048
  // angle by 1e-4.
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(rd);
    inv_freq[i] = 1.0f / static_cast<float>(std::pow(static_cast<double>(theta), static_cast<double>(exponent)));
  }
#pragma omp parallel if (T * H > 16384)
  {
    std::vector<float> cos(static_cast<size_t>(half)), sin(static_cast<size_t>(half));
#pragma omp for
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const double angle = static_cast<float>(positions[t]) * inv_freq[i];  // the float32 product
        cos[i] = static_cast<float>(std::cos(angle)), sin[i] = static_cast<float>(std::sin(angle));
      }
      // q·cos + rotate_half(q)·sin, rotate_half(q) = [-q2, q1], for q and k of every head.
      for (int64_t part = 0; part < 2; ++part)
        for (int64_t h = 0; h < heads; ++h) {
          float* v = qkv + t * 3 * H + part * H + h * d;
          for (int64_t i = 0; i < half; ++i) {
            const float a = v[i], b = v[i + half];
            v[i] = a * cos[i] - b * sin[i];
            v[i + half] = b * cos[i] + a * sin[i];
          }
        }
    }
  }
}

void attention_block(float* x, const float* in, const AttentionWeights& w, const AttentionSpec& spec, int64_t heads,
                     float residual_dropout, const RaggedBatch& batch, const AttentionMask& mask, const LayerStep& step,
                     const RunContext& ctx, Workspace& ws) {
  const int64_t T = batch.tokens(), H = w.out.out();
  float* qkv = ws.qkv.data<float>();
  float* a = ws.attn.data<float>();
  if (ctx.observe) ctx.observe(step.weights, GemmSite::Qkv, in, T, H);
  kernels::linear_forward(qkv, in, gemm_ref(w.qkv), T);
  if (spec.rotary_theta > 0.0f)
    apply_rotary(qkv, T, H, heads, mask.positions ? mask.positions : batch.position.data(), spec.rotary_theta,
                 spec.rotary_dims);
  attention_forward(a, qkv, batch, mask, w, spec, heads, step, ctx);
  if (ctx.observe) ctx.observe(step.weights, GemmSite::AttnOut, a, T, H);
  residual_linear(x, ws.tmp.data<float>(), a, w.out, T, residual_dropout, *ctx.options,
                  static_cast<uint64_t>(step.index) * kSitesPerLayer + kSiteAttnOut);
}

std::vector<std::string> attention_block_ops(const AttentionSpec& spec, const std::string& input,
                                             const std::string& bias, float residual_dropout) {
  std::vector<std::string> ops;
  ops.push_back("qkv = fused_linear_qkv(" + input + ")  [3H x H]" + bias);
  if (spec.rotary_theta > 0.0f)
    ops.push_back("q, k = rotary(q, k, position_ids, theta=" + op_number(spec.rotary_theta) +
                  (spec.rotary_dims > 0 ? ", first " + std::to_string(spec.rotary_dims) + " features" : "") + ")");
  std::string relative;
  if (spec.relative == RelativePositions::Key) relative = " + q.rel";
  if (spec.relative == RelativePositions::KeyQuery) relative = " + q.rel + k.rel";
  std::string scores = "scores = (q k^T" + (spec.relative_after_mask ? "" : relative) + ") / sqrt(d)";
  if (spec.relative == RelativePositions::Bucket) scores += " + position_bias";
  scores += " + mask (masked key: " + op_number(spec.mask_fill) + ")";
  if (spec.window > 0) scores += ", keys beyond +-" + std::to_string(spec.window) + " positions masked";
  if (spec.relative_after_mask) scores += relative;
  ops.push_back(scores);
  ops.push_back(std::string("probs = softmax(scores)") + (spec.masked_row_zero ? "  [fully masked row -> 0]" : ""));
  ops.push_back(dropout_op("probs", spec.dropout));
  ops.push_back("ctx = probs v  (per head, concatenated)");
  ops.push_back("a = attn_out_proj(ctx)" + bias);
  ops.push_back(dropout_op("a", residual_dropout));
  return ops;
}

}  // namespace encore::nn
