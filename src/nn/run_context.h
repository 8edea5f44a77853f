// What one forward pass hands every layer: the ragged batch, the masks, scratch buffers,
// options and hooks.
//
// Legend: T = real tokens in the batch, H = hidden, I = FFN width, B = sequences,
// S = the caller's padded length, d = head size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "encore/model.h"
#include "kernels/scratch.h"

namespace encore::nn {

// A ragged batch: the real tokens of B sequences concatenated row-wise ([T, H]).
struct RaggedBatch {
  std::vector<int64_t> cu;        // [B+1] cumulative lengths; sequence b is rows cu[b]..cu[b+1]
  std::vector<int64_t> position;  // [T] each token's index in the caller's padded layout
  int64_t padded_len = 0;         // S: the caller's padded length
  int64_t size() const { return static_cast<int64_t>(cu.size()) - 1; }
  int64_t tokens() const { return cu.back(); }
};

// An additive score bias indexed by padded positions: at[b*sb + h*sh + i*sq + j*sk] for
// query i and key j; sb / sh may be 0 to broadcast.
struct ScoreBias {
  const float* at = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  explicit operator bool() const { return at != nullptr; }
};

// Attention bias beyond what the ragged layout expresses (dropped keys need no bias).
struct AttentionMask {
  ScoreBias dense;                  // masks that are not key padding, already in score units
  bool causal = false;              // keys after the query get the spec's fill
  std::vector<uint8_t> all_masked;  // [B] every key of sequence b gets the fill
  // A position bias computed once per forward and shared by every layer, added after the
  // scaling and before the mask (RelativePositions::Bucket, MPNet's relative attention bias).
  ScoreBias position_bias;
  // [T] each token's position id for rotary embeddings (the reference's position_ids); null:
  // its index in the padded layout (RaggedBatch::position), the references' default.
  const int64_t* positions = nullptr;
};

// Scratch buffers of one forward pass, sized for T tokens and reused by every layer.
struct Workspace {
  Tensor qkv, attn, tmp, inner;  // [T,3H], [T,H], [T,H], [T,I]
  Tensor gated;                   // [T,G]: a gated FFN's gate output Wg x (FeedForwardKind::Glu), else empty
  // Room for T tokens of a model of width H, FFN width I (the first Linear's outputs) and
  // gated width G: grows to the largest T asked for and shrinks only under
  // kernels::ReusePolicy (long runs of much smaller batches).
  void reserve(int64_t T, int64_t H, int64_t I, int64_t G = 0);

 private:
  int64_t rows_ = 0, H_ = 0, I_ = 0, G_ = 0;  // what the buffers were allocated for
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

// Which step of the model's layer plan runs: `index` numbers the step (dropout sites),
// `weights` the weights it uses (several steps share them in ALBERT), `head_mask_row` the
// row of head_mask that scales its attention probabilities.
struct LayerStep {
  int64_t index = 0, weights = 0, head_mask_row = 0;
  static LayerStep plain(int64_t layer) { return {layer, layer, layer}; }
};

struct RunContext {
  Workspace* workspace = nullptr;  // null: the layer allocates its own
  const ForwardOptions* options = nullptr;
  const Tensor* head_mask = nullptr;  // F32 [rows, heads] or undefined: multiplies probabilities
  float* probs_out = nullptr;         // [B, heads, S, S] for this layer, or null
  // Calibration hook: sees the input x [T, K] of each GEMM before it runs (`weights`: the
  // step's LayerStep::weights).
  std::function<void(int64_t weights, GemmSite site, const float* x, int64_t T, int64_t K)> observe;
  bool train() const { return options && options->train; }
};

// Dropout sites: step * kSitesPerLayer + offset; the embeddings use kEmbeddingSite.
enum DropoutSite : uint64_t { kSiteAttnProbs = 0, kSiteAttnOut = 1, kSiteFfnInner = 2, kSiteFfnOut = 3 };
constexpr uint64_t kSitesPerLayer = 8;
constexpr uint64_t kEmbeddingSite = 1ull << 32;

}  // namespace encore::nn
