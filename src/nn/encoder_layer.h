// The one encoder layer. Every dialect runs this code; a LayerSpec says how.
//
// Legend: T = real tokens in the batch, H = hidden, I = FFN width, B = sequences,
// S = the caller's padded length, d = head size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "encore/model.h"
#include "kernels/packed_linear.h"
#include "kernels/scratch.h"

namespace encore::nn {

struct Linear {
  // F32 [out, in] until packed; undefined once packed (the packed copy is then the only
  // one in memory: dense_weight() gets the values back).
  Tensor weight;
  Tensor bias;    // F32 [out], undefined when the spec has no bias
  // The weights packed for oneDNN's matmul (built at load); null: plain sgemm path on `weight`.
  std::shared_ptr<const kernels::PackedLinear> packed = nullptr;
  int64_t in() const { return packed ? packed->in() : weight.size(1); }
  int64_t out() const { return packed ? packed->out() : weight.size(0); }
};

struct LayerNorm {
  Tensor gamma;  // F32 [H]
  Tensor beta;   // F32 [H], undefined when the spec has no bias
};

// Packs a Linear's weights for the fast GEMM path and lets go of `weight`; f32_channels:
// see kernels::PackedLinear.
void pack(Linear& l, ComputeType type = ComputeType::F32, const std::vector<int64_t>& f32_channels = {});

// The weights as F32 [out, in]: `weight` when not packed, else the packed copy reordered
// back, bit-identical for F32 packing. BF16 / Int8 packing rounded them: encore::Error
// (the checkpoint has to be read again; see export_torch_encoder).
Tensor dense_weight(const Linear& l);

struct EncoderLayerWeights {
  Linear qkv;        // [3H, H]: Q, K, V stacked on dim 0 (PyTorch in_proj order), one GEMM
  Linear attn_out;   // HF attention.output.dense, Google attention/output/dense, PyTorch out_proj
  LayerNorm ln1;     // after attention (post-norm) or before it (pre-norm)
  Linear ffn_in;     // HF intermediate.dense, PyTorch linear1
  Linear ffn_out;    // HF output.dense, PyTorch linear2
  LayerNorm ln2;
  Tensor distance;   // [2*max_positions-1, d] HF relative distance embedding, else undefined
};

// A ragged batch: the real tokens of B sequences concatenated row-wise ([T, H]).
struct RaggedBatch {
  std::vector<int64_t> cu;        // [B+1] cumulative lengths; sequence b is rows cu[b]..cu[b+1]
  std::vector<int64_t> position;  // [T] each token's index in the caller's padded layout
  int64_t padded_len = 0;         // S: the caller's padded length
  int64_t size() const { return static_cast<int64_t>(cu.size()) - 1; }
  int64_t tokens() const { return cu.back(); }
};

// Attention bias beyond what the ragged layout expresses (dropped keys need no bias).
struct AttentionMask {
  // Additive bias already in score units, indexed by padded positions:
  // dense[b*sb + h*sh + i*sq + j*sk]; sb/sh may be 0 to broadcast.
  const float* dense = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  bool causal = false;               // keys after the query get the spec's fill
  std::vector<uint8_t> all_masked;   // [B] every key of sequence b gets the fill
};

// Scratch buffers of one forward pass, sized for T tokens and reused by every layer.
struct Workspace {
  Tensor qkv, attn, tmp, inner;  // [T,3H], [T,H], [T,H], [T,I]
  // Room for T tokens of a model of width H and FFN width I: grows to the largest T asked
  // for and shrinks only under kernels::ReusePolicy (long runs of much smaller batches).
  void reserve(int64_t T, int64_t H, int64_t I);

 private:
  int64_t rows_ = 0, H_ = 0, I_ = 0;  // what the buffers were allocated for
  kernels::ReusePolicy policy_;
};

// Workspaces kept by a model across forward calls. A forward call takes one for its
// duration (concurrent calls never share one) and gives it back, so steady-state inference
// allocates no activation buffers: each workspace only grows to the largest batch it has
// seen. Allocating them per call instead made ragged batches (a new token count almost
// every batch, ~25 MB of buffers each for MiniLM at 64 sentences) fragment the heap:
// embedding 10,000 sentences peaked at 368 MB resident instead of 271 MB.
class WorkspacePool {
 public:
  class Lease {
   public:
    Lease(WorkspacePool& pool, std::unique_ptr<Workspace> ws) : pool_(pool), ws_(std::move(ws)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(ws_)); }
    Workspace* get() const { return ws_.get(); }

   private:
    WorkspacePool& pool_;
    std::unique_ptr<Workspace> ws_;
  };
  Lease take();

 private:
  void give_back(std::unique_ptr<Workspace> ws);
  std::mutex mu_;
  std::vector<std::unique_ptr<Workspace>> free_;
};

// The four GEMMs of a layer, in execution order.
enum class GemmSite { Qkv = 0, AttnOut = 1, FfnIn = 2, FfnOut = 3 };
constexpr int kGemmSites = 4;

struct RunContext {
  Workspace* workspace = nullptr;     // null: the layer allocates its own
  const ForwardOptions* options = nullptr;
  const Tensor* head_mask = nullptr;  // F32 [L, heads] or undefined: multiplies probabilities
  float* probs_out = nullptr;         // [B, heads, S, S] for this layer, or null
  // Calibration hook: sees the input x [T, K] of each GEMM before it runs.
  std::function<void(int64_t layer, GemmSite site, const float* x, int64_t T, int64_t K)> observe;
};

// x: [T, H] in place. `layer` indexes dropout sites and head_mask rows.
void encoder_layer_forward(float* x, const RaggedBatch& batch, const AttentionMask& mask,
                           const EncoderLayerWeights& w, const LayerSpec& spec, int64_t heads, int64_t layer,
                           const RunContext& ctx);

// Attention core: ctx[T,H] = softmax(scale·QKᵀ (+ relative) + bias) V per sequence and head,
// with qkv [T, 3H] laid out as the fused projection writes it.
void attention_forward(float* ctx, const float* qkv, const RaggedBatch& batch, const AttentionMask& mask,
                       const EncoderLayerWeights& w, const LayerSpec& spec, int64_t heads, int64_t layer,
                       const RunContext& run);

// The op sequence encoder_layer_forward performs for `spec`, one line per op.
std::vector<std::string> encoder_layer_ops(const LayerSpec& spec);

// Dropout sites: layer * kSitesPerLayer + offset; the embeddings use kEmbeddingSite.
enum DropoutSite : uint64_t { kSiteAttnProbs = 0, kSiteAttnOut = 1, kSiteFfnInner = 2, kSiteFfnOut = 3 };
constexpr uint64_t kSitesPerLayer = 8;
constexpr uint64_t kEmbeddingSite = 1ull << 32;

}  // namespace encore::nn
