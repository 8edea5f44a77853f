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

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore explain [--model DIR]\n\n"
    "Prints the layer of every architecture encore knows (Google BERT, HF BertLayer, torch\n"
    "TransformerEncoderLayer, ...) operation by operation: weight names, activation, LayerNorm\n"
    "eps, mask constant, dropout positions, parameters; the names are the --dialect values.\n"
    "With --model (a post-norm model with erf GELU or ReLU), also runs its first layer as a PyTorch\n"
    "TransformerEncoderLayer (weights renamed, Q/K/V packed into in_proj_weight) and prints\n"
    "the largest difference between the two.\n\n"
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
