#include "encore/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/convert.h"

namespace encore {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32,
                  DType::I16, DType::I8, DType::U8, DType::Bool}) {
    if (name == dtype_name(d)) return d;
  }
  fail("unsupported dtype '", name, "'");
}

std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  for (int64_t d : shape) ENCORE_CHECK(d >= 0, "negative dimension in shape ", shape_string(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  size_t bytes = std::max<size_t>(t.nbytes(), 1);
  // 64-byte alignment: kernels use aligned vector loads where they can.
  void* p = ::operator new[](bytes, std::align_val_t(64));
  t.owner_ = std::shared_ptr<const void>(p, [](const void* q) {
    ::operator delete[](const_cast<void*>(q), std::align_val_t(64));
  });
  t.data_ = p;
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = const_cast<void*>(data);
  t.owner_ = std::move(owner);
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  int64_t n = dim();
  if (axis < 0) axis += n;
  ENCORE_CHECK(axis >= 0 && axis < n, "axis ", axis, " out of range for shape ", shape_string(shape_));
  return shape_[static_cast<size_t>(axis)];
}

void Tensor::check_dtype(DType expected) const {
  ENCORE_CHECK(dtype_ == expected, "tensor has dtype ", dtype_name(dtype_), ", expected ",
               dtype_name(expected));
}

float round_to_half(float x) {
  if (!std::isfinite(x)) return x;
  const float a = std::fabs(x);
  if (a == 0.0f) return x;
  // float16 keeps 10 fraction bits down to 2^-14, then steps of 2^-24 (subnormals): scale the
  // value so that its last kept bit is the units digit, round (ties to even), scale back.
  const int e = std::max(std::ilogb(a), -14);
  const float q = std::ldexp(1.0f, e - 10);
  const float r = std::nearbyint(a / q) * q;
  return std::copysign(r > 65504.0f ? INFINITY : r, x);
}

namespace {
float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
// half_to_float without branches, so that conversion loops vectorize: normal numbers rebias
// the exponent, Inf / NaN (payload kept) rebias it twice, subnormals m * 2^-24 come out of
// one exact float subtraction ((2^-14 + m * 2^-24) - 2^-14). Same bits as half_to_float.
inline float half_to_float_fast(uint16_t h16) {
  const uint32_t h = h16;
  const uint32_t sign = (h & 0x8000u) << 16, em = h & 0x7fffu;
  const uint32_t normal = (em << 13) + 0x38000000u;  // exponent + (127 - 15)
  const uint32_t special = normal + 0x38000000u;     // exponent 31 -> 255
  uint32_t sub_bits = (em << 13) + 0x38800000u, base = 0x38800000u;
  float sub, two_m14;
  std::memcpy(&sub, &sub_bits, 4);
  std::memcpy(&two_m14, &base, 4);
  sub -= two_m14;
  std::memcpy(&sub_bits, &sub, 4);
  const uint32_t is_sub = 0u - static_cast<uint32_t>(em < 0x0400u);  // masks, not branches
  const uint32_t is_special = 0u - static_cast<uint32_t>(em >= 0x7c00u);
  const uint32_t bits = sign | (sub_bits & is_sub) | (special & is_special) | (normal & ~(is_sub | is_special));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
float bf16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class Out, class Fn>
Tensor convert(const Tensor& in, DType out_dtype, Fn&& fn) {
  Tensor out = Tensor::zeros(out_dtype, in.shape());
  Out* o = out.data<Out>();
  const auto* base = static_cast<const unsigned char*>(in.raw());
  size_t es = dtype_size(in.dtype());
  for (int64_t i = 0; i < in.numel(); ++i) o[i] = fn(base + static_cast<size_t>(i) * es);
  return out;
}

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double element_as_double(DType d, const unsigned char* p) {
  switch (d) {
    case DType::F32: return load<float>(p);
    case DType::F64: return load<double>(p);
    case DType::F16: return half_to_float(load<uint16_t>(p));
    case DType::BF16: return bf16_to_float(load<uint16_t>(p));
    case DType::I64: return static_cast<double>(load<int64_t>(p));
    case DType::I32: return load<int32_t>(p);
    case DType::I16: return load<int16_t>(p);
    case DType::I8: return load<int8_t>(p);
    case DType::U8: case DType::Bool: return *p;
  }
  return 0;
}
}  // namespace

void to_f32_into(const Tensor& t, float* o) {
  const auto* s = static_cast<const unsigned char*>(t.raw());
  const int64_t n = t.numel();
  // The checkpoint dtypes in straight loops (a half-precision bert-base converts ~110M values).
  switch (t.dtype()) {
    case DType::F32:
      if (n) std::memcpy(o, s, t.nbytes());
      return;
    case DType::F16:
#ifdef _OPENMP
#pragma omp parallel for if (n > (1 << 20))
#endif
      for (int64_t i = 0; i < n; ++i) o[i] = half_to_float_fast(load<uint16_t>(s + 2 * i));
      return;
    case DType::BF16:
#ifdef _OPENMP
#pragma omp parallel for if (n > (1 << 20))
#endif
      for (int64_t i = 0; i < n; ++i) o[i] = bf16_to_float(load<uint16_t>(s + 2 * i));
      return;
    default: {
      const DType d = t.dtype();
      const size_t es = dtype_size(d);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(element_as_double(d, s + static_cast<size_t>(i) * es));
    }
  }
}

Tensor Tensor::to_f32() const {
  Tensor out = empty(DType::F32, shape_);
  to_f32_into(*this, static_cast<float*>(out.data_));
  return out;
}

Tensor Tensor::to_i64() const {
  DType d = dtype_;
  return convert<int64_t>(*this, DType::I64, [d](const unsigned char* p) -> int64_t {
    if (d == DType::I64) return load<int64_t>(p);
    double v = element_as_double(d, p);
    ENCORE_CHECK(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15,
                 "expected integer values, found ", v);
    return static_cast<int64_t>(v);
  });
}

Tensor Tensor::reshaped(Shape shape) const {
  ENCORE_CHECK(shape_numel(shape) == numel(), "cannot reshape ", shape_string(shape_), " to ",
               shape_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = zeros(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

}  // namespace encore
