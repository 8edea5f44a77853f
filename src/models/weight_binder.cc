#include "models/weight_binder.h"

namespace encore {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

WeightBinder::WeightBinder(const WeightSource& src, std::string dir, const std::string& prefix,
                           const std::string& probe)
    : src_(src), dir_(std::move(dir)) {
  if (!prefix.empty() && !probe.empty() && !src.find(probe) && src.find(prefix + probe)) prefix_ = prefix;
}

Tensor WeightBinder::get(const std::string& name, const Shape& shape, bool optional) {
  const Stored s = stored(name, shape, optional);
  if (!s.tensor.defined() || s.tensor.dtype() == DType::F32) return s.tensor;
  Tensor f = s.tensor.to_f32();
  src_.release(s.key);  // the model uses the F32 copy: the stored bytes can leave memory
  return f;
}

WeightBinder::Stored WeightBinder::stored(const std::string& unprefixed, const Shape& shape, bool optional) {
  const std::string name = prefix_ + unprefixed;
  const auto found = resolve(name);
  if (!found) {
    ENCORE_CHECK(optional, dir_, ": missing tensor '", name, "' in ", src_.description());
    return {};
  }
  const std::string& key = *found;
  const Tensor* t = src_.find(key);
  ENCORE_CHECK(t->shape() == shape, src_.file_of(key), ": tensor '", key, "' has shape ", shape_string(t->shape()),
               ", the config implies ", shape_string(shape));
  ENCORE_CHECK(
      t->dtype() == DType::F32 || t->dtype() == DType::F16 || t->dtype() == DType::BF16 || t->dtype() == DType::F64,
      src_.file_of(key), ": tensor '", key, "' has dtype ", dtype_name(t->dtype()), ", expected a floating-point type");
  used_.insert(key);
  parameters_ += t->numel();
  return {*t, key};
}

WeightBinder::StoredLinear WeightBinder::linear_stored(const std::string& name, bool in_out, int64_t out, int64_t in) {
  if (!in_out) return {stored(name, {out, in}), false};
  return {stored(name, {in, out}), true};
}

Tensor WeightBinder::linear_weight(const std::string& name, bool in_out, int64_t out, int64_t in) {
  if (!in_out) return get(name, {out, in});
  Tensor k = get(name, {in, out});
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  const float* s = k.data<float>();
  float* d = w.data<float>();
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) d[o * in + i] = s[i * out + o];
  return w;
}

nn::Linear WeightBinder::linear(const LinearNames& names, const std::string& key, int64_t out, int64_t in) {
  nn::Linear l;
  l.weight = linear_weight(expand(names.weight, key), names.in_out, out, in);
  if (!names.bias.empty()) l.bias = get(expand(names.bias, key), {out});
  return l;
}

std::optional<Shape> WeightBinder::stored_shape(const std::string& name) const {
  const Tensor* t = lookup(name);
  if (!t) return std::nullopt;
  return t->shape();
}

std::vector<std::string> WeightBinder::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : src_.all())
    if (!used_.count(name)) out.push_back(name);
  return out;
}

// The name under which `name` is stored: itself, or for old HF checkpoints the LayerNorm
// gamma/beta spelling that transformers renames on load; nullopt when absent.
std::optional<std::string> WeightBinder::resolve(const std::string& name) const {
  if (src_.find(name)) return name;
  std::string old;
  if (ends_with(name, "LayerNorm.weight")) old = name.substr(0, name.size() - 6) + "gamma";
  if (ends_with(name, "LayerNorm.bias")) old = name.substr(0, name.size() - 4) + "beta";
  if (!old.empty() && src_.find(old)) return old;
  return std::nullopt;
}

const Tensor* WeightBinder::lookup(const std::string& name) const {
  const auto key = resolve(prefix_ + name);
  return key ? src_.find(*key) : nullptr;
}

}  // namespace encore
