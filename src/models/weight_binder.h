// WeightBinder: looks weights up through a dialect's name map, converting them to F32 and
// checking every shape against the config; it records which tensors were used so that the
// loader can warn about the rest. (Moved out of load.cc so that the task heads share it.)
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "encore/error.h"
#include "encore/safetensors.h"
#include "models/dialects.h"
#include "models/weight_source.h"

namespace encore {

inline std::string expand(const std::string& pattern, int64_t layer) {
  std::string s = pattern;
  size_t at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

// Looks weights up through a dialect's name map, converting to F32 [out,in] and checking shapes.
class WeightBinder {
 public:
  WeightBinder(const WeightSource& src, const WeightNames& names, std::string dir)
      : src_(src), names_(names), dir_(std::move(dir)) {
    // HF task checkpoints prefix the encoder with "bert."; bare BertModel checkpoints do not.
    if (!names.optional_prefix.empty() && !src.find(names.word) && src.find(names.optional_prefix + names.word))
      prefix_ = names.optional_prefix;
  }

  // A tensor with the given shape (as stored), converted to F32. Missing: error unless optional.
  Tensor get(const std::string& pattern, int64_t layer, const Shape& shape, bool optional = false) {
    const Stored s = stored(pattern, layer, shape, optional);
    if (!s.tensor.defined() || s.tensor.dtype() == DType::F32) return s.tensor;
    Tensor f = s.tensor.to_f32();
    src_.release(s.key);  // the model uses the F32 copy: the stored bytes can leave memory
    return f;
  }

  // A tensor as stored (any floating-point dtype, not converted), checked and counted like
  // get(), with its key in the WeightSource; undefined tensor when optional and missing.
  struct Stored {
    Tensor tensor;
    std::string key;
  };
  Stored stored(const std::string& pattern, int64_t layer, const Shape& shape, bool optional = false) {
    const std::string name = prefix_ + expand(pattern, layer);
    const auto found = resolve(name);
    if (!found) {
      ENCORE_CHECK(optional, dir_, ": missing tensor '", name, "' in ", src_.description());
      return {};
    }
    const std::string& key = *found;
    const Tensor* t = src_.find(key);
    ENCORE_CHECK(t->shape() == shape, src_.file_of(key), ": tensor '", key, "' has shape ",
                 shape_string(t->shape()), ", the config implies ", shape_string(shape));
    ENCORE_CHECK(t->dtype() == DType::F32 || t->dtype() == DType::F16 || t->dtype() == DType::BF16 ||
                     t->dtype() == DType::F64,
                 src_.file_of(key), ": tensor '", key, "' has dtype ", dtype_name(t->dtype()),
                 ", expected a floating-point type");
    used_.insert(key);
    parameters_ += t->numel();
    return {*t, key};
  }

  // A Linear weight for packing, as stored: [out, in], or a Google kernel [in, out]
  // (in_out); not converted to F32 yet (that happens where it is packed).
  struct StoredLinear {
    Stored stored;
    bool in_out = false;
  };
  StoredLinear linear_stored(const std::string& pattern, int64_t layer, int64_t out, int64_t in) {
    if (!names_.kernels_in_out) return {stored(pattern, layer, {out, in}), false};
    return {stored(pattern, layer, {in, out}), true};
  }

  // A Linear weight as [out, in]; Google kernels are stored [in, out] and transposed here.
  Tensor linear_weight(const std::string& pattern, int64_t layer, int64_t out, int64_t in) {
    if (!names_.kernels_in_out) return get(pattern, layer, {out, in});
    Tensor k = get(pattern, layer, {in, out});
    Tensor w = Tensor::zeros(DType::F32, {out, in});
    const float* s = k.data<float>();
    float* d = w.data<float>();
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o) d[o * in + i] = s[i * out + o];
    return w;
  }

  // The shape of a tensor as stored (before any transpose), or nullopt when absent.
  std::optional<Shape> stored_shape(const std::string& pattern, int64_t layer) const {
    const Tensor* t = lookup_const(prefix_ + expand(pattern, layer));
    if (!t) return std::nullopt;
    return t->shape();
  }

  bool has(const std::string& pattern, int64_t layer) const {
    return lookup_const(prefix_ + expand(pattern, layer)) != nullptr;
  }

  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& [name, t] : src_.all())
      if (!used_.count(name)) out.push_back(name);
    return out;
  }
  int64_t parameters() const { return parameters_; }

 private:
  // The name under which `name` is stored: itself, or for old HF checkpoints the
  // LayerNorm gamma/beta spelling that transformers renames on load; nullopt when absent.
  std::optional<std::string> resolve(const std::string& name) const {
    if (src_.find(name)) return name;
    auto ends = [&](const std::string& s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    std::string old;
    if (ends("LayerNorm.weight")) old = name.substr(0, name.size() - 6) + "gamma";
    if (ends("LayerNorm.bias")) old = name.substr(0, name.size() - 4) + "beta";
    if (!old.empty() && src_.find(old)) return old;
    return std::nullopt;
  }
  const Tensor* lookup_const(const std::string& name) const {
    auto key = resolve(name);
    return key ? src_.find(*key) : nullptr;
  }

  const WeightSource& src_;
  const WeightNames& names_;
  std::string dir_, prefix_;
  std::set<std::string> used_;
  int64_t parameters_ = 0;
};

}  // namespace encore
