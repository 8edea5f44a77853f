// attention_scores_bf16 / attention_values_bf16 (kernels.h): oneDNN matmuls on dense
// bfloat16 blocks. Debian's oneDNN 2.6.3 picks its brgemm kernels for them
// (brg:avx512_core_amx_bf16 on AMX CPUs, brg:avx512_core_bf16 on AVX512-BF16 ones) only
// with every dimension known when the primitive is made and dense operands, so a primitive
// is made per (rows, keys, head size, scale) and cached.
#include <immintrin.h>

#include <bit>
#include <tuple>

#include "encore/error.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"

namespace encore::kernels {

namespace {

using dnnl::memory;
using dt = memory::data_type;

// (product: 0 scores, 1 values, rows, keys, head size, alpha's bits)
using AttentionKey = std::tuple<int, int64_t, int64_t, int64_t, uint32_t>;

PrimitiveCache<AttentionKey, dnnl::matmul>& cache() {
  static PrimitiveCache<AttentionKey, dnnl::matmul> c;
  return c;
}

memory::desc dense(int64_t rows, int64_t cols, dt type) { return memory::desc({rows, cols}, type, {cols, 1}); }

// kᵀ: the [d, n] view of dense [n, d] keys (column-major).
memory::desc transposed(int64_t n, int64_t d) { return memory::desc({d, n}, dt::bf16, {1, d}); }

void run(const dnnl::matmul& prim, const memory::desc& a_md, const void* a, const memory::desc& b_md, const void* b,
         const memory::desc& c_md, float* c) {
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(a_md, cpu_engine(), const_cast<void*>(a))},
                                       {DNNL_ARG_WEIGHTS, memory(b_md, cpu_engine(), const_cast<void*>(b))},
                                       {DNNL_ARG_DST, memory(c_md, cpu_engine(), c)}};
  add_scratchpad(prim, args);
  dnnl::stream stream(cpu_engine());
  prim.execute(stream, args);
}

ENCORE_AVX512_BEGIN

// One token's row of Q, K and V (3 · heads blocks of d, d a multiple of 16) into
// to_bf16_heads' layout with vcvtneps2bf16, as to_bf16_operands converts: one call per token
// where a to_bf16_operands call per (token, part, head) had cost about as much in its
// dispatch as in the conversion (36 calls of 4 vectors per bert-base token).
ENCORE_AVX512_BF16 void row_to_bf16_heads_avx512(uint16_t* out, const float* row, int64_t t, int64_t T, int64_t d,
                                                 int64_t blocks) {
  for (int64_t block = 0; block < blocks; ++block)
    for (int64_t f = 0; f < d; f += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (block * T + t) * d + f),
                          (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(row + block * d + f)));
}

ENCORE_AVX512_END

}  // namespace

void attention_scores_bf16(float* scores, const uint16_t* q, const uint16_t* k, int64_t rows, int64_t n, int64_t d,
                           float alpha) {
  try {
    const dnnl::matmul prim = cache().get({0, rows, n, d, std::bit_cast<uint32_t>(alpha)}, [&] {
      dnnl::primitive_attr attr = user_scratchpad();
      attr.set_output_scales(0, {alpha});
      return dnnl::matmul(dnnl::matmul::primitive_desc(
          dnnl::matmul::desc(dense(rows, d, dt::bf16), transposed(n, d), dense(rows, n, dt::f32)), attr, cpu_engine()));
    });
    run(prim, dense(rows, d, dt::bf16), q, transposed(n, d), k, dense(rows, n, dt::f32), scores);
  } catch (const dnnl::error& e) {
    encore::fail("oneDNN bfloat16 attention scores (", rows, " x ", n, " x ", d, ") failed: ", e.what());
  }
}

void attention_values_bf16(float* out, const uint16_t* p, const uint16_t* v, int64_t rows, int64_t n, int64_t d) {
  try {
    const dnnl::matmul prim = cache().get({1, rows, n, d, 0}, [&] {
      return dnnl::matmul(dnnl::matmul::primitive_desc(
          dnnl::matmul::desc(dense(rows, n, dt::bf16), dense(n, d, dt::bf16), dense(rows, d, dt::f32)),
          user_scratchpad(), cpu_engine()));
    });
    run(prim, dense(rows, n, dt::bf16), p, dense(n, d, dt::bf16), v, dense(rows, d, dt::f32), out);
  } catch (const dnnl::error& e) {
    encore::fail("oneDNN bfloat16 attention values (", rows, " x ", n, " x ", d, ") failed: ", e.what());
  }
}

void to_bf16_heads(uint16_t* out, const float* qkv, int64_t T, int64_t H, int64_t heads) {
  const int64_t d = H / heads;
  const bool rows = use_avx512_bf16() && d % 16 == 0;
#pragma omp parallel for schedule(static) if (T * H > 16384)
  for (int64_t t = 0; t < T; ++t) {
    if (rows) {
      row_to_bf16_heads_avx512(out, qkv + t * 3 * H, t, T, d, 3 * heads);
      continue;
    }
    for (int64_t block = 0; block < 3 * heads; ++block)  // (part, head): part * H + h * d = block * d
      to_bf16_operands(out + (block * T + t) * d, qkv + t * 3 * H + block * d, d);
  }
}

size_t attention_cached_primitives() { return cache().size(); }

}  // namespace encore::kernels
