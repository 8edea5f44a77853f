// What encore's oneDNN primitives share (kernels/packed_linear.cc, kernels/attention_bf16.cc):
// the engine, process-wide caches of generated primitives, per-thread scratchpads, and
// float32 -> bfloat16 rounding.
#pragma once

#include <cstdint>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <utility>

namespace encore::kernels {

dnnl::engine& cpu_engine();

// kernels::PackedLinear::cache_capacity(): how many primitives each cache keeps.
size_t primitive_cache_capacity();

// oneDNN primitives are specific to their shapes (a Linear's row count, attention's key
// count), and generating one takes ~0.1-0.3 ms and keeps ~190 KB (MiniLM's float32 matmuls;
// more with AMX). A server meets thousands of row counts: kept without bound, they grew its
// memory by ~190 MB for 250 request lengths. So every user takes its primitives from a
// process-wide cache of the most recently used ones, keyed by the whole problem, so layers of
// the same shape share them; a problem seen again after it was dropped is generated again.
template <class Key, class Primitive>
class PrimitiveCache {
 public:
  template <class Make>
  Primitive get(const Key& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = index_.find(key); it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->second;
      }
    }
    Primitive made = make();  // outside the lock: other threads' GEMMs go on meanwhile
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) return it->second->second;  // made twice: keep one
    lru_.emplace_front(key, made);
    index_.emplace(key, lru_.begin());
    if (lru_.size() > primitive_cache_capacity()) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
    return made;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lru_.size();
  }

 private:
  mutable std::mutex mu_;
  std::list<std::pair<Key, Primitive>> lru_;  // most recent first
  std::map<Key, typename std::list<std::pair<Key, Primitive>>::iterator> index_;
};

// The cached primitives are shared by every thread, and oneDNN's default (library) scratchpad
// is one buffer for all primitives, which two threads running GEMMs at once would share
// (Python threads, an application's own, attention's parallel loop). So every primitive is
// made in user scratchpad mode and each execution brings the calling thread's own scratchpad.
dnnl::primitive_attr user_scratchpad();
void add_scratchpad(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory>& args);

// float32 -> bfloat16, round to nearest even (NaN kept quiet).
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// bfloat16 -> float32 (exact).
inline float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A run of to_bf16, vectorized for the CPU at hand.
void to_bf16_n(uint16_t* out, const float* x, int64_t n);

// to_bf16_n for the operands of bfloat16 dot products (vdpbf16ps, AMX), which read a
// denormal bfloat16 as zero: where use_avx512_bf16() (isa.h), the CPU's own conversion
// (vcvtneps2bf16), to_bf16's bits except that a denormal becomes a zero of its sign — the
// same products either way, in a third of the instructions.
void to_bf16_operands(uint16_t* out, const float* x, int64_t n);

}  // namespace encore::kernels
