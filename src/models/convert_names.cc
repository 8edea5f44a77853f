#include "models/convert_names.h"

#include <cstring>
#include <set>

namespace encore {
namespace {

struct Counterpart {
  std::string name;
  bool transpose;
};

// Every name of `other` with its canonical counterpart, and the reverse.
struct NameMap {
  std::map<std::string, Counterpart> to_canonical, from_canonical;
};

bool transposes(const LinearNames* a, const LinearNames* b) {
  return a && b && a->in_out != b->in_out;
}

void add_pair(NameMap& m, const std::string& canonical, const std::string& other, bool transpose) {
  if (canonical.empty() || other.empty()) return;
  m.to_canonical[other] = {canonical, transpose};
  m.from_canonical[canonical] = {other, transpose};
}

void add_head_parts(NameMap& m, const HeadPart& c, const HeadPart& o) {
  add_pair(m, c.dense.weight, o.dense.weight, c.dense.in_out != o.dense.in_out);
  add_pair(m, c.dense.bias, o.dense.bias, false);
  add_pair(m, c.norm.gamma, o.norm.gamma, false);
  add_pair(m, c.norm.beta, o.norm.beta, false);
  add_pair(m, c.out.weight, o.out.weight, c.out.in_out != o.out.in_out);
  add_pair(m, c.out.bias, o.out.bias, false);
  add_pair(m, c.out_bias_copy, o.out_bias_copy, false);
}

NameMap name_map(const Architecture& other, int64_t layers) {
  const Architecture& canon = canonical_architecture(other);
  NameMap m;
  const std::vector<NameSlot> cs = name_slots(canon.names), os = name_slots(other.names);
  for (size_t k = 0; k < cs.size(); ++k) {
    for (int64_t i = 0; i < (cs[k].per_layer ? layers : 1); ++i)
      add_pair(m, expand(*cs[k].pattern, i), expand(*os[k].pattern, i), transposes(cs[k].linear, os[k].linear));
  }
  for (const HeadSpec& ch : canon.heads)
    for (const HeadSpec& oh : other.heads) {
      if (ch.kind != oh.kind) continue;
      if (ch.token && oh.token) add_head_parts(m, *ch.token, *oh.token);
      if (ch.sequence && oh.sequence) add_head_parts(m, *ch.sequence, *oh.sequence);
    }
  return m;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// HF names as transformers reads them: no body prefix, LayerNorm gamma/beta -> weight/bias.
std::string hf_canonical_name(std::string name, const std::string& prefix) {
  if (!prefix.empty() && name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  if (ends_with(name, "LayerNorm.gamma")) name = name.substr(0, name.size() - 5) + "weight";
  if (ends_with(name, "LayerNorm.beta")) name = name.substr(0, name.size() - 4) + "bias";
  return name;
}

// Rows [part * n / parts, (part + 1) * n / parts) of a tensor, bits unchanged.
Tensor row_block(const Tensor& t, int64_t part, int64_t parts) {
  Shape s = t.shape();
  s[0] /= parts;
  Tensor out = Tensor::empty(t.dtype(), s);
  const size_t bytes = out.nbytes();
  if (bytes) std::memcpy(out.raw_mut(), static_cast<const char*>(t.raw()) + static_cast<size_t>(part) * bytes, bytes);
  return out;
}

// A packed Q|K|V weight and bias ([3H, ...]) as the canonical record's three projections.
// Returns the packed names it consumed.
std::set<std::string> split_qkv(const std::map<std::string, Tensor>& source, const Architecture& from,
                                const Architecture& canon, int64_t layers, NamedTensors& out) {
  std::set<std::string> consumed;
  const BodyNames& c = canon.names;
  for (int64_t i = 0; i < layers; ++i) {
    for (const auto& [name, is_bias] :
         {std::pair{expand(from.names.qkv.weight, i), false}, std::pair{expand(from.names.qkv.bias, i), true}}) {
      auto it = source.find(name);
      if (it == source.end()) continue;
      consumed.insert(name);
      ENCORE_CHECK(it->second.dim() >= 1 && it->second.size(0) % 3 == 0, "'", name, "' has shape ",
                   shape_string(it->second.shape()), ", not [3*d_model, ...]");
      int part = 0;
      for (const LinearNames* l : {&c.query, &c.key, &c.value})
        out.tensors[expand(is_bias ? l->bias : l->weight, i)] = row_block(it->second, part++, 3);
    }
  }
  return consumed;
}

}  // namespace

const Architecture& canonical_architecture(const Architecture& of) {
  const Architecture* a = architecture_in_layout(of, ConvertTarget::HF);
  ENCORE_CHECK(a, "the ", of.name, " family has no HF layout to convert through");
  return *a;
}

bool is_head_name(const Architecture& family, const std::string& n) {
  for (const HeadSpec& h : canonical_architecture(family).heads)
    for (const auto* part : {&h.token, &h.sequence})
      if (*part)
        for (const std::string* s :
             {&(*part)->dense.weight, &(*part)->dense.bias, &(*part)->norm.gamma, &(*part)->norm.beta,
              &(*part)->out.weight, &(*part)->out.bias, &(*part)->out_bias_copy})
          if (!s->empty() && *s == n) return true;
  return false;
}

Tensor transposed(const Tensor& t, const std::string& name) {
  ENCORE_CHECK(t.dim() == 2, "'", name, "' has shape ", shape_string(t.shape()), ", expected a 2-D kernel");
  const int64_t rows = t.size(0), cols = t.size(1);
  const size_t es = dtype_size(t.dtype());
  Tensor out = Tensor::empty(t.dtype(), {cols, rows});
  const char* s = static_cast<const char*>(t.raw());
  char* d = static_cast<char*>(out.raw_mut());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(d + static_cast<size_t>(c * rows + r) * es, s + static_cast<size_t>(r * cols + c) * es, es);
  return out;
}

NamedTensors to_canonical(const std::map<std::string, Tensor>& source, const Architecture& from, int64_t layers) {
  NamedTensors out;
  const Architecture& canon = canonical_architecture(from);
  if (&canon == &from) {
    for (const auto& [name, t] : source) out.tensors[hf_canonical_name(name, from.names.prefix)] = t;
    return out;
  }
  const bool packed = !from.names.qkv.empty() && canon.names.qkv.empty();
  const std::set<std::string> split = packed ? split_qkv(source, from, canon, layers, out) : std::set<std::string>{};
  const NameMap m = name_map(from, layers);
  for (const auto& [name, t] : source) {
    if (split.count(name)) continue;
    auto it = m.to_canonical.find(name);
    if (it == m.to_canonical.end())
      out.dropped.push_back(name);
    else
      out.tensors[it->second.name] = it->second.transpose ? transposed(t, name) : t;
  }
  return out;
}

NamedTensors from_canonical(const std::map<std::string, Tensor>& canonical, const Architecture& to, int64_t layers,
                            bool prefix) {
  ENCORE_CHECK(to.layout != ConvertTarget::Torch, "from_canonical: PyTorch names are written by export_torch_encoder");
  NamedTensors out;
  if (&canonical_architecture(to) == &to) {
    for (const auto& [name, t] : canonical)
      out.tensors[(prefix && !is_head_name(to, name) ? to.names.prefix : "") + name] = t;
    return out;
  }
  const NameMap m = name_map(to, layers);
  for (const auto& [name, t] : canonical) {
    auto it = m.from_canonical.find(name);
    if (it == m.from_canonical.end())
      out.dropped.push_back(name);
    else
      out.tensors[it->second.name] = it->second.transpose ? transposed(t, name) : t;
  }
  return out;
}

}  // namespace encore
