// PyTorch's nn.TransformerEncoder(TransformerEncoderLayer, num_layers, norm): a state_dict
// plus the sidecar transformer_encoder.json that says what the state_dict cannot
// (tests/fixtures/README.md). Reference: torch/nn/modules/transformer.py.
#include <limits>

#include "models/architecture.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  const std::string format = r.string("encore_format", "");
  ENCORE_CHECK(format == "torch.nn.TransformerEncoder", r.file,
               ": encore_format must be \"torch.nn.TransformerEncoder\"");
  ModelConfig c;
  c.layers = r.integer("num_layers", std::nullopt, 0);
  c.hidden = r.integer("d_model", std::nullopt);
  c.heads = r.integer("nhead", std::nullopt);
  c.intermediate = r.integer("dim_feedforward", 2048);
  r.check_heads(c, "d_model", "nhead");
  const std::string act = r.string("activation", "relu");
  ENCORE_CHECK(act == "relu" || act == "gelu", r.file, ": activation '", act, "' is not supported (relu or gelu)");
  c.layer.feed_forward.activation = act == "relu" ? Activation::Relu : Activation::GeluErf;
  c.layer.feed_forward.activation_label = act;
  c.layer.layer_norm_eps = static_cast<float>(r.number("layer_norm_eps", 1e-5));
  c.layer.norm_first = r.boolean("norm_first", false);
  c.layer.bias = r.boolean("bias", true);
  const float p = r.probability("dropout", 0.1);
  c.layer.attention.dropout = c.layer.hidden_dropout = c.layer.feed_forward.dropout = p;
  // Bool masks become -inf; a query row with every key -inf gets zero weights (safe softmax).
  c.layer.attention.mask_fill = -std::numeric_limits<float>::infinity();
  c.layer.attention.masked_row_zero = true;
  c.batch_first = r.boolean("batch_first", false);
  c.final_norm = r.boolean("final_norm", false);
  c.has_pooler = false;
  return c;
}

BodyNames names() {
  BodyNames n;
  const std::string l = "layers.{i}.";
  n.qkv = {l + "self_attn.in_proj_weight", l + "self_attn.in_proj_bias"};
  n.attention_out = {l + "self_attn.out_proj.weight", l + "self_attn.out_proj.bias"};
  n.attention_norm = {l + "norm1.weight", l + "norm1.bias"};
  n.ffn_in = {l + "linear1.weight", l + "linear1.bias"};
  n.ffn_out = {l + "linear2.weight", l + "linear2.bias"};
  n.ffn_norm = {l + "norm2.weight", l + "norm2.bias"};
  n.final_norm = {"norm.weight", "norm.bias"};
  return n;
}

ForwardNames forward_names() {
  ForwardNames io;
  io.inputs = {"src", "mask", "src_key_padding_mask"};
  io.ids = "src";
  io.mask = "mask";
  io.key_padding = "src_key_padding_mask";
  io.types = io.positions = io.head_mask = io.pooled = io.attentions = "";
  io.last = "output";
  io.hidden = "layers.";  // each layer's output, before the final norm
  io.hidden_counts_embeddings = false;
  return io;
}

Architecture record() {
  Architecture a;
  a.name = "torch";
  a.aliases = {"pytorch"};
  a.reference = "PyTorch nn.TransformerEncoder (transformer_encoder.json + state_dict)";
  a.config_file = "transformer_encoder.json";
  a.detect_order = 0;
  a.family = "bert";  // the same layer math: BERT layers export to it, it converts back with --encoder-only
  a.layout = ConvertTarget::Torch;
  a.parse_config = parse_config;
  a.embeddings = EmbeddingsKind::None;
  a.names = names();
  a.io = forward_names();
  a.explain = {"activation=\"relu\" (default) or \"gelu\" = exact erf",
               "layer_norm_eps, default 1e-5",
               "-inf (bool masks; float masks are added as given)",
               "zero weights (safe softmax), so the output is out_proj.bias",
               "attention probs; after out-proj; between linear1 and linear2; after linear2",
               "post (norm_first=False) or pre (norm_first=True)"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
