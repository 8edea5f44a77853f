#include "models/convert_names.h"

#include <cstring>

#include "models/dialects.h"

namespace encore {
namespace {

// One weight slot of the WeightNames tables; `linear` slots are dense kernels ([in,out] in Google).
struct Slot {
  std::string WeightNames::*field;
  bool per_layer;
  bool linear;
};
constexpr Slot kSlots[] = {
    {&WeightNames::word, false, false},      {&WeightNames::position, false, false},
    {&WeightNames::token_type, false, false}, {&WeightNames::emb_gamma, false, false},
    {&WeightNames::emb_beta, false, false},  {&WeightNames::pooler_w, false, true},
    {&WeightNames::pooler_b, false, false},  {&WeightNames::q_w, true, true},
    {&WeightNames::q_b, true, false},        {&WeightNames::k_w, true, true},
    {&WeightNames::k_b, true, false},        {&WeightNames::v_w, true, true},
    {&WeightNames::v_b, true, false},        {&WeightNames::out_w, true, true},
    {&WeightNames::out_b, true, false},      {&WeightNames::ln1_g, true, false},
    {&WeightNames::ln1_b, true, false},      {&WeightNames::ffn_in_w, true, true},
    {&WeightNames::ffn_in_b, true, false},   {&WeightNames::ffn_out_w, true, true},
    {&WeightNames::ffn_out_b, true, false},  {&WeightNames::ln2_g, true, false},
    {&WeightNames::ln2_b, true, false},      {&WeightNames::distance, true, false},
};

// Task heads (docs/checkpoints.md, "Converting"; Google run_classifier.py / run_squad.py).
// NSP, classifier and SQuAD weights are [out,in] in both; only the MLM transform is a kernel.
struct HeadName {
  const char* hf;
  const char* google;
  bool linear;
};
constexpr HeadName kHeads[] = {
    {"cls.predictions.transform.dense.weight", "cls/predictions/transform/dense/kernel", true},
    {"cls.predictions.transform.dense.bias", "cls/predictions/transform/dense/bias", false},
    {"cls.predictions.transform.LayerNorm.weight", "cls/predictions/transform/LayerNorm/gamma", false},
    {"cls.predictions.transform.LayerNorm.bias", "cls/predictions/transform/LayerNorm/beta", false},
    {"cls.predictions.bias", "cls/predictions/output_bias", false},
    {"cls.seq_relationship.weight", "cls/seq_relationship/output_weights", false},
    {"cls.seq_relationship.bias", "cls/seq_relationship/output_bias", false},
    {"classifier.weight", "output_weights", false},
    {"classifier.bias", "output_bias", false},
    {"qa_outputs.weight", "cls/squad/output_weights", false},
    {"qa_outputs.bias", "cls/squad/output_bias", false},
};

std::string expand(const std::string& pattern, int64_t layer) {
  std::string s = pattern;
  size_t at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

struct Counterpart {
  std::string name;
  bool linear;
};

// Every name of `other` with its canonical (HF) counterpart, and the reverse.
struct NameMap {
  std::map<std::string, Counterpart> to_hf, from_hf;
};

NameMap name_map(Dialect other, int64_t layers) {
  const WeightNames& hf = weight_names(Dialect::BertHF);
  const WeightNames& o = weight_names(other);
  NameMap m;
  auto add = [&](const std::string& h, const std::string& x, bool linear) {
    m.to_hf[x] = {h, linear};
    m.from_hf[h] = {x, linear};
  };
  for (const Slot& s : kSlots) {
    if ((hf.*s.field).empty() || (o.*s.field).empty()) continue;
    for (int64_t i = 0; i < (s.per_layer ? layers : 1); ++i)
      add(expand(hf.*s.field, i), expand(o.*s.field, i), s.linear && o.kernels_in_out);
  }
  if (other == Dialect::BertGoogle)
    for (const HeadName& h : kHeads) add(h.hf, h.google, h.linear);
  return m;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// HF names as transformers reads them: no "bert." prefix, LayerNorm gamma/beta -> weight/bias.
std::string hf_canonical_name(std::string name) {
  const std::string& prefix = weight_names(Dialect::BertHF).optional_prefix;
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
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

void torch_to_canonical(const std::map<std::string, Tensor>& source, int64_t layers, NamedTensors& out) {
  const WeightNames& hf = weight_names(Dialect::BertHF);
  const WeightNames& pt = weight_names(Dialect::Torch);
  const NameMap m = name_map(Dialect::Torch, layers);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string w = expand(pt.qkv_w, i), b = expand(pt.qkv_b, i);
    for (const auto& [name, is_bias] : {std::pair{w, false}, std::pair{b, true}}) {
      auto it = source.find(name);
      if (it == source.end()) continue;
      ENCORE_CHECK(it->second.dim() >= 1 && it->second.size(0) % 3 == 0, "'", name, "' has shape ",
                   shape_string(it->second.shape()), ", not [3*d_model, ...]");
      const std::string* q = is_bias ? &hf.q_b : &hf.q_w;
      const std::string* k = is_bias ? &hf.k_b : &hf.k_w;
      const std::string* v = is_bias ? &hf.v_b : &hf.v_w;
      out.tensors[expand(*q, i)] = row_block(it->second, 0, 3);
      out.tensors[expand(*k, i)] = row_block(it->second, 1, 3);
      out.tensors[expand(*v, i)] = row_block(it->second, 2, 3);
    }
  }
  for (const auto& [name, t] : source) {
    if (name.find("in_proj_") != std::string::npos) continue;
    auto it = m.to_hf.find(name);
    if (it == m.to_hf.end()) out.dropped.push_back(name);
    else out.tensors[it->second.name] = t;
  }
}

}  // namespace

bool is_head_name(const std::string& n) {
  return n.rfind("cls.", 0) == 0 || n.rfind("classifier.", 0) == 0 || n.rfind("qa_outputs.", 0) == 0;
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

NamedTensors to_canonical(const std::map<std::string, Tensor>& source, Dialect dialect, int64_t layers) {
  NamedTensors out;
  if (dialect == Dialect::BertHF) {
    for (const auto& [name, t] : source) out.tensors[hf_canonical_name(name)] = t;
  } else if (dialect == Dialect::Torch) {
    torch_to_canonical(source, layers, out);
  } else {
    const NameMap m = name_map(dialect, layers);
    for (const auto& [name, t] : source) {
      auto it = m.to_hf.find(name);
      if (it == m.to_hf.end()) out.dropped.push_back(name);
      else out.tensors[it->second.name] = it->second.linear ? transposed(t, name) : t;
    }
  }
  return out;
}

NamedTensors from_canonical(const std::map<std::string, Tensor>& canonical, Dialect dialect, int64_t layers,
                            bool hf_prefix) {
  ENCORE_CHECK(dialect != Dialect::Torch, "from_canonical: PyTorch names are written by export_torch_encoder");
  NamedTensors out;
  if (dialect == Dialect::BertHF) {
    const std::string& prefix = weight_names(Dialect::BertHF).optional_prefix;
    for (const auto& [name, t] : canonical) out.tensors[(hf_prefix && !is_head_name(name) ? prefix : "") + name] = t;
    return out;
  }
  const NameMap m = name_map(dialect, layers);
  for (const auto& [name, t] : canonical) {
    auto it = m.from_hf.find(name);
    if (it == m.from_hf.end()) out.dropped.push_back(name);
    else out.tensors[it->second.name] = it->second.linear ? transposed(t, name) : t;
  }
  return out;
}

}  // namespace encore
