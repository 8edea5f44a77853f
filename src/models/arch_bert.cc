// BERT as transformers saves it (BertModel and the BertFor* heads: config.json,
// HF module names). References: transformers 4.57.6 models/bert/modeling_bert.py and
// configuration_bert.py.
#include "models/arch_bert.h"

#include <limits>

#include "models/convert_config.h"

namespace encore {

ModelConfig parse_bert_config(const ConfigReader& r) {
  return parse_bert_config(r, BertConfigDefaults{});
}

ModelConfig parse_bert_config(const ConfigReader& r, const BertConfigDefaults& d) {
  // Written by `encore convert --encoder-only` from a PyTorch encoder, which has no embeddings.
  ENCORE_CHECK(!r.boolean("encore_encoder_only", false), r.file,
               ": encoder layers only (encore convert --encoder-only), no embeddings: not a model that loads");
  ModelConfig c;
  c.vocab_size = r.integer("vocab_size", d.vocab_size);
  c.hidden = r.integer("hidden_size", d.hidden_size);
  c.layers = r.integer("num_hidden_layers", d.num_hidden_layers, 0);
  c.heads = r.integer("num_attention_heads", d.num_attention_heads);
  c.intermediate = r.integer("intermediate_size", d.intermediate_size);
  c.max_positions = r.integer("max_position_embeddings", 512);
  c.type_vocab_size = r.integer("type_vocab_size", 2);
  r.check_heads(c, "hidden_size", "num_attention_heads");
  const std::string act = r.string("hidden_act", d.hidden_act);  // ACT2FN: "gelu" is the exact erf form
  c.layer.feed_forward.activation = r.activation(act);
  c.layer.feed_forward.activation_label = act;
  c.layer.layer_norm_eps = static_cast<float>(r.number("layer_norm_eps", 1e-12));
  c.layer.hidden_dropout = r.probability("hidden_dropout_prob", d.dropout);
  c.layer.attention.dropout = r.probability("attention_probs_dropout_prob", d.dropout);
  // (1 - mask) * torch.finfo(float32).min (modeling_utils.py get_extended_attention_mask).
  c.layer.attention.mask_fill = std::numeric_limits<float>::lowest();
  const std::string pos = r.string("position_embedding_type", "absolute");
  if (pos == "relative_key")
    c.layer.attention.relative = RelativePositions::Key;
  else if (pos == "relative_key_query")
    c.layer.attention.relative = RelativePositions::KeyQuery;
  else
    ENCORE_CHECK(pos == "absolute", r.file, ": unknown position_embedding_type '", pos, "'");
  c.absolute_positions = pos == "absolute";
  c.layer.attention.max_relative = static_cast<int>(c.max_positions);
  c.embedding_size = c.hidden;
  c.embedding_norm_eps = c.layer.layer_norm_eps;
  c.embedding_dropout = c.layer.hidden_dropout;
  c.max_length = c.max_positions;
  return c;
}

BodyNames bert_body_names() {
  BodyNames n;
  n.prefix = "bert.";
  n.word = "embeddings.word_embeddings.weight";
  n.position = "embeddings.position_embeddings.weight";
  n.token_type = "embeddings.token_type_embeddings.weight";
  n.embedding_norm = {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  n.pooler = {"pooler.dense.weight", "pooler.dense.bias"};
  const std::string l = "encoder.layer.{i}.";
  n.query = {l + "attention.self.query.weight", l + "attention.self.query.bias"};
  n.key = {l + "attention.self.key.weight", l + "attention.self.key.bias"};
  n.value = {l + "attention.self.value.weight", l + "attention.self.value.bias"};
  n.distance = l + "attention.self.distance_embedding.weight";
  n.attention_out = {l + "attention.output.dense.weight", l + "attention.output.dense.bias"};
  n.attention_norm = {l + "attention.output.LayerNorm.weight", l + "attention.output.LayerNorm.bias"};
  n.ffn_in = {l + "intermediate.dense.weight", l + "intermediate.dense.bias"};
  n.ffn_out = {l + "output.dense.weight", l + "output.dense.bias"};
  n.ffn_norm = {l + "output.LayerNorm.weight", l + "output.LayerNorm.bias"};
  return n;
}

ForwardNames bert_forward_names() {
  ForwardNames io;
  io.inputs = {"input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask"};
  return io;  // the defaults are BertModel's names
}

namespace {

// cls.predictions (BertLMPredictionHead, modeling_bert.py L706-743): LN(act(dense(h))) with
// hidden_act, then the decoder tied to the word embeddings, plus cls.predictions.bias.
HeadPart masked_lm(const char* output) {
  HeadPart p;
  p.dense = {"cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias"};
  p.activation = HeadActivation::Layer;
  p.norm = {"cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"};
  p.out = {"cls.predictions.decoder.weight", "cls.predictions.bias"};
  p.out_bias_copy = "cls.predictions.decoder.bias";  // the same parameter, saved twice
  p.rows = HeadRows::Vocab;
  p.outputs = {output};
  return p;
}

HeadPart on_pooler(LinearNames out, HeadRows rows, const char* output) {
  HeadPart p;
  p.input = HeadInput::Pooler;
  p.out = std::move(out);
  p.rows = rows;
  p.outputs = {output};
  return p;
}

std::vector<HeadSpec> heads() {
  const LinearNames nsp{"cls.seq_relationship.weight", "cls.seq_relationship.bias"};
  const LinearNames classifier{"classifier.weight", "classifier.bias"};
  return {
      {"BertForPreTraining",
       {},
       TaskHead::PreTraining,
       masked_lm("prediction_logits"),
       on_pooler(nsp, HeadRows::Two, "seq_relationship_logits")},
      {"BertForMaskedLM", {"BertLMHeadModel"}, TaskHead::MaskedLM, masked_lm("logits"), std::nullopt},
      {"BertForNextSentencePrediction",
       {},
       TaskHead::NextSentence,
       std::nullopt,
       on_pooler(nsp, HeadRows::Two, "logits")},
      {"BertForQuestionAnswering",
       {},
       TaskHead::QuestionAnswering,  // L1717: logits.split(1, dim=-1)
       qa_outputs(),
       std::nullopt},
      {"BertForSequenceClassification",
       {},
       TaskHead::SequenceClassification,
       std::nullopt,
       on_pooler(classifier, HeadRows::Labels, "logits")},
      {"BertForTokenClassification",
       {},
       TaskHead::TokenClassification,
       token_classifier(),
       std::nullopt},
  };
}

Architecture record() {
  Architecture a;
  a.name = "bert-hf";
  a.aliases = {"hf"};
  a.reference = "transformers BertModel / BertFor* (config.json, HF module names)";
  a.config_file = "config.json";
  a.model_types = {"bert", ""};  // transformers reads a config without model_type as BERT here
  a.detect_order = 1;
  a.family = "bert";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_bert_config;
  a.write_config = hf_config;
  a.names = bert_body_names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.explain = {"hidden_act: \"gelu\" = exact erf; gelu_new / gelu_pytorch_tanh / gelu_fast = tanh",
               "layer_norm_eps, default 1e-12",
               "(1 - mask) * float32 min, added after scaling",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
