// The registry of architecture records, detection, and the helpers every record shares.
#include "models/architecture.h"

#include <algorithm>
#include <memory>

#include "models/json_file.h"

namespace encore {

namespace fs = std::filesystem;

namespace {

std::vector<std::unique_ptr<Architecture>>& records() {
  static std::vector<std::unique_ptr<Architecture>> r;  // built on first use: records register at start-up
  return r;
}

std::vector<const Architecture*>& views() {
  static std::vector<const Architecture*> v;
  return v;
}

std::string known_names() {
  std::string s;
  for (const Architecture* a : architectures()) s += (s.empty() ? "" : ", ") + a->name;
  return s;
}

const Architecture* find(const std::string& name) {
  for (const Architecture* a : architectures())
    if (a->name == name || std::find(a->aliases.begin(), a->aliases.end(), name) != a->aliases.end()) return a;
  return nullptr;
}

bool claims(const Architecture& a, const std::string& model_type) {
  return a.model_types.empty() ||
         std::find(a.model_types.begin(), a.model_types.end(), model_type) != a.model_types.end();
}

// The model_type of a config file, "" when it has none.
std::string model_type_of(const fs::path& config) {
  const nlohmann::json j = read_json(config);
  ENCORE_CHECK(j.is_object(), config.string(), ": expected a JSON object");
  ConfigReader r{j, config.string()};
  return r.string("model_type", "");
}

}  // namespace

bool register_architecture(Architecture a) {
  ENCORE_CHECK(!find(a.name), "architecture '", a.name, "' registered twice");
  records().push_back(std::make_unique<Architecture>(std::move(a)));
  views().push_back(records().back().get());
  return true;
}

const std::vector<const Architecture*>& architectures() {
  return views();
}

const Architecture& architecture(const Dialect& d) {
  const Architecture* a = find(d.name());
  ENCORE_CHECK(a, "unknown dialect '", d.name(), "' (expected ", known_names(), ")");
  return *a;
}

const char* dialect_name(Dialect d) {
  return d.name();
}

Dialect dialect_from_name(const std::string& name) {
  const Architecture* a = find(name);
  ENCORE_CHECK(a, "unknown dialect '", name, "' (expected ", known_names(), ")");
  return a->dialect();
}

const Architecture& detect_architecture(const fs::path& dir) {
  std::vector<const Architecture*> order = architectures();
  std::stable_sort(order.begin(), order.end(),
                   [](const Architecture* a, const Architecture* b) { return a->detect_order < b->detect_order; });
  std::string unclaimed_file, unclaimed_type;
  std::vector<std::string> files;
  for (const Architecture* a : order) {
    if (std::find(files.begin(), files.end(), a->config_file) == files.end()) files.push_back(a->config_file);
    const fs::path config = dir / a->config_file;
    if (!fs::exists(config)) continue;
    if (a->model_types.empty()) return *a;
    const std::string type = model_type_of(config);
    if (claims(*a, type)) return *a;
    if (unclaimed_file.empty()) unclaimed_file = config.string(), unclaimed_type = type;
  }
  if (!unclaimed_file.empty()) {
    std::string supported;
    for (const Architecture* a : order)
      for (const std::string& t : a->model_types)
        if (!t.empty()) supported += (supported.empty() ? "" : ", ") + t;
    fail(unclaimed_file, ": model_type '", unclaimed_type, "' is not supported (supported: ", supported, ")");
  }
  std::string listed;
  for (size_t i = 0; i < files.size(); ++i) listed += (i == 0 ? "" : i + 1 == files.size() ? " or " : ", ") + files[i];
  fail(dir.string(), ": not a model directory (no ", listed, ")");
}

const Architecture* architecture_in_layout(const Architecture& of, ConvertTarget layout) {
  if (of.layout == layout) return &of;
  for (const Architecture* a : architectures())
    if (a->family == of.family && a->layout == layout) return a;
  return nullptr;
}

bool ForwardNames::accepts(const std::string& input) const {
  return std::find(inputs.begin(), inputs.end(), input) != inputs.end();
}

LayerPlan one_layer_per_depth(int64_t layers) {
  LayerPlan p;
  for (int64_t i = 0; i < layers; ++i) {
    p.weight_keys.push_back(std::to_string(i));
    p.steps.push_back({nn::LayerStep::plain(i), 0, true});
  }
  return p;
}

std::vector<NameSlot> name_slots(const BodyNames& n) {
  std::vector<NameSlot> s;
  auto name = [&](const std::string& p, bool per_layer) { s.push_back({&p, per_layer, nullptr}); };
  auto linear = [&](const LinearNames& l, bool per_layer) {
    s.push_back({&l.weight, per_layer, &l});
    s.push_back({&l.bias, per_layer, nullptr});
  };
  auto norm = [&](const NormNames& l, bool per_layer) {
    name(l.gamma, per_layer);
    name(l.beta, per_layer);
  };
  name(n.word, false), name(n.position, false), name(n.token_type, false);
  norm(n.embedding_norm, false);
  linear(n.embedding_projection, false);
  linear(n.pooler, false);
  name(n.relative_attention_bias, false);
  linear(n.query, true), linear(n.key, true), linear(n.value, true), linear(n.qkv, true);
  name(n.distance, true);
  linear(n.attention_out, true);
  norm(n.attention_norm, true);
  linear(n.ffn_in, true), linear(n.ffn_gate, true), linear(n.ffn_out, true);
  norm(n.ffn_norm, true);
  norm(n.final_norm, false);
  return s;
}

std::string expand(const std::string& pattern, const std::string& key) {
  std::string s = pattern;
  const size_t at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, key);
  return s;
}

std::string expand(const std::string& pattern, int64_t layer) {
  return expand(pattern, std::to_string(layer));
}

HeadPart linear_head(HeadInput input, LinearNames out, HeadRows rows, std::vector<std::string> outputs) {
  HeadPart p;
  p.input = input;
  p.out = std::move(out);
  p.rows = rows;
  p.outputs = std::move(outputs);
  return p;
}

HeadPart qa_outputs() {
  return linear_head(HeadInput::Tokens, {"qa_outputs.weight", "qa_outputs.bias"}, HeadRows::Two,
                     {"start_logits", "end_logits"});
}

HeadPart token_classifier() {
  return linear_head(HeadInput::Tokens, {"classifier.weight", "classifier.bias"}, HeadRows::Labels, {"logits"});
}

}  // namespace encore
