// ALBERT: factorized embeddings (tables embedding_size E wide, always projected to the hidden
// size by encoder.embedding_hidden_mapping_in, even when E = H) and layers shared across
// depth: the checkpoint stores num_hidden_groups groups of inner_group_num layers, and depth i
// runs every layer of group int(i / (L / G)). References: transformers 4.57.6
// models/albert/modeling_albert.py, configuration_albert.py; docs/encoder-family.md.
#include "models/arch_bert.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  BertConfigDefaults d;  // AlbertConfig (configuration_albert.py:L110-129)
  d.vocab_size = 30000, d.hidden_size = 4096, d.num_attention_heads = 64, d.intermediate_size = 16384;
  d.hidden_act = "gelu_new", d.dropout = 0.0;
  ModelConfig c = parse_bert_config(r, d);
  c.embedding_size = r.integer("embedding_size", 128);
  // Relative scores are added unscaled after the scaling and the mask (L311-332).
  c.layer.attention.relative_after_mask = true;
  return c;
}

// Depth i runs group g = int(i / (L / G)) (L519-524): its inner_group_num layers in turn
// (L475-477), layer j reading head_mask row g * int(L / G) + j (L527, L476); a hidden state
// is recorded per depth (L536-537), an attention map per layer run (L479-480, L533-534).
LayerPlan plan(const ConfigReader& r, const ModelConfig& c) {
  const int64_t L = c.layers, G = r.integer("num_hidden_groups", 1), inner = r.integer("inner_group_num", 1);
  const int64_t per_group = L / G;
  ENCORE_CHECK(L == 0 || inner <= per_group, r.file, ": inner_group_num ", inner,
               " exceeds num_hidden_layers / num_hidden_groups = ", per_group,
               ": transformers cannot run this model either (IndexError, modeling_albert.py L476)");
  LayerPlan p;
  for (int64_t g = 0; g < G; ++g)
    for (int64_t j = 0; j < inner; ++j) p.weight_keys.push_back(std::to_string(g) + ".albert_layers." + std::to_string(j));
  for (int64_t i = 0; i < L; ++i) {
    const int64_t g = static_cast<int64_t>(static_cast<double>(i) / (static_cast<double>(L) / static_cast<double>(G)));
    for (int64_t j = 0; j < inner; ++j)
      p.steps.push_back({{i * inner + j, g * inner + j, g * per_group + j}, 0, j == inner - 1});
  }
  return p;
}

BodyNames names() {
  BodyNames n;
  n.prefix = "albert.";
  n.word = "embeddings.word_embeddings.weight";  // L183-189
  n.position = "embeddings.position_embeddings.weight";
  n.token_type = "embeddings.token_type_embeddings.weight";
  n.embedding_norm = {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  n.embedding_projection = {"encoder.embedding_hidden_mapping_in.weight", "encoder.embedding_hidden_mapping_in.bias"};
  n.pooler = {"pooler.weight", "pooler.bias"};  // the Linear itself (L612-614)
  const std::string l = "encoder.albert_layer_groups.{i}.";  // {i} = "group.albert_layers.inner"
  auto linear = [&](const std::string& name) { return LinearNames{l + name + ".weight", l + name + ".bias"}; };
  n.query = linear("attention.query");  // L258-265
  n.key = linear("attention.key");
  n.value = linear("attention.value");
  n.distance = l + "attention.distance_embedding.weight";
  n.attention_out = linear("attention.dense");
  n.attention_norm = {l + "attention.LayerNorm.weight", l + "attention.LayerNorm.bias"};
  n.ffn_in = linear("ffn");  // L424-427
  n.ffn_out = linear("ffn_output");
  n.ffn_norm = {l + "full_layer_layer_norm.weight", l + "full_layer_layer_norm.bias"};
  return n;
}

// AlbertMLMHead (L844-863): decoder(LN_E(act(dense(h)))), dense H -> E, act = hidden_act;
// the decoder's weight and bias are tied (L889): the file holds predictions.bias.
HeadPart masked_lm(const char* output) {
  HeadPart p;
  p.dense = {"predictions.dense.weight", "predictions.dense.bias"};
  p.dense_to_embedding = true;
  p.activation = HeadActivation::Layer;
  p.norm = {"predictions.LayerNorm.weight", "predictions.LayerNorm.bias"};
  p.out = {"predictions.decoder.weight", "predictions.bias"};
  p.out_bias_copy = "predictions.decoder.bias";
  p.rows = HeadRows::Vocab;
  p.outputs = {output};
  return p;
}

std::vector<HeadSpec> heads() {
  const LinearNames classifier{"classifier.weight", "classifier.bias"};
  return {
      // AlbertForPreTraining (L742-750, L819-822, L874-884): the MLM head and the sentence-order
      // classifier on the pooler output.
      {"AlbertForPreTraining", {}, TaskHead::PreTraining, masked_lm("prediction_logits"),
       linear_head(HeadInput::Pooler, {"sop_classifier.classifier.weight", "sop_classifier.classifier.bias"}, HeadRows::Two,
          {"sop_logits"})},
      {"AlbertForMaskedLM", {}, TaskHead::MaskedLM, masked_lm("logits"), std::nullopt},
      {"AlbertForQuestionAnswering", {}, TaskHead::QuestionAnswering,  // L1165, L1201-1204
       qa_outputs(),
       std::nullopt},
      {"AlbertForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt,  // L1007, L1046-1049
       linear_head(HeadInput::Pooler, classifier, HeadRows::Labels, {"logits"})},
      {"AlbertForTokenClassification", {}, TaskHead::TokenClassification,  // L1099, L1139
       token_classifier(), std::nullopt},
  };
}

Architecture record() {
  Architecture a;
  a.name = "albert";
  a.reference = "transformers AlbertModel (config.json, HF module names, shared layer groups)";
  a.config_file = "config.json";
  a.model_types = {"albert"};  // configuration_albert.py:L106
  a.detect_order = 1;
  a.family = "albert";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.plan = plan;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.mask3d = false;  // a [B, S, S] mask raises (L706-708)
  a.explain = {"hidden_act, default gelu_new (the tanh form)",
               "layer_norm_eps, default 1e-12 (embedding LayerNorm over embedding_size)",
               "(1 - mask) * float32 min after scaling; relative scores after the mask",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post; num_hidden_groups x inner_group_num stored layers shared across depth"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
