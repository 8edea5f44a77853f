// encore explain: every registered architecture's layer side by side (from the records), and,
// given a model, proof by computation that its layer and a PyTorch TransformerEncoderLayer
// are the same math.
#include <cstdio>
#include <string>

#include "cli.h"
#include "encore/explain.h"
#include "encore/model.h"

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

int run_explain(const std::vector<std::string>& argv) {
  Args args(argv, {"model"}, {});
  std::fputs(architecture_table().c_str(), stdout);
  auto dir = args.get("model");
  if (!dir) return 0;
  Model model = Model::load(*dir);
  const ModelConfig& c = model.config();
  const TorchLayerCheck check = check_against_torch_layer(model);  // throws for a PyTorch encoder
  std::printf("\n== %s (%s, %lld layers, H=%lld, I=%lld, %s)\n", dir->c_str(), dialect_name(c.dialect),
              static_cast<long long>(c.layers), static_cast<long long>(c.hidden),
              static_cast<long long>(c.intermediate), c.layer.feed_forward.activation_label.c_str());
  std::printf("\nhow it differs from BERT (transformers BertModel):\n%s", differences_from_bert(model).c_str());
  if (!check.gap.empty()) {
    std::printf("\nno PyTorch TransformerEncoderLayer comparison: %s.\n", check.gap.c_str());
    return 0;
  }
  std::printf(
      "layer 0 as BertLayer vs as nn.TransformerEncoderLayer(d_model=%lld, nhead=%lld, dim_feedforward=%lld,\n"
      "  activation=\"%s\", layer_norm_eps=%g, batch_first=True), weights renamed and q|k|v packed:\n"
      "  parameters: %lld vs %lld\n"
      "  max |difference| over %lld outputs: %.3g (outputs up to %.3g)\n",
      static_cast<long long>(c.hidden), static_cast<long long>(c.heads), static_cast<long long>(c.intermediate),
      c.layer.feed_forward.activation == Activation::Relu ? "relu" : "gelu",
      static_cast<double>(c.layer.layer_norm_eps), static_cast<long long>(check.parameters),
      static_cast<long long>(check.torch_parameters), static_cast<long long>(check.outputs), check.max_difference,
      check.max_output);
  return check.agrees() ? 0 : 1;
}

const bool registered = register_command(
    {"explain", "the three reference layers side by side; prove a model's layer equals PyTorch's", kUsage,
     &run_explain});

}  // namespace
}  // namespace encore::cli
