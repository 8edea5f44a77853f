// encore explain: the three reference layers side by side, and, given a model, proof by
// computation that its BERT layer and a PyTorch TransformerEncoderLayer are the same math.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "cli.h"
#include "encore/model.h"
#include "models/dialects.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore explain [--model DIR]\n\n"
    "Prints Google BERT, HF BertLayer and torch TransformerEncoderLayer operation by operation:\n"
    "weight names, activation, LayerNorm eps, mask constant, dropout positions, parameters.\n"
    "With --model (a BERT model with erf GELU or ReLU), also runs its first layer as a PyTorch\n"
    "TransformerEncoderLayer (weights renamed, Q/K/V packed into in_proj_weight) and prints\n"
    "the largest difference between the two.\n\n"
    "example:\n"
    "  encore explain --model models/all-MiniLM-L6-v2";

const Dialect kDialects[] = {Dialect::BertGoogle, Dialect::BertHF, Dialect::Torch};

std::string layer_name(const std::string& pattern) {
  std::string s = pattern;
  size_t at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, "N");
  return s;
}

// "prefix{query,key,value}suffix" from the three projection names of a BERT dialect.
std::string qkv_names(const WeightNames& n) {
  if (!n.qkv_w.empty()) return layer_name(n.qkv_w) + "  [3E, E], packed q|k|v";
  const std::string q = layer_name(n.q_w), k = layer_name(n.k_w), v = layer_name(n.v_w);
  size_t a = 0, b = 0;  // common prefix and suffix of the three names
  while (a < q.size() && q[a] == k[a] && q[a] == v[a]) ++a;
  while (b < q.size() - a && q[q.size() - 1 - b] == k[k.size() - 1 - b] && q[q.size() - 1 - b] == v[v.size() - 1 - b])
    ++b;
  return q.substr(0, a) + "{query,key,value}" + q.substr(q.size() - b) +
         (n.kernels_in_out ? "  [in, out] x3" : "  [out, in] x3");
}

void row(const char* what, const std::string (&cells)[3]) {
  std::printf("\n%s\n", what);
  for (int i = 0; i < 3; ++i) std::printf("  %-12s %s\n", dialect_name(kDialects[i]), cells[i].c_str());
}

std::string with_shape(const std::string& name, const WeightNames& n) {
  return layer_name(name) + (n.kernels_in_out ? "  [in, out]" : "  [out, in]");
}

std::string fill(float v) {
  if (std::isinf(v)) return "-inf (bool masks; float masks are added as given)";
  if (v == std::numeric_limits<float>::lowest()) return "(1 - mask) * float32 min, added after scaling";
  return "(1 - mask) * " + std::to_string(static_cast<int>(v)) + ", added after scaling";
}

void print_table() {
  WeightNames n[3];
  LayerSpec s[3];
  for (int i = 0; i < 3; ++i) n[i] = weight_names(kDialects[i]), s[i] = default_spec(kDialects[i]);
  std::printf("One encoder layer, three spellings (N = layer index). All three compute\n"
              "  x = LN1(x + Dropout(OutProj(Attention(QKV(x)))));  x = LN2(x + Dropout(W2(Act(W1(x)))))\n");
  row("Q, K, V projection", {qkv_names(n[0]), qkv_names(n[1]), qkv_names(n[2])});
  row("attention output projection (this is PyTorch's out_proj, not an extra Linear)",
      {with_shape(n[0].out_w, n[0]), with_shape(n[1].out_w, n[1]), with_shape(n[2].out_w, n[2])});
  row("LayerNorm after attention", {layer_name(n[0].ln1_g), layer_name(n[1].ln1_g), layer_name(n[2].ln1_g)});
  row("FFN in", {with_shape(n[0].ffn_in_w, n[0]), with_shape(n[1].ffn_in_w, n[1]), with_shape(n[2].ffn_in_w, n[2])});
  row("FFN out", {with_shape(n[0].ffn_out_w, n[0]), with_shape(n[1].ffn_out_w, n[1]), with_shape(n[2].ffn_out_w, n[2])});
  row("LayerNorm after FFN", {layer_name(n[0].ln2_g), layer_name(n[1].ln2_g), layer_name(n[2].ln2_g)});
  row("activation", {"gelu() in modeling.py is the tanh approximation (erf before Feb 2019)",
                     "hidden_act: \"gelu\" = exact erf; gelu_new / gelu_pytorch_tanh / gelu_fast = tanh",
                     "activation=\"relu\" (default) or \"gelu\" = exact erf"});
  row("LayerNorm eps", {"1e-12 (fixed)", "layer_norm_eps, default 1e-12", "layer_norm_eps, default 1e-5"});
  row("mask constant",
      {fill(s[0].attention.mask_fill), fill(s[1].attention.mask_fill), fill(s[2].attention.mask_fill)});
  row("fully masked query row", {"softmax of the unmasked scores (the -10000 shift cancels)",
                                 "uniform over all keys (score + float32 min rounds to float32 min)",
                                 "zero weights (safe softmax), so the output is out_proj.bias"});
  row("dropout positions (training only)",
      {"embeddings; attention probs; after out-proj; after FFN out",
       "embeddings; attention probs; after out-proj; after FFN out",
       "attention probs; after out-proj; between linear1 and linear2; after linear2"});
  row("norm placement", {"post", "post", "post (norm_first=False) or pre (norm_first=True)"});
  const long long H = 768, I = 3072;
  const std::string params = std::to_string(4 * H * H + 2 * H * I + 9 * H + I) + " at H=768, I=3072 (4H^2 + 2HI + 9H + I)";
  row("parameters per layer", {params, params, params});
}

int run_explain(const std::vector<std::string>& argv) {
  Args args(argv, {"model"}, {});
  print_table();
  auto dir = args.get("model");
  if (!dir) return 0;
  Model bert = Model::load(*dir);
  const ModelConfig& c = bert.config();
  ENCORE_CHECK(c.dialect != Dialect::Torch, *dir, " is already a PyTorch encoder: nothing to compare");
  std::printf("\n== %s (%s, %lld layers, H=%lld, I=%lld, %s)\n", dir->c_str(), dialect_name(c.dialect),
              static_cast<long long>(c.layers), static_cast<long long>(c.hidden),
              static_cast<long long>(c.intermediate), c.layer.feed_forward.activation_label.c_str());

  // Layer 0 of the BERT model, fed by its own embeddings.
  const int64_t S = std::min<int64_t>(16, c.max_positions);
  Tensor ids = Tensor::zeros(DType::I64, {1, S});
  for (int64_t j = 0; j < S; ++j) ids.data<int64_t>()[j] = (j * 7919 + 101) % c.vocab_size;
  ForwardOptions all;
  all.all_hidden = true;
  TensorMap out = bert.forward({{"input_ids", ids}}, all);
  const std::string in_name = c.dialect == Dialect::BertHF ? "hidden_states.0" : "embedding_output";
  const std::string out_name = c.dialect == Dialect::BertHF ? "hidden_states.1" : "all_encoder_layers.0";

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
