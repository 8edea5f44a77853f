// WeightBinder: looks weights up by name in a WeightSource, converting them to F32 and
// checking every shape against the config; it records which tensors were used so that the
// loader can warn about the rest. Names come from an architecture record, expanded.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "encore/error.h"
#include "encore/safetensors.h"
#include "models/architecture.h"
#include "models/weight_source.h"
#include "nn/linear.h"

namespace encore {

class WeightBinder {
 public:
  // Task checkpoints put a body under `prefix` ("bert."); it applies when `probe` (a name the
  // body always has) is stored with it and not without.
  WeightBinder(const WeightSource& src, std::string dir, const std::string& prefix = "", const std::string& probe = "");

  // A tensor with the given shape (as stored), converted to F32. Missing: error unless optional.
  Tensor get(const std::string& name, const Shape& shape, bool optional = false);

  // A tensor as stored (any floating-point dtype, not converted), checked and counted like
  // get(), with its key in the WeightSource; undefined tensor when optional and missing.
  struct Stored {
    Tensor tensor;
    std::string key;
  };
  Stored stored(const std::string& name, const Shape& shape, bool optional = false);

  // A Linear weight for packing, as stored: [out, in], or [in, out] when in_out (not
  // converted to F32 yet: that happens where it is packed).
  struct StoredLinear {
    Stored stored;
    bool in_out = false;
  };
  StoredLinear linear_stored(const std::string& name, bool in_out, int64_t out, int64_t in);

  // A Linear weight as F32 [out, in]; stored [in, out] (in_out) it is transposed here.
  Tensor linear_weight(const std::string& name, bool in_out, int64_t out, int64_t in);
  // A whole Linear: weight [out, in] and bias [out] (none when the names have no bias).
  nn::Linear linear(const LinearNames& names, const std::string& key, int64_t out, int64_t in);

  // The shape of a tensor as stored (before any transpose), or nullopt when absent.
  std::optional<Shape> stored_shape(const std::string& name) const;
  bool has(const std::string& name) const { return lookup(name) != nullptr; }

  std::vector<std::string> unused() const;
  int64_t parameters() const { return parameters_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::optional<std::string> resolve(const std::string& name) const;
  const Tensor* lookup(const std::string& name) const;

  const WeightSource& src_;
  std::string dir_, prefix_;
  std::set<std::string> used_;
  int64_t parameters_ = 0;
};

}  // namespace encore
