#include "models/dialects.h"

#include <cmath>
#include <limits>

namespace encore {

const WeightNames& weight_names(Dialect dialect) {
  // transformers modeling_bert.py module names.
  static const WeightNames hf = [] {
    WeightNames n;
    n.word = "embeddings.word_embeddings.weight";
    n.position = "embeddings.position_embeddings.weight";
    n.token_type = "embeddings.token_type_embeddings.weight";
    n.emb_gamma = "embeddings.LayerNorm.weight";
    n.emb_beta = "embeddings.LayerNorm.bias";
    n.pooler_w = "pooler.dense.weight";
    n.pooler_b = "pooler.dense.bias";
    const std::string l = "encoder.layer.{i}.";
    n.q_w = l + "attention.self.query.weight", n.q_b = l + "attention.self.query.bias";
    n.k_w = l + "attention.self.key.weight", n.k_b = l + "attention.self.key.bias";
    n.v_w = l + "attention.self.value.weight", n.v_b = l + "attention.self.value.bias";
    n.out_w = l + "attention.output.dense.weight", n.out_b = l + "attention.output.dense.bias";
    n.ln1_g = l + "attention.output.LayerNorm.weight", n.ln1_b = l + "attention.output.LayerNorm.bias";
    n.ffn_in_w = l + "intermediate.dense.weight", n.ffn_in_b = l + "intermediate.dense.bias";
    n.ffn_out_w = l + "output.dense.weight", n.ffn_out_b = l + "output.dense.bias";
    n.ln2_g = l + "output.LayerNorm.weight", n.ln2_b = l + "output.LayerNorm.bias";
    n.distance = l + "attention.self.distance_embedding.weight";
    n.optional_prefix = "bert.";
    return n;
  }();
  // google-research/bert modeling.py variable scopes.
  static const WeightNames google = [] {
    WeightNames n;
    n.word = "bert/embeddings/word_embeddings";
    n.position = "bert/embeddings/position_embeddings";
    n.token_type = "bert/embeddings/token_type_embeddings";
    n.emb_gamma = "bert/embeddings/LayerNorm/gamma";
    n.emb_beta = "bert/embeddings/LayerNorm/beta";
    n.pooler_w = "bert/pooler/dense/kernel";
    n.pooler_b = "bert/pooler/dense/bias";
    const std::string l = "bert/encoder/layer_{i}/";
    n.q_w = l + "attention/self/query/kernel", n.q_b = l + "attention/self/query/bias";
    n.k_w = l + "attention/self/key/kernel", n.k_b = l + "attention/self/key/bias";
    n.v_w = l + "attention/self/value/kernel", n.v_b = l + "attention/self/value/bias";
    n.out_w = l + "attention/output/dense/kernel", n.out_b = l + "attention/output/dense/bias";
    n.ln1_g = l + "attention/output/LayerNorm/gamma", n.ln1_b = l + "attention/output/LayerNorm/beta";
    n.ffn_in_w = l + "intermediate/dense/kernel", n.ffn_in_b = l + "intermediate/dense/bias";
    n.ffn_out_w = l + "output/dense/kernel", n.ffn_out_b = l + "output/dense/bias";
    n.ln2_g = l + "output/LayerNorm/gamma", n.ln2_b = l + "output/LayerNorm/beta";
    n.kernels_in_out = true;
    return n;
  }();
  // torch/nn/modules/transformer.py TransformerEncoder / TransformerEncoderLayer.
  static const WeightNames torch = [] {
    WeightNames n;
    const std::string l = "layers.{i}.";
    n.qkv_w = l + "self_attn.in_proj_weight", n.qkv_b = l + "self_attn.in_proj_bias";
    n.out_w = l + "self_attn.out_proj.weight", n.out_b = l + "self_attn.out_proj.bias";
    n.ln1_g = l + "norm1.weight", n.ln1_b = l + "norm1.bias";
    n.ffn_in_w = l + "linear1.weight", n.ffn_in_b = l + "linear1.bias";
    n.ffn_out_w = l + "linear2.weight", n.ffn_out_b = l + "linear2.bias";
    n.ln2_g = l + "norm2.weight", n.ln2_b = l + "norm2.bias";
    n.final_g = "norm.weight", n.final_b = "norm.bias";
    return n;
  }();
  switch (dialect) {
    case Dialect::BertHF: return hf;
    case Dialect::BertGoogle: return google;
    case Dialect::Torch: return torch;
  }
  return hf;
}

LayerSpec default_spec(Dialect dialect) {
  LayerSpec s;
  switch (dialect) {
    case Dialect::BertHF:  // BertConfig defaults; mask: (1 - mask) * torch.finfo(float32).min
      s.feed_forward.activation = Activation::GeluErf, s.feed_forward.activation_label = "gelu";
      s.layer_norm_eps = 1e-12f;
      s.attention.mask_fill = std::numeric_limits<float>::lowest();
      break;
    case Dialect::BertGoogle:  // modeling.py: gelu() is the tanh form; adder = (1 - mask) * -10000.0
      s.feed_forward.activation = Activation::GeluTanh,
      s.feed_forward.activation_label = "gelu (modeling.py tanh form)";
      s.layer_norm_eps = 1e-12f;
      s.attention.mask_fill = -10000.0f;
      break;
    case Dialect::Torch:  // TransformerEncoderLayer defaults; bool masks become -inf
      s.feed_forward.activation = Activation::Relu, s.feed_forward.activation_label = "relu";
      s.layer_norm_eps = 1e-5f;
      s.attention.mask_fill = -std::numeric_limits<float>::infinity();
      s.attention.masked_row_zero = true;
      break;
  }
  return s;
}

const char* dialect_name(Dialect d) {
  switch (d) {
    case Dialect::BertHF: return "bert-hf";
    case Dialect::BertGoogle: return "bert-google";
    case Dialect::Torch: return "torch";
  }
  return "?";
}

Dialect dialect_from_name(const std::string& name) {
  if (name == "bert-hf" || name == "hf") return Dialect::BertHF;
  if (name == "bert-google" || name == "google") return Dialect::BertGoogle;
  if (name == "torch" || name == "pytorch") return Dialect::Torch;
  fail("unknown dialect '", name, "' (expected bert-hf, bert-google or torch)");
}

Activation activation_from_name(const std::string& name) {
  // transformers activations.py ACT2FN names that BERT checkpoints use.
  if (name == "gelu" || name == "gelu_python" || name == "gelu_erf") return Activation::GeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast" || name == "gelu_tanh")
    return Activation::GeluTanh;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  fail("unsupported activation '", name,
       "' (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu, silu, gelu_erf, gelu_tanh)");
}

const char* compute_type_name(ComputeType t) {
  switch (t) {
    case ComputeType::F32: return "f32";
    case ComputeType::BF16: return "bf16";
    case ComputeType::Int8: return "int8";
  }
  return "?";
}

ComputeType compute_type_from_name(const std::string& name) {
  if (name == "f32" || name == "float32") return ComputeType::F32;
  if (name == "bf16" || name == "bfloat16") return ComputeType::BF16;
  if (name == "int8") return ComputeType::Int8;
  fail("unknown dtype '", name, "' (f32, bf16 or int8)");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::GeluErf: return "gelu_erf";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::QuickGelu: return "quick_gelu";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
  }
  return "?";
}

}  // namespace encore
