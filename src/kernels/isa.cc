#include "kernels/isa.h"

#include <atomic>

namespace encore::kernels {

namespace {
std::atomic<bool> g_force_portable{false};
std::atomic<bool> g_force_f32_attention{false};

bool cpu_has_avx512_bf16() {
  static const bool cpu = __builtin_cpu_supports("avx512bf16");
  return cpu;
}
}  // namespace

bool use_avx512() {
  static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return cpu && !g_force_portable.load(std::memory_order_relaxed);
}

void force_portable_kernels(bool on) {
  g_force_portable.store(on, std::memory_order_relaxed);
}

bool use_bf16_attention() { return cpu_has_avx512_bf16() && !g_force_f32_attention.load(std::memory_order_relaxed); }

bool use_avx512_bf16() { return cpu_has_avx512_bf16() && use_avx512(); }

void force_f32_attention(bool on) { g_force_f32_attention.store(on, std::memory_order_relaxed); }

}  // namespace encore::kernels
