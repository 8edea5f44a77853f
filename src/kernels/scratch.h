// Scratch memory kept across calls: the forward workspaces (nn::WorkspacePool) and the packed
// Linear's converted inputs and int8 accumulators (per thread).
//
// Growing to the largest request and never allocating in steady state is what keeps ragged
// batches from fragmenting the heap (docs/performance.md, "Peak RSS"). Never giving memory
// back, though, means one huge batch (a server's 16,384-token budget is ~226 MB of MiniLM
// workspace) stays resident for the model's lifetime. The rule here: a buffer is reallocated
// at the requested size when it is too small, or when it has been more than 4x larger than
// needed for kShrinkAfter requests in a row — long enough that ordinary batch-to-batch
// variation (a factor of 2-3 in (b)) never triggers it.
#pragma once

#include <cstddef>
#include <vector>

namespace encore::kernels {

class ReusePolicy {
 public:
  static constexpr int kShrinkAfter = 256;  // requests (a 6-layer model makes 24 per forward)

  // True when a buffer of `capacity` elements should be reallocated for `need`.
  bool reallocate(size_t need, size_t capacity) {
    if (need > capacity) {
      oversized_ = 0;
      return true;
    }
    if (need * 4 >= capacity) {
      oversized_ = 0;
      return false;
    }
    if (++oversized_ < kShrinkAfter) return false;
    oversized_ = 0;
    return true;
  }

 private:
  int oversized_ = 0;
};

// A vector under ReusePolicy. Contents are not kept across get() calls that reallocate.
template <class T>
class ScratchBuffer {
 public:
  T* get(size_t n) {
    if (policy_.reallocate(n, data_.size())) {
      data_ = std::vector<T>();  // release first: the old and new buffers never coexist
      data_.resize(n);
    }
    return data_.data();
  }
  size_t capacity() const { return data_.size(); }

 private:
  std::vector<T> data_;
  ReusePolicy policy_;
};

}  // namespace encore::kernels
