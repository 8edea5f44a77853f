// The activations on 16 lanes (AVX-512), for epilogues that apply them to a GEMM's output
// while it is in registers (the int8 epilogue). Each is the reference's function written
// without cancellation, within float32 rounding of it (gelu's erf: within its approximation):
//   gelu (erf):  0.5 x (1 + erf(x / sqrt 2)), erf from Abramowitz & Stegun 7.1.26 (absolute
//                error <= 1.5e-7, the approximation oneDNN's gelu_erf uses), whose form is
//                1 - erf(z) = t p(t) exp(-z^2) for z >= 0: for x < 0, 1 + erf(x / sqrt 2) is
//                that term itself, with no 1 - (1 - ...) cancellation.
//   gelu (tanh): 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
//   quick gelu, silu: x / (1 + exp(-a x)), a = 1.702 or 1.
//   relu: max(x, 0) (NaN gives 0, as the scalar x > 0 ? x : 0 does).
// tanh has no lane form here (1 - 2 / (1 + exp(2x)) loses the relative precision of small
// x): callers apply the scalar kernels::activate to it.
#pragma once

#include <immintrin.h>

#include "encore/compute.h"
#include "kernels/fast_exp.h"
#include "kernels/isa.h"

namespace encore::kernels {

// Whether activate16 has a lane form of `act`.
inline bool has_activate16(Activation act) { return act != Activation::Tanh; }

ENCORE_AVX512_BEGIN

// 1 / d for finite d >= 1: rcp14 and one Newton step (relative error ~2^-28, below
// float32's rounding), cheaper than a division.
ENCORE_AVX512 inline __m512 reciprocal16(__m512 d) {
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
}

// x / (1 + exp(m)): 0 where m > 88 (the true value is below |x| e^-88; exp's clamp at 88.4
// would leave |x| / 2.4e38 there).
ENCORE_AVX512 inline __m512 over_one_plus_exp16(__m512 x, __m512 m) {
  const __mmask16 finite = _mm512_cmp_ps_mask(m, _mm512_set1_ps(88.0f), _CMP_NGT_UQ);
  const __m512 r = reciprocal16(_mm512_add_ps(_mm512_set1_ps(1.0f), fast_exp16(m)));
  return _mm512_maskz_mul_ps(finite, x, r);
}

// x sigmoid(a x) = x / (1 + exp(-a x)).
ENCORE_AVX512 inline __m512 times_sigmoid16(__m512 x, float a) {
  return over_one_plus_exp16(x, _mm512_mul_ps(x, _mm512_set1_ps(-a)));
}

ENCORE_AVX512 inline __m512 gelu_erf16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  // |z| capped at 10 (erf's tail is 0 in float32 from ~4): x = +-inf keeps a finite t.
  const __m512 z = _mm512_min_ps(_mm512_abs_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752440f))),
                                 _mm512_set1_ps(10.0f));
  const __m512 t = reciprocal16(_mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), z, one));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  // tail = 1 - erf(|z|) = t p(t) exp(-z^2); 1 + erf(z) is 2 - tail for x >= 0, tail for x < 0.
  const __m512 tail = _mm512_mul_ps(_mm512_mul_ps(t, p), fast_exp16(_mm512_mul_ps(_mm512_mul_ps(z, z), _mm512_set1_ps(-1.0f))));
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 one_plus_erf = _mm512_mask_blend_ps(negative, _mm512_sub_ps(_mm512_set1_ps(2.0f), tail), tail);
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), one_plus_erf);
}

ENCORE_AVX512 inline __m512 gelu_tanh16(__m512 x) {
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  return over_one_plus_exp16(x, _mm512_mul_ps(u, _mm512_set1_ps(-2.0f)));
}

// A is an Activation (has_activate16) as an int, so that callers instantiate one loop per activation.
template <int A>
ENCORE_AVX512 inline __m512 activate16(__m512 x) {
  switch (static_cast<Activation>(A)) {
    case Activation::GeluErf: return gelu_erf16(x);
    case Activation::GeluTanh: return gelu_tanh16(x);
    case Activation::QuickGelu: return times_sigmoid16(x, 1.702f);
    case Activation::Silu: return times_sigmoid16(x, 1.0f);
    case Activation::Relu: return _mm512_max_ps(x, _mm512_setzero_ps());
    case Activation::Tanh: break;
  }
  return x;
}

ENCORE_AVX512_END

}  // namespace encore::kernels
