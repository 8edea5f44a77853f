// encore explain: every registered architecture's layer side by side (from the records), and,
// given a model, proof by computation that its layer and a PyTorch TransformerEncoderLayer
// are the same math.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "cli.h"
#include "encore/model.h"
#include "models/architecture.h"
#include "encore/model_path.h"
#include "models/json_file.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore explain [--model DIR]\n\n"
    "Prints the layer of every architecture encore knows (Google BERT, HF BertLayer, torch\n"
    "TransformerEncoderLayer, ...) operation by operation: weight names, activation, LayerNorm\n"
    "eps, mask constant, dropout positions, parameters; the names are the --dialect values.\n"
    "With --model, also says how that model differs from BERT (embeddings, positions, layer,\n"
    "weight sharing, pooler, head) and, where its layer is one a PyTorch TransformerEncoderLayer\n"
    "can compute (post-norm, erf GELU or ReLU, no relative positions, one layer per depth), runs\n"
    "its first layer as one (weights renamed, Q/K/V packed into in_proj_weight) and prints the\n"
    "largest difference between the two (exit 1 when it is not float32 rounding).\n\n"
    "example:\n"
    "  encore explain --model models/all-MiniLM-L6-v2";

// The records, by name (bert-google, bert-hf, ..., torch).
std::vector<const Architecture*> records() {
  std::vector<const Architecture*> r = architectures();
  std::sort(r.begin(), r.end(), [](const Architecture* a, const Architecture* b) { return a->name < b->name; });
  return r;
}

std::string layer_name(const std::string& pattern) {
  return expand(pattern, "N");
}

// "prefix{query,key,value}suffix" from the three projection names of a record.
std::string qkv_names(const BodyNames& n) {
  if (!n.qkv.empty()) return layer_name(n.qkv.weight) + "  [3E, E], packed q|k|v";
  const std::string q = layer_name(n.query.weight), k = layer_name(n.key.weight), v = layer_name(n.value.weight);
  size_t a = 0, b = 0;  // common prefix and suffix of the three names
  while (a < q.size() && q[a] == k[a] && q[a] == v[a]) ++a;
  while (b < q.size() - a && q[q.size() - 1 - b] == k[k.size() - 1 - b] && q[q.size() - 1 - b] == v[v.size() - 1 - b])
    ++b;
  return q.substr(0, a) + "{query,key,value}" + q.substr(q.size() - b) +
         (n.query.in_out ? "  [in, out] x3" : "  [out, in] x3");
}

// One row of the table: a cell per record.
template <class Cell>
void row(const char* what, Cell&& cell) {
  std::printf("\n%s\n", what);
  for (const Architecture* a : records()) std::printf("  %-12s %s\n", a->name.c_str(), std::string(cell(*a)).c_str());
}

std::string with_shape(const LinearNames& l) {
  return layer_name(l.weight) + (l.in_out ? "  [in, out]" : "  [out, in]");
}

std::string positions(const ModelConfig& c) {
  std::string p;
  if (c.absolute_positions)
    p = c.positions_from_ids ? "learned absolute, numbered from the ids (padding_idx " + std::to_string(c.padding_idx) +
                                   " + count of non-pad tokens)"
                             : "learned absolute, 0..n-1";
  switch (c.layer.attention.relative) {
    case RelativePositions::None: break;
    case RelativePositions::Key: p += (p.empty() ? "" : " + ") + std::string("relative_key distance embeddings"); break;
    case RelativePositions::KeyQuery:
      p += (p.empty() ? "" : " + ") + std::string("relative_key_query distance embeddings");
      break;
    case RelativePositions::Bucket:
      p += (p.empty() ? "" : " + ") + std::string("a bucketed relative bias on the scores, shared by every layer");
      break;
  }
  return p;
}

// How the model at hand differs from BERT (transformers BertModel with BertConfig defaults).
void print_differences(const ModelConfig& c, const Architecture& arch, const LayerPlan& plan) {
  const Architecture& bert = architecture(Dialect::BertHF);
  std::printf("\nhow it differs from BERT (transformers BertModel):\n");
  int n = 0;
  auto line = [&](const char* what, const std::string& here, const std::string& in_bert) {
    if (here == in_bert) return;
    std::printf("  %-16s %s  (BERT: %s)\n", what, here.c_str(), in_bert.c_str());
    ++n;
  };
  line("reference", arch.reference, bert.reference);
  line("embeddings", c.embedding_size != c.hidden ? "E=" + std::to_string(c.embedding_size) + ", then a Linear E -> H"
                                                  : "H wide",
       "H wide");
  line("token types", c.type_vocab_size ? std::to_string(c.type_vocab_size) : "none (every token type 0)", "2");
  line("positions", positions(c), "learned absolute, 0..n-1");
  line("activation", activation_name(c.layer.feed_forward.activation), "gelu_erf");
  char eps[32];
  std::snprintf(eps, sizeof eps, "%g", static_cast<double>(c.layer.layer_norm_eps));
  line("LayerNorm eps", eps, "1e-12");
  line("norm placement", c.layer.norm_first ? "pre (x + f(LN(x)))" : "post (LN(x + f(x)))", "post (LN(x + f(x)))");
  line("mask constant", arch.explain.mask, bert.explain.mask);
  const int64_t stored = static_cast<int64_t>(plan.weight_keys.size()), steps = static_cast<int64_t>(plan.steps.size());
  line("layer weights", std::to_string(stored) + " stored layer(s) run as " + std::to_string(steps) + " steps",
       std::to_string(steps) + " stored layer(s) run as " + std::to_string(steps) + " steps");
  line("pooler", c.has_pooler ? "tanh(Linear(h[first token]))" : "none", "tanh(Linear(h[first token]))");
  line("layer notes", arch.explain.norm_placement, bert.explain.norm_placement);
  if (!c.head.class_name.empty()) line("task head", c.head.class_name, "BertFor* heads");
  if (!c.head.absent_class.empty())
    line("task head", "none stored (config.json names " + c.head.absent_class + ")", "BertFor* heads");
  if (n == 0) std::printf("  nothing: this is BERT\n");
}

// Why a PyTorch TransformerEncoderLayer cannot compute this model's layer ("" when it can).
std::string torch_layer_gap(const ModelConfig& c, const LayerPlan& plan) {
  const Activation a = c.layer.feed_forward.activation;
  if (a != Activation::GeluErf && a != Activation::Relu)
    return std::string("its activation is ") + activation_name(a) + " (TransformerEncoderLayer has relu and erf gelu)";
  if (c.layer.attention.relative != RelativePositions::None)
    return "relative position scores are inside its attention (TransformerEncoderLayer has none)";
  if (plan.steps.empty() || !plan.steps[0].ends_depth)
    return "its first hidden state is several layers deep (layers run as groups)";
  return "";
}

void print_table() {
  std::printf(
      "One encoder layer, %zu spellings (N = layer index). All compute\n"
      "  x = LN1(x + Dropout(OutProj(Attention(QKV(x)))));  x = LN2(x + Dropout(W2(Act(W1(x)))))\n",
      architectures().size());
  row("Q, K, V projection", [](const Architecture& a) { return qkv_names(a.names); });
  row("attention output projection (this is PyTorch's out_proj, not an extra Linear)",
      [](const Architecture& a) { return with_shape(a.names.attention_out); });
  row("LayerNorm after attention", [](const Architecture& a) { return layer_name(a.names.attention_norm.gamma); });
  row("FFN in", [](const Architecture& a) { return with_shape(a.names.ffn_in); });
  row("FFN out", [](const Architecture& a) { return with_shape(a.names.ffn_out); });
  row("LayerNorm after FFN", [](const Architecture& a) { return layer_name(a.names.ffn_norm.gamma); });
  row("activation", [](const Architecture& a) { return a.explain.activation; });
  row("LayerNorm eps", [](const Architecture& a) { return a.explain.layer_norm_eps; });
  row("mask constant", [](const Architecture& a) { return a.explain.mask; });
  row("fully masked query row", [](const Architecture& a) { return a.explain.fully_masked_row; });
  row("dropout positions (training only)", [](const Architecture& a) { return a.explain.dropout; });
  row("norm placement", [](const Architecture& a) { return a.explain.norm_placement; });
  const long long H = 768, I = 3072;
  const std::string params = std::to_string(4 * H * H + 2 * H * I + 9 * H + I) + " at H=768, I=3072 (4H^2 + 2HI + 9H + I)";
  row("parameters per layer", [&](const Architecture&) { return params; });
}

int run_explain(const std::vector<std::string>& argv) {
  Args args(argv, {"model"}, {});
  print_table();
  auto dir = args.get("model");
  if (!dir) return 0;
  Model bert = Model::load(*dir);
  const ModelConfig& c = bert.config();
  const Architecture& arch = architecture(c.dialect);
  ENCORE_CHECK(arch.embeddings == EmbeddingsKind::Tokens, *dir, " is already a PyTorch encoder: nothing to compare");
  std::printf("\n== %s (%s, %lld layers, H=%lld, I=%lld, %s)\n", dir->c_str(), dialect_name(c.dialect),
              static_cast<long long>(c.layers), static_cast<long long>(c.hidden),
              static_cast<long long>(c.intermediate), c.layer.feed_forward.activation_label.c_str());
  const std::filesystem::path config_file = std::filesystem::path(resolve_model_path(*dir)) / arch.config_file;
  const ConfigReader reader{read_json(config_file), config_file.string()};
  const LayerPlan plan = arch.plan ? arch.plan(reader, c) : one_layer_per_depth(c.layers);
  print_differences(c, arch, plan);
  if (const std::string gap = torch_layer_gap(c, plan); !gap.empty()) {
    std::printf("\nno PyTorch TransformerEncoderLayer comparison: %s.\n", gap.c_str());
    return 0;
  }

  // Layer 0 of the BERT model, fed by its own embeddings.
  const int64_t S = std::min<int64_t>(16, c.max_length);
  Tensor ids = Tensor::zeros(DType::I64, {1, S});
  for (int64_t j = 0; j < S; ++j) ids.data<int64_t>()[j] = (j * 7919 + 101) % c.vocab_size;
  ForwardOptions all;
  all.all_hidden = true;
  TensorMap out = bert.forward({{arch.io.ids, ids}}, all);
  const ForwardNames& io = arch.io;
  const std::string in_name = io.hidden_counts_embeddings ? io.hidden + "0" : io.embedding_output;
  const std::string out_name = io.hidden + (io.hidden_counts_embeddings ? "1" : "0");

  // The same layer as a PyTorch TransformerEncoderLayer.
  const auto tmp = std::filesystem::temp_directory_path() / ("encore-explain-" + std::to_string(std::random_device{}()));
  export_torch_encoder(bert, 0, 1, tmp.string());
  Model torch = Model::load(tmp.string());
  TensorMap t = torch.forward({{"src", out.at(in_name)}});
  std::filesystem::remove_all(tmp);

  const Tensor& a = out.at(out_name);
  const Tensor& b = t.at("output");
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a.data<float>()[i] - b.data<float>()[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(a.data<float>()[i])));
  }
  const int64_t per_layer = [&] {
    const int64_t H = c.hidden, I = c.intermediate;
    return 4 * H * H + 2 * H * I + 9 * H + I;
  }();
  std::printf(
      "layer 0 as BertLayer vs as nn.TransformerEncoderLayer(d_model=%lld, nhead=%lld, dim_feedforward=%lld,\n"
      "  activation=\"%s\", layer_norm_eps=%g, batch_first=True), weights renamed and q|k|v packed:\n"
      "  parameters: %lld vs %lld\n"
      "  max |difference| over %lld outputs: %.3g (outputs up to %.3g)\n",
      static_cast<long long>(c.hidden), static_cast<long long>(c.heads), static_cast<long long>(c.intermediate),
      c.layer.feed_forward.activation == Activation::Relu ? "relu" : "gelu",
      static_cast<double>(c.layer.layer_norm_eps), static_cast<long long>(per_layer),
      static_cast<long long>(torch.parameter_count()), static_cast<long long>(a.numel()), diff, scale);
  return diff <= 1e-5 * std::max(1.0, scale) ? 0 : 1;
}

const bool registered = register_command(
    {"explain", "the three reference layers side by side; prove a model's layer equals PyTorch's", kUsage,
     &run_explain});

}  // namespace
}  // namespace encore::cli
