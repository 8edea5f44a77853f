#include "kernels/packed_linear.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "encore/error.h"
#include "kernels/activation16.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "kernels/panel_gemm.h"
#include "kernels/scratch.h"

namespace encore::kernels {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// (rows, in, out, compute type, bias, activation or -1, accumulate, bfloat16 output)
using LinearKey = std::tuple<int64_t, int64_t, int64_t, int, bool, int, bool, bool>;

PrimitiveCache<LinearKey, dnnl::matmul>& matmul_cache() {
  static PrimitiveCache<LinearKey, dnnl::matmul> cache;
  return cache;
}

// The input's type in the GEMM (Int8: unsigned codes with a zero point), and the weights' below.
dt src_type(ComputeType t) { return t == ComputeType::Int8 ? dt::u8 : t == ComputeType::BF16 ? dt::bf16 : dt::f32; }

dt weight_type(ComputeType t) {
  switch (t) {
    case ComputeType::F32: return dt::f32;
    case ComputeType::BF16: return dt::bf16;
    case ComputeType::Int8: return dt::s8;
  }
  return dt::f32;
}

void append_activation(dnnl::post_ops& po, Activation act) {
  switch (act) {
    case Activation::GeluErf: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f); break;
    case Activation::GeluTanh: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f); break;
    case Activation::Relu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
    case Activation::QuickGelu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.702f, 0.0f); break;
    case Activation::Silu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f); break;
    case Activation::Tanh: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_tanh, 0.0f, 0.0f); break;
  }
}

// Int8 weight quantization of one row: q = round(x * keep * s) with s = 127 / max|x * keep|
// (keep is 0 on outlier channels, 1 elsewhere; null: all 1). Returns 1 / s.
__attribute__((target_clones("avx2", "default")))
float quantize_row_portable(int8_t* q, const float* x, const float* keep, int64_t K) {
  float mx = 0.0f;
  if (keep) {
#pragma omp simd reduction(max : mx)
    for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(x[k] * keep[k]));
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(x[k]));
  }
  const float s = mx > 0.0f ? 127.0f / mx : 1.0f;
  if (keep) {
#pragma omp simd
    for (int64_t k = 0; k < K; ++k) q[k] = static_cast<int8_t>(std::nearbyint(x[k] * keep[k] * s));
  } else {
#pragma omp simd
    for (int64_t k = 0; k < K; ++k) q[k] = static_cast<int8_t>(std::nearbyint(x[k] * s));
  }
  return 1.0f / s;
}

ENCORE_AVX512_BEGIN

// x * keep on the lanes of m (keep null: x). Lambdas do not inherit a function's target,
// hence small target helpers.
ENCORE_AVX512 inline __m512 load_kept(const float* x, const float* keep, int64_t k, __mmask16 m) {
  const __m512 v = _mm512_maskz_loadu_ps(m, x + k);
  return keep ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, keep + k)) : v;
}

// round(v * s) to int8 on the lanes of m: round to nearest even, as nearbyint in the
// default rounding mode; |v * s| <= 127, so the saturating narrowing never saturates.
ENCORE_AVX512 inline void store_q(int8_t* q, __m512 v, __m512 s, __mmask16 m) {
  _mm512_mask_cvtsepi32_storeu_epi8(q, m, _mm512_cvtps_epi32(_mm512_mul_ps(v, s)));
}

// The same on 16 lanes with masked tails (isa.h); bitwise the same result.
ENCORE_AVX512 float quantize_row_avx512(int8_t* q, const float* x, const float* keep, int64_t K) {
  const __mmask16 all = 0xffff, tail = tail_mask(K % 16);
  const int64_t body = K - K % 16;
  __m512 vmx = _mm512_setzero_ps();
  for (int64_t k = 0; k < body; k += 16) vmx = _mm512_max_ps(vmx, _mm512_abs_ps(load_kept(x, keep, k, all)));
  if (tail) vmx = _mm512_max_ps(vmx, _mm512_abs_ps(load_kept(x, keep, body, tail)));
  const float mx = _mm512_reduce_max_ps(vmx);
  const float s = mx > 0.0f ? 127.0f / mx : 1.0f;
  const __m512 vs = _mm512_set1_ps(s);
  for (int64_t k = 0; k < body; k += 16) store_q(q + k, load_kept(x, keep, k, all), vs, all);
  if (tail) store_q(q + body, load_kept(x, keep, body, tail), vs, tail);
  return 1.0f / s;
}

// Int8 input quantization of one row, asymmetric: q = min(255, round(v * s) + z) for
// v = x * keep, s = 255 / (max - min) over the row's v and 0, z = round(-min * s): unsigned
// 8-bit codes with a per-row zero point, so a row's whole range gets the 256 codes (a GELU
// output, -0.17 .. max, would use half of a symmetric scale's). Zero is exact (code z); since
// round is odd-symmetric, round(v * s) >= -z and codes are never negative. Returns 1 / s and z.
struct RowCodes {
  float inv_scale;
  int32_t zero;
};

// round(-min * s), in [0, 255] for finite rows; 0 for a row with an infinity or NaN (whose
// outputs are not numbers either way), rather than an undefined conversion.
inline float zero_point(float mn, float s) {
  const float z = std::nearbyint(-mn * s);
  return z >= 0.0f && z <= 255.0f ? z : 0.0f;
}

__attribute__((target_clones("avx2", "default")))
RowCodes quantize_input_row_portable(uint8_t* q, const float* x, const float* keep, int64_t K) {
  float mn = 0.0f, mx = 0.0f;
#pragma omp simd reduction(min : mn) reduction(max : mx)
  for (int64_t k = 0; k < K; ++k) {
    const float v = keep ? x[k] * keep[k] : x[k];
    mn = std::min(mn, v), mx = std::max(mx, v);
  }
  const float s = mx - mn > 0.0f ? 255.0f / (mx - mn) : 1.0f;
  const float z = zero_point(mn, s);
#pragma omp simd
  for (int64_t k = 0; k < K; ++k) {
    const float v = keep ? x[k] * keep[k] : x[k];
    q[k] = static_cast<uint8_t>(std::min(255.0f, std::nearbyint(v * s) + z));
  }
  return {1.0f / s, static_cast<int32_t>(z)};
}

ENCORE_AVX512_BEGIN

// min(255, round(v * s) + z) to uint8 on the lanes of m (never negative, see above).
ENCORE_AVX512 inline void store_codes(uint8_t* q, __m512 v, __m512 s, __m512i z, __mmask16 m) {
  const __m512i c = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, s)), z);
  _mm512_mask_cvtusepi32_storeu_epi8(q, m, _mm512_max_epi32(c, _mm512_setzero_si512()));
}

ENCORE_AVX512 RowCodes quantize_input_row_avx512(uint8_t* q, const float* x, const float* keep, int64_t K) {
  const __mmask16 all = 0xffff, tail = tail_mask(K % 16);
  const int64_t body = K - K % 16;
  __m512 vmn = _mm512_setzero_ps(), vmx = _mm512_setzero_ps();
  for (int64_t k = 0; k < body; k += 16) {
    const __m512 v = load_kept(x, keep, k, all);
    vmn = _mm512_min_ps(vmn, v), vmx = _mm512_max_ps(vmx, v);
  }
  if (tail) {  // masked-off lanes load 0, which is in the range already
    const __m512 v = load_kept(x, keep, body, tail);
    vmn = _mm512_min_ps(vmn, v), vmx = _mm512_max_ps(vmx, v);
  }
  const float mn = _mm512_reduce_min_ps(vmn), mx = _mm512_reduce_max_ps(vmx);
  const float s = mx - mn > 0.0f ? 255.0f / (mx - mn) : 1.0f;
  const float z = zero_point(mn, s);
  const __m512 vs = _mm512_set1_ps(s);
  const __m512i vz = _mm512_set1_epi32(static_cast<int32_t>(z));
  for (int64_t k = 0; k < body; k += 16) store_codes(q + k, load_kept(x, keep, k, all), vs, vz, all);
  if (tail) store_codes(q + body, load_kept(x, keep, body, tail), vs, vz, tail);
  return {1.0f / s, static_cast<int32_t>(z)};
}

ENCORE_AVX512_END

float quantize_row(int8_t* q, const float* x, const float* keep, int64_t K) {
  return use_avx512() ? quantize_row_avx512(q, x, keep, K) : quantize_row_portable(q, x, keep, K);
}

RowCodes quantize_input_row(uint8_t* q, const float* x, const float* keep, int64_t K) {
  return use_avx512() ? quantize_input_row_avx512(q, x, keep, K) : quantize_input_row_portable(q, x, keep, K);
}

// Int8 epilogue of one row: o (+)= float(a - z * wsum) * ws * r + bias + sum_i xo[i] * wo[i, :],
// a the int32 accumulators of the row's codes, z its zero point, wsum the weight rows' sums
// of codes (so a - z * wsum is the product of the codes less the zero point, exact in int32),
// ws the weight rows' scales, r the row's input scale.
__attribute__((target_clones("avx2", "default")))
void int8_epilogue_row_portable(float* o, const int32_t* a, int32_t z, const int32_t* wsum, const float* ws, float r,
                                const float* bias, const float* xo, const float* wo, int64_t k_out, int64_t N,
                                bool accumulate, std::optional<Activation> act) {
  if (accumulate) {
#pragma omp simd
    for (int64_t j = 0; j < N; ++j)
      o[j] += (static_cast<float>(a[j] - z * wsum[j]) * ws[j]) * r + (bias ? bias[j] : 0.0f);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < N; ++j)
      o[j] = (static_cast<float>(a[j] - z * wsum[j]) * ws[j]) * r + (bias ? bias[j] : 0.0f);
  }
  for (int64_t i = 0; i < k_out; ++i) {
    const float v = xo[i];
    const float* w = wo + i * N;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) o[j] += v * w[j];
  }
  if (act) activate(o, N, *act);
}

ENCORE_AVX512_BEGIN

// (o if accumulate) + float(a - z * wsum) * ws * r + bias at columns j.. on the lanes of m.
ENCORE_AVX512 inline __m512 epilogue_start(const float* o, const int32_t* a, int32_t z, const int32_t* wsum,
                                           const float* ws, float r, const float* bias, int64_t j, __mmask16 m,
                                           bool accumulate) {
  const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_setzero_ps();
  const __m512i codes = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(m, a + j),
                                         _mm512_mullo_epi32(_mm512_set1_epi32(z), _mm512_maskz_loadu_epi32(m, wsum + j)));
  const __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(codes), _mm512_maskz_loadu_ps(m, ws + j));
  const __m512 v = _mm512_fmadd_ps(scaled, _mm512_set1_ps(r), b);
  return accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, o + j), v) : v;
}

template <int A>
ENCORE_AVX512 inline __m512 activate_or_keep(__m512 v) {
  if constexpr (A < 0) return v;
  else return activate16<A>(v);
}

// The same in blocks of 64 columns held in registers across the outlier channels (the
// portable form passes over the row once per channel), in the same order of operations,
// then the activation A (an Activation as an int, -1 none; activation16.h) before the store.
template <int A>
ENCORE_AVX512 void int8_epilogue_row_avx512(float* o, const int32_t* a, int32_t z, const int32_t* wsum,
                                            const float* ws, float r, const float* bias, const float* xo,
                                            const float* wo, int64_t k_out, int64_t N, bool accumulate) {
  const __mmask16 all = 0xffff;
  int64_t j = 0;
  for (; j + 64 <= N; j += 64) {
    __m512 c[4];
    for (int u = 0; u < 4; ++u) c[u] = epilogue_start(o, a, z, wsum, ws, r, bias, j + 16 * u, all, accumulate);
    for (int64_t i = 0; i < k_out; ++i) {
      const __m512 v = _mm512_set1_ps(xo[i]);
      const float* w = wo + i * N + j;
      for (int u = 0; u < 4; ++u) c[u] = _mm512_fmadd_ps(v, _mm512_loadu_ps(w + 16 * u), c[u]);
    }
    for (int u = 0; u < 4; ++u) _mm512_storeu_ps(o + j + 16 * u, activate_or_keep<A>(c[u]));
  }
  for (; j < N; j += 16) {
    const __mmask16 m = N - j >= 16 ? all : tail_mask(N - j);
    __m512 c = epilogue_start(o, a, z, wsum, ws, r, bias, j, m, accumulate);
    for (int64_t i = 0; i < k_out; ++i)
      c = _mm512_fmadd_ps(_mm512_set1_ps(xo[i]), _mm512_maskz_loadu_ps(m, wo + i * N + j), c);
    _mm512_mask_storeu_ps(o + j, m, activate_or_keep<A>(c));
  }
}

ENCORE_AVX512_END

using EpilogueRow = void (*)(float*, const int32_t*, int32_t, const int32_t*, const float*, float, const float*,
                            const float*, const float*, int64_t, int64_t, bool);

// The AVX-512 epilogue with `act` in its lanes (null: act has no lane form).
EpilogueRow epilogue_row_avx512(std::optional<Activation> act) {
  constexpr auto lanes = [](Activation a) { return static_cast<int>(a); };
  if (!act) return int8_epilogue_row_avx512<-1>;
  switch (*act) {
    case Activation::GeluErf: return int8_epilogue_row_avx512<lanes(Activation::GeluErf)>;
    case Activation::GeluTanh: return int8_epilogue_row_avx512<lanes(Activation::GeluTanh)>;
    case Activation::QuickGelu: return int8_epilogue_row_avx512<lanes(Activation::QuickGelu)>;
    case Activation::Silu: return int8_epilogue_row_avx512<lanes(Activation::Silu)>;
    case Activation::Relu: return int8_epilogue_row_avx512<lanes(Activation::Relu)>;
    case Activation::Tanh: break;
  }
  return nullptr;
}

void int8_epilogue_row(float* o, const int32_t* a, int32_t z, const int32_t* wsum, const float* ws, float r,
                       const float* bias, const float* xo, const float* wo, int64_t k_out, int64_t N,
                       bool accumulate, std::optional<Activation> act) {
  if (!use_avx512()) return int8_epilogue_row_portable(o, a, z, wsum, ws, r, bias, xo, wo, k_out, N, accumulate, act);
  if (EpilogueRow row = epilogue_row_avx512(act)) return row(o, a, z, wsum, ws, r, bias, xo, wo, k_out, N, accumulate);
  // tanh (no lane form): the scalar activation on the row while it is in cache
  int8_epilogue_row_avx512<-1>(o, a, z, wsum, ws, r, bias, xo, wo, k_out, N, accumulate);
  activate(o, N, *act);
}

}  // namespace

struct PackedLinear::Impl {
  ComputeType type = ComputeType::F32;
  memory::desc weights_md;  // the packed layout
  memory weights;
  memory bias;
  bool has_bias = false;
  std::vector<float> row_scale;    // Int8: 1 / (127 / max|W_row|) per output row
  std::vector<int32_t> row_sum;    // Int8: the sum of each output row's codes
  std::vector<int64_t> outliers;  // Int8: input channels computed in float32
  std::vector<float> outlier_w;   // [outliers, out]: W[:, outliers]ᵀ in float32
  std::vector<float> keep;        // [in]: 0 on outlier channels, 1 elsewhere (empty: none)
  bool panels = false;            // a layout panel_gemm reads (the constructors say which)
  // Int8 applies the bias in encore's epilogue, after rescaling; the other types pass it
  // to the matmul itself.
  dnnl::matmul::primitive_desc describe(int64_t M, int64_t K, int64_t N, const memory::desc& w,
                                        std::optional<Activation> act, bool accumulate, bool bf16_out = false) const {
    const bool int8 = type == ComputeType::Int8;
    memory::desc src({M, K}, src_type(type), tag::ab),
        dst({M, N}, int8 ? dt::s32 : bf16_out ? dt::bf16 : dt::f32, tag::ab);
    memory::desc b = has_bias && !int8 ? memory::desc({1, N}, dt::f32, tag::ab) : memory::desc();
    dnnl::post_ops po;
    dnnl::primitive_attr attr = user_scratchpad();
    if (int8) {
      // dst = the int32 accumulators; zero points, scales, bias and the rest follow in run(). Runtime
      // output scales would keep oneDNN 2.6 off its brgemm kernels (gemm:jit, no AMX-INT8
      // or VNNI brgemm); scales fixed at creation would make every Linear its own primitive.
      dnnl::matmul::desc d(src, w, memory::desc(), dst);
      return dnnl::matmul::primitive_desc(d, attr, cpu_engine());
    }
    if (accumulate) po.append_sum(1.0f);
    if (act) append_activation(po, *act);
    attr.set_post_ops(po);
    dnnl::matmul::desc d(src, w, b, dst);
    return dnnl::matmul::primitive_desc(d, attr, cpu_engine());
  }
};

PackedLinear::PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out, ComputeType type,
                           const std::vector<int64_t>& f32_channels)
    : out_(out), in_(in), type_(type), impl_(std::make_unique<Impl>()) {
  ENCORE_CHECK(f32_channels.empty() || type == ComputeType::Int8, "PackedLinear: float32 channels need int8");
  ENCORE_CHECK(f32_channels.size() <= kMaxF32Channels, "PackedLinear: at most ", kMaxF32Channels,
               " float32 channels, got ", f32_channels.size());
  impl_->type = type;
  impl_->has_bias = bias != nullptr;
  // Let oneDNN choose the weights layout for a typical row count; every later row count
  // reuses that layout (the blocked kernels accept it for any M).
  memory::desc any({in, out}, weight_type(type), tag::any);
  auto pd = impl_->describe(128, in, out, any, std::nullopt, false);
  impl_->weights_md = pd.weights_desc();
  // panel_gemm reads two of oneDNN's layouts: f32 BA16a64b, and int8 BA16a64b4a with no AMX
  // kernel for it (oneDNN's AMX tiles outrun VNNI) and whole groups of 4 codes per row.
  impl_->panels = (type == ComputeType::F32 && impl_->weights_md == memory::desc({in, out}, dt::f32, tag::BA16a64b)) ||
                  (type == ComputeType::Int8 && impl_->weights_md == memory::desc({in, out}, dt::s8, tag::BA16a64b4a) &&
                   in % 4 == 0 && std::string(pd.impl_info_str()).find("amx") == std::string::npos);
  impl_->weights = memory(impl_->weights_md, cpu_engine());
  dnnl::stream stream(cpu_engine());
  // [out, in] row-major is the [in, out] matrix with layout "ba".
  if (type == ComputeType::Int8) {
    Impl& p = *impl_;
    if (!f32_channels.empty()) {
      p.outliers = f32_channels;
      p.keep.assign(static_cast<size_t>(in), 1.0f);
      p.outlier_w.resize(f32_channels.size() * static_cast<size_t>(out));
      for (size_t i = 0; i < f32_channels.size(); ++i) {
        const int64_t c = f32_channels[i];
        ENCORE_CHECK(c >= 0 && c < in, "PackedLinear: float32 channel ", c, " is out of range [0, ", in, ")");
        p.keep[static_cast<size_t>(c)] = 0.0f;
        for (int64_t n = 0; n < out; ++n) p.outlier_w[i * static_cast<size_t>(out) + static_cast<size_t>(n)] = weight[n * in + c];
      }
    }
    // Row scales over the channels the int8 GEMM sees (outlier columns are zero there).
    std::vector<int8_t> q(static_cast<size_t>(out * in));
    p.row_scale.resize(static_cast<size_t>(out));
    p.row_sum.resize(static_cast<size_t>(out));
    for (int64_t n = 0; n < out; ++n) {
      p.row_scale[static_cast<size_t>(n)] = quantize_row(q.data() + n * in, weight + n * in,
                                                         p.keep.empty() ? nullptr : p.keep.data(), in);
      int32_t sum = 0;
      for (int64_t k = 0; k < in; ++k) sum += q[static_cast<size_t>(n * in + k)];
      p.row_sum[static_cast<size_t>(n)] = sum;
    }
    memory user(memory::desc({in, out}, dt::s8, tag::ba), cpu_engine(), q.data());
    dnnl::reorder(user, impl_->weights).execute(stream, user, impl_->weights);
    stream.wait();
  } else {
    memory user(memory::desc({in, out}, dt::f32, tag::ba), cpu_engine(), const_cast<float*>(weight));
    dnnl::reorder(user, impl_->weights).execute(stream, user, impl_->weights);
  }
  if (bias) {
    impl_->bias = memory(memory::desc({1, out}, dt::f32, tag::ab), cpu_engine());
    std::copy(bias, bias + out, static_cast<float*>(impl_->bias.get_data_handle()));
  }
  stream.wait();
}

PackedLinear::~PackedLinear() = default;

bool PackedLinear::uses_panel_gemm() const {
  return impl_->panels && (type_ == ComputeType::Int8 ? panel_gemm_int8_runs() : use_avx512());
}

size_t PackedLinear::cached_primitives() { return matmul_cache().size(); }

size_t PackedLinear::cache_capacity() {
  static const size_t capacity = [] {
    const char* v = std::getenv("ENCORE_PRIMITIVE_CACHE_CAPACITY");
    if (!v || !*v) return kCachedPrimitives;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    ENCORE_CHECK(*end == '\0' && n >= 1 && n <= 1000000, "ENCORE_PRIMITIVE_CACHE_CAPACITY must be a number of ",
                 "primitives in [1, 1000000], got '", v, "'");
    return static_cast<size_t>(n);
  }();
  return capacity;
}

void PackedLinear::run(float* y, const float* x, int64_t T, std::optional<Activation> act, bool accumulate) const {
  execute(y, false, x, false, T, act, accumulate);
}

void PackedLinear::run_to_bf16(uint16_t* y, const float* x, int64_t T, std::optional<Activation> act) const {
  ENCORE_CHECK(type_ == ComputeType::BF16, "PackedLinear: bfloat16 output needs bf16 weights");
  execute(y, true, x, false, T, act, false);
}

void PackedLinear::run_from_bf16(float* y, const uint16_t* x, int64_t T, bool accumulate) const {
  ENCORE_CHECK(type_ == ComputeType::BF16, "PackedLinear: bfloat16 input needs bf16 weights");
  execute(y, false, x, true, T, std::nullopt, accumulate);
}

void PackedLinear::execute(void* y_out, bool y_bf16, const void* x_in, bool x_bf16, int64_t T,
                           std::optional<Activation> act, bool accumulate) const {
  if (T == 0) return;
  ENCORE_CHECK(!(act && accumulate), "PackedLinear: activation and accumulate are exclusive");
  const bool panels = uses_panel_gemm();
  const float* bias = impl_->has_bias ? static_cast<const float*>(impl_->bias.get_data_handle()) : nullptr;
  if (panels && type_ == ComputeType::F32)
    return panel_gemm(static_cast<float*>(y_out), static_cast<const float*>(x_in), T, in_, out_,
                      static_cast<const float*>(impl_->weights.get_data_handle()), bias, act, accumulate);
  float* y = static_cast<float*>(y_out);  // float32 output (every type but a bf16 hand-off)
  const float* x = static_cast<const float*>(x_in);
  const int64_t n = T * in_;
  // Converted inputs live in a per-thread buffer reused across calls.
  thread_local ScratchBuffer<uint16_t> bf16_buf;
  thread_local ScratchBuffer<uint8_t> u8_buf;
  thread_local std::vector<float> row_inv;
  thread_local std::vector<int32_t> row_zero;
  thread_local std::vector<float> row_outliers;  // Int8: [T, outliers] of x, in float32
  void* src_ptr = const_cast<void*>(x_in);
  std::unordered_map<int, memory> args;
  if (type_ == ComputeType::BF16 && !x_bf16) {
    uint16_t* b = bf16_buf.get(static_cast<size_t>(n));
    constexpr int64_t kChunk = 16384;
#pragma omp parallel for if (n > 4 * kChunk)
    for (int64_t i = 0; i < n; i += kChunk) to_bf16_n(b + i, x + i, std::min(kChunk, n - i));
    src_ptr = b;
  } else if (type_ == ComputeType::Int8) {
    // One scale and zero point per input row (token).
    row_inv.resize(static_cast<size_t>(T));
    row_zero.resize(static_cast<size_t>(T));
    uint8_t* q = u8_buf.get(static_cast<size_t>(n));
    float* inv = row_inv.data();
    int32_t* zero = row_zero.data();
    const int64_t K = in_;
    const float* keep = impl_->keep.empty() ? nullptr : impl_->keep.data();
    // The outlier channels' values are copied out here, while the row is in cache: read in
    // the epilogue, after the GEMM has streamed through, each would be a cache miss.
    const int64_t k_out = static_cast<int64_t>(impl_->outliers.size());
    const int64_t* outliers = impl_->outliers.data();
    row_outliers.resize(static_cast<size_t>(T * k_out));
    float* xo = row_outliers.data();
#pragma omp parallel for if (n > 65536)
    for (int64_t t = 0; t < T; ++t) {
      const RowCodes codes = quantize_input_row(q + t * K, x + t * K, keep, K);
      inv[t] = codes.inv_scale, zero[t] = codes.zero;
      for (int64_t i = 0; i < k_out; ++i) xo[t * k_out + i] = x[t * K + outliers[i]];
    }
    src_ptr = q;
    if (panels)
      return panel_gemm_int8(y, q, T, K, out_,
                             {static_cast<const int8_t*>(impl_->weights.get_data_handle()), impl_->row_sum.data(),
                              impl_->row_scale.data(), bias, impl_->outlier_w.data(), k_out},
                             inv, zero, xo, act, accumulate);
  }
  // The packed layout follows from (in, out, type) on this CPU, so the key says it.
  const dnnl::matmul prim = matmul_cache().get(
      {T, in_, out_, static_cast<int>(type_), impl_->has_bias, act ? static_cast<int>(*act) : -1, accumulate, y_bf16},
      [&] { return dnnl::matmul(impl_->describe(T, in_, out_, impl_->weights_md, act, accumulate, y_bf16)); });
  const bool int8 = type_ == ComputeType::Int8;
  thread_local ScratchBuffer<int32_t> acc_buf;
  // Int8: the int32 accumulators. The AVX-512 epilogue reads each vector of them before it
  // writes the float32 results there, so they can share y's memory (an extra buffer cost
  // (b) 7-10% here); not with a residual to add (y holds it), nor in the portable loops,
  // where an int32_t and a float pointer to one buffer would break the aliasing rules.
  void* dst = int8 && (accumulate || !use_avx512()) ? acc_buf.get(static_cast<size_t>(T * out_)) : y_out;
  args[DNNL_ARG_SRC] = memory(memory::desc({T, in_}, src_type(type_), tag::ab), cpu_engine(), src_ptr);
  args[DNNL_ARG_WEIGHTS] = impl_->weights;
  args[DNNL_ARG_DST] =
      memory(memory::desc({T, out_}, int8 ? dt::s32 : y_bf16 ? dt::bf16 : dt::f32, tag::ab), cpu_engine(), dst);
  if (impl_->has_bias && !int8) args[DNNL_ARG_BIAS] = impl_->bias;
  add_scratchpad(prim, args);
  dnnl::stream stream(cpu_engine());
  prim.execute(stream, args);
  stream.wait();
  if (!int8) return;
  // Int8 epilogue: y (+)= (acc - zero[t] · w_sum[n]) · w_scale[n] / x_scale[t] + bias
  // + x[t, outliers] · W[:, outliers]ᵀ, then the activation, row by row.
  const float* inv = row_inv.data();
  const int32_t* zero = row_zero.data();
  const int32_t* wsum = impl_->row_sum.data();
  const int64_t N = out_;
  const int64_t k_out = static_cast<int64_t>(impl_->outliers.size());
  const float* xo = row_outliers.data();
  const float* wo = impl_->outlier_w.data();
  const int32_t* acc = static_cast<const int32_t*>(dst);
  const float* ws = impl_->row_scale.data();
#pragma omp parallel for if (T * N > 65536)
  for (int64_t t = 0; t < T; ++t)
    int8_epilogue_row(y + t * N, acc + t * N, zero[t], wsum, ws, inv[t], bias, xo + t * k_out, wo, k_out, N,
                      accumulate, act);
}

// ---- Packing from a checkpoint's blocks, and unpacking (load time and export) ----

namespace {

// The blocks as one dense [out, in] row-major matrix.
std::vector<float> assemble(const std::vector<PackedLinear::Rows>& blocks, int64_t out, int64_t in) {
  std::vector<float> w(static_cast<size_t>(out * in));
  float* d = w.data();
  for (const auto& b : blocks) {
    if (!b.in_out) {
      std::copy(b.data, b.data + b.rows * in, d);
    } else {  // [in, rows] -> [rows, in], in 64 x 64 tiles
      for (int64_t i0 = 0; i0 < in; i0 += 64)
        for (int64_t r0 = 0; r0 < b.rows; r0 += 64)
          for (int64_t i = i0; i < std::min(in, i0 + 64); ++i)
            for (int64_t r = r0; r < std::min(b.rows, r0 + 64); ++r) d[r * in + i] = b.data[i * b.rows + r];
    }
    d += b.rows * in;
  }
  return w;
}

}  // namespace

PackedLinear::PackedLinear(const std::vector<Rows>& blocks, const float* bias, int64_t in, ComputeType type)
    : out_(0), in_(in), type_(type) {
  ENCORE_CHECK(!blocks.empty(), "PackedLinear: no weight blocks");
  for (const auto& b : blocks) out_ += b.rows;
  if (type == ComputeType::Int8) {  // per-row quantization reads the dense rows
    const std::vector<float> w = assemble(blocks, out_, in_);
    PackedLinear dense(w.data(), bias, in_, out_, type);
    impl_ = std::move(dense.impl_);
    return;
  }
  impl_ = std::make_unique<Impl>();
  impl_->type = type;
  impl_->has_bias = bias != nullptr;
  memory::desc any({in_, out_}, weight_type(type), tag::any);
  impl_->weights_md = impl_->describe(128, in_, out_, any, std::nullopt, false).weights_desc();
  impl_->panels = type == ComputeType::F32 && impl_->weights_md == memory::desc({in_, out_}, dt::f32, tag::BA16a64b);
  // Its pages are left to the reorders to fault in (docs/checkpoints.md, load).
  impl_->weights = memory(impl_->weights_md, cpu_engine());
  // Block b is columns [off, off + rows) of the [in, out] matrix oneDNN packs: a sub-memory
  // of the packed layout when the layout has no padding and the offsets fall on its blocks.
  const bool padded = impl_->weights_md.get_size() !=
                      static_cast<size_t>(in_ * out_) * (type == ComputeType::BF16 ? 2 : 4);
  std::vector<memory> dst;
  if (blocks.size() == 1) {
    dst.push_back(impl_->weights);
  } else if (!padded) {
    try {
      int64_t off = 0;
      for (const auto& b : blocks) {
        dst.emplace_back(impl_->weights_md.submemory_desc({in_, b.rows}, {0, off}), cpu_engine(),
                         impl_->weights.get_data_handle());
        off += b.rows;
      }
    } catch (const dnnl::error&) {
      dst.clear();  // block sizes not multiples of the layout's blocks
    }
  }
  dnnl::stream stream(cpu_engine());
  if (!dst.empty()) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Rows& b = blocks[i];
      memory user(memory::desc({in_, b.rows}, dt::f32, b.in_out ? tag::ab : tag::ba), cpu_engine(),
                  const_cast<float*>(b.data));
      dnnl::reorder(user, dst[i]).execute(stream, user, dst[i]);
    }
    stream.wait();
  } else {
    std::vector<float> w = assemble(blocks, out_, in_);
    memory user(memory::desc({in_, out_}, dt::f32, tag::ba), cpu_engine(), w.data());
    dnnl::reorder(user, impl_->weights).execute(stream, user, impl_->weights);
    stream.wait();
  }
  if (bias) {
    impl_->bias = memory(memory::desc({1, out_}, dt::f32, tag::ab), cpu_engine());
    std::copy(bias, bias + out_, static_cast<float*>(impl_->bias.get_data_handle()));
  }
}

void PackedLinear::unpack(float* weight) const {
  ENCORE_CHECK(type_ == ComputeType::F32, "PackedLinear: the weights were packed as ", compute_type_name(type_),
               ", which rounded them; their float32 values were not kept");
  memory user(memory::desc({in_, out_}, dt::f32, tag::ba), cpu_engine(), weight);
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(impl_->weights, user).execute(stream, impl_->weights, user);
  stream.wait();
}

}  // namespace encore::kernels
