// MPNet: BERT-shaped post-norm layers under its own names, RoBERTa-style positions numbered
// from the ids with padding_idx 1 whatever pad_token_id says, no token types, and one
// relative position bias table shared by every layer, bucketed by key - query distance and
// added to the scaled scores before the mask. References: transformers 4.57.6
// models/mpnet/modeling_mpnet.py, configuration_mpnet.py; docs/encoder-family.md.
#include "models/arch_bert.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  BertConfigDefaults d;  // MPNetConfig (configuration_mpnet.py:L83-97)
  d.vocab_size = 30527;
  ModelConfig c = parse_bert_config(r, d);
  c.type_vocab_size = 0;  // no token types (L104, forward L450-460)
  // MPNetEmbeddings hard-codes padding_idx = 1 (L71) for create_position_ids_from_input_ids
  // (L84-86, L947-955).
  c.positions_from_ids = true;
  c.padding_idx = 1;
  c.max_length = c.max_positions - c.padding_idx - 1;
  // encoder.relative_attention_bias [relative_attention_num_buckets, heads] (L319): the
  // config sizes the table; the bucketing always uses 32 buckets (L331, L363).
  c.layer.attention.relative = RelativePositions::Bucket;
  c.layer.attention.max_relative = static_cast<int>(r.integer("relative_attention_num_buckets", 32));
  return c;
}

BodyNames names() {
  BodyNames n;
  n.prefix = "mpnet.";
  n.word = "embeddings.word_embeddings.weight";  // L72-77
  n.position = "embeddings.position_embeddings.weight";
  n.embedding_norm = {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  n.pooler = {"pooler.dense.weight", "pooler.dense.bias"};
  n.relative_attention_bias = "encoder.relative_attention_bias.weight";
  const std::string l = "encoder.layer.{i}.";  // L140-143, L208
  auto linear = [&](const std::string& name) { return LinearNames{l + name + ".weight", l + name + ".bias"}; };
  n.query = linear("attention.attn.q");
  n.key = linear("attention.attn.k");
  n.value = linear("attention.attn.v");
  n.attention_out = linear("attention.attn.o");
  n.attention_norm = {l + "attention.LayerNorm.weight", l + "attention.LayerNorm.bias"};
  n.ffn_in = linear("intermediate.dense");
  n.ffn_out = linear("output.dense");
  n.ffn_norm = {l + "output.LayerNorm.weight", l + "output.LayerNorm.bias"};
  return n;
}

std::vector<HeadSpec> heads() {
  // MPNetLMHead (L579-604): decoder(layer_norm(gelu(dense(h)))), gelu the erf form (L598);
  // decoder tied to the word embeddings (L509), bias lm_head.bias.
  HeadPart mlm;
  mlm.dense = {"lm_head.dense.weight", "lm_head.dense.bias"};
  mlm.activation = HeadActivation::GeluErf;
  mlm.norm = {"lm_head.layer_norm.weight", "lm_head.layer_norm.bias"};
  mlm.out = {"lm_head.decoder.weight", "lm_head.bias"};
  mlm.out_bias_copy = "lm_head.decoder.bias";
  mlm.rows = HeadRows::Vocab;
  mlm.outputs = {"logits"};
  // MPNetClassificationHead (L852-868): out_proj(tanh(dense(h[:, 0]))).
  HeadPart classifier;
  classifier.input = HeadInput::FirstToken;
  classifier.dense = {"classifier.dense.weight", "classifier.dense.bias"};
  classifier.activation = HeadActivation::Tanh;
  classifier.out = {"classifier.out_proj.weight", "classifier.out_proj.bias"};
  classifier.outputs = {"logits"};
  return {
      {"MPNetForMaskedLM", {}, TaskHead::MaskedLM, mlm, std::nullopt},
      {"MPNetForQuestionAnswering", {}, TaskHead::QuestionAnswering,  // L878, L912-915
       qa_outputs(),
       std::nullopt},
      {"MPNetForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt, classifier},
      {"MPNetForTokenClassification", {}, TaskHead::TokenClassification,  // L794, L833
       token_classifier(), std::nullopt},
  };
}

Architecture record() {
  Architecture a;
  a.name = "mpnet";
  a.reference = "transformers MPNetModel (config.json, HF module names, relative attention bias)";
  a.config_file = "config.json";
  a.model_types = {"mpnet"};  // configuration_mpnet.py:L79
  a.detect_order = 1;
  a.family = "mpnet";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.position_buckets = 32;  // compute_position_bias(num_buckets=32), relative_position_bucket(max_distance=128)
  a.position_max_distance = 128;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.inputs = {"input_ids", "attention_mask", "position_ids", "head_mask"};
  a.io.types = "";
  a.explain = {"hidden_act as BERT; the MLM head's gelu is always erf",
               "layer_norm_eps, default 1e-12 (published checkpoints: 1e-05)",
               "(1 - mask) * float32 min after scaling and the position bias",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post; one bucketed position bias shared by every layer"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
