// Tensor: a dense, contiguous, row-major n-d array with a dtype, owning or viewing its
// bytes. It is deliberately small: shapes, dtypes and a pointer. Kernels take raw pointers
// and sizes (see src/kernels), not Tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "encore/error.h"

namespace encore {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

using Shape = std::vector<int64_t>;

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);         // safetensors spelling: "F32", "I64", "BOOL"...
DType dtype_from_name(const std::string& name);  // throws on unknown names
std::string shape_string(const Shape& shape);    // "[2, 3]"
int64_t shape_numel(const Shape& shape);

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }

class Tensor {
 public:
  Tensor() = default;

  // New zero-filled tensor.
  static Tensor zeros(DType dtype, Shape shape);
  // New tensor with unspecified contents (for buffers about to be overwritten).
  static Tensor empty(DType dtype, Shape shape);
  // A view of memory kept alive by `owner` (e.g. a memory-mapped file).
  static Tensor view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner);

  bool defined() const { return data_ != nullptr || numel() == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  template <class T>
  T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(data_);
  }
  const void* raw() const { return data_; }
  void* raw_mut() { return data_; }

  // A copy converted to float32 (from F32, F16, BF16, F64 or any integer/bool dtype).
  Tensor to_f32() const;
  // A copy converted to int64 (from any integer or bool dtype; floats must be integral).
  Tensor to_i64() const;
  // Same bytes, new shape with the same number of elements.
  Tensor reshaped(Shape shape) const;
  // A deep copy.
  Tensor clone() const;

 private:
  void check_dtype(DType expected) const;

  std::shared_ptr<const void> owner_;
  void* data_ = nullptr;
  DType dtype_ = DType::F32;
  Shape shape_;
};

}  // namespace encore
