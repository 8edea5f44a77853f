// Runtime ISA selection for the hand-vectorized kernels.
//
// Most loops in src/kernels are plain C++ compiled per ISA with target_clones and left to
// the auto-vectorizer. That is enough for long rows, but GCC peels and finishes every loop
// with scalar code, and for the rows attention and the int8 epilogues run (a few dozen
// keys; a row of 384) those scalar tails cost as much as the vector body (docs/performance.md,
// the fast path). The kernels that run on such rows therefore have an AVX-512 version
// written with intrinsics and masked tails (ENCORE_AVX512 functions), chosen at run time
// when the CPU has AVX-512 F/BW/VL/DQ, and keep the portable version for every other CPU.
#pragma once

#include <cstdint>

namespace encore::kernels {

// GCC 12 reports the deliberately undefined vectors inside its own AVX-512 intrinsics
// (_mm512_undefined_ps) as uninitialized when they are inlined into target functions:
// ENCORE_AVX512 functions go between ENCORE_AVX512_BEGIN and ENCORE_AVX512_END, which turn
// those two warnings off for that code alone.
#if defined(__GNUC__) && !defined(__clang__)
#define ENCORE_AVX512_BEGIN                             \
  _Pragma("GCC diagnostic push")                        \
  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define ENCORE_AVX512_END _Pragma("GCC diagnostic pop")
#else
#define ENCORE_AVX512_BEGIN
#define ENCORE_AVX512_END
#endif

#define ENCORE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2")))
// ENCORE_AVX512 plus AVX512-BF16 (vcvtneps2bf16), for functions called only when
// use_avx512_bf16().
#define ENCORE_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2,avx512bf16")))

// True when the AVX-512 kernels run: the CPU has them and force_portable_kernels(true)
// was not called (tests call it to compare both versions on one machine).
bool use_avx512();
void force_portable_kernels(bool on);

// True when attention's products run in bfloat16 for bf16 and int8 models
// (kernels::attention_scores_bf16): the CPU multiplies bfloat16 natively (AVX512-BF16, and
// AMX-BF16 where oneDNN finds it) and force_f32_attention(true) was not called (tests call
// it to compare with the float32 products on one machine).
bool use_bf16_attention();
// use_avx512() on a CPU with AVX512-BF16: the kernels that convert the operands of those
// bfloat16 products may use its conversion instruction (see to_bf16_operands, onednn.h).
bool use_avx512_bf16();
void force_f32_attention(bool on);

// The lanes of the last, partial vector of a loop over n floats in steps of 16.
inline uint16_t tail_mask(int64_t remaining) {
  return static_cast<uint16_t>((1u << remaining) - 1u);
}

}  // namespace encore::kernels
