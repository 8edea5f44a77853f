// exp for softmax, shared by the softmax and fused attention kernels: a Cephes-style expf
// (range reduction by ln 2, degree-6 polynomial; ~1 ulp over the range softmax uses) written
// branch-free so that it vectorizes; inputs below -87.3 (including -inf) give exactly 0, as
// expf does for masked scores. fast_exp16 is the same on 16 lanes (AVX-512).
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"

namespace encore::kernels {

inline float fast_exp(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365447504f;
  const bool underflow = x < lo;
  float xc = x > hi ? hi : (x < lo ? lo : x);
  const float fx = std::nearbyint(xc * 1.44269504088896341f);
  float r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(fx) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  const float v = p * scale;
  return underflow ? 0.0f : v;
}

ENCORE_AVX512_BEGIN

// fast_exp on 16 lanes, value for value (NaN propagates, as in the scalar form: the clamps
// keep x when it is NaN). The scale 2^fx comes from vscalefps instead of the scalar form's
// exponent bits and multiply: p * 2^fx is exact for every fx the clamps allow, so the bits are
// the same (checked on all 2^32 inputs), in 16 instructions instead of 19.
ENCORE_AVX512 inline __m512 fast_exp16(__m512 x) {
  const __mmask16 kept = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3365447504f), _CMP_NLT_UQ);  // no underflow
  const __m512 xc = _mm512_max_ps(_mm512_set1_ps(-87.3365447504f), _mm512_min_ps(_mm512_set1_ps(88.3762626647949f), x));
  const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(kept, p, fx);
}

ENCORE_AVX512_END

}  // namespace encore::kernels
