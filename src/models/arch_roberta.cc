// RoBERTa, and XLM-RoBERTa and CamemBERT, whose transformers code is RoBERTa's line for line
// ("# Copied from transformers.models.roberta.modeling_roberta", e.g.
// models/xlm_roberta/modeling_xlm_roberta.py:L50, models/camembert/modeling_camembert.py:L50)
// and whose heads keep RoBERTa's weight prefix (base_model_prefix = "roberta"). RoBERTa is
// BERT (its modules are copies of BertModel's) but for the position ids, numbered from the
// token ids, and its heads. References: transformers 4.57.6 models/roberta/modeling_roberta.py,
// configuration_roberta.py; docs/encoder-family.md.
#include "models/arch_bert.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  // RobertaConfig has BertConfig's keys and defaults but vocab_size 50265
  // (configuration_roberta.py:L101); XLMRobertaConfig and CamembertConfig keep 30522.
  BertConfigDefaults d;
  if (r.string("model_type", "") == "roberta") d.vocab_size = 50265;
  ModelConfig c = parse_bert_config(r, d);
  // create_position_ids_from_input_ids (L1537-1550) with padding_idx = pad_token_id (L76-79),
  // default 1 (configuration_roberta.py:L113): positions padding_idx + 1 .. for the tokens,
  // so the longest sequence is max_position_embeddings - padding_idx - 1.
  c.positions_from_ids = true;
  c.padding_idx = r.integer("pad_token_id", 1, 0);
  ENCORE_CHECK(c.padding_idx < c.vocab_size && c.padding_idx + 1 < c.max_positions, r.file, ": pad_token_id ",
               c.padding_idx, " leaves no position for a token (vocab_size ", c.vocab_size,
               ", max_position_embeddings ", c.max_positions, ")");
  c.max_length = c.max_positions - c.padding_idx - 1;
  return c;
}

// RobertaLMHead (L1108-1128): decoder(layer_norm(gelu(dense(h)))), gelu the exact erf form
// whatever hidden_act says (L1122), eps layer_norm_eps (L1114); the decoder is the word
// embeddings (tied, L1017) and its bias lm_head.bias (L1117-1118).
HeadPart masked_lm() {
  HeadPart p;
  p.dense = {"lm_head.dense.weight", "lm_head.dense.bias"};
  p.activation = HeadActivation::GeluErf;
  p.norm = {"lm_head.layer_norm.weight", "lm_head.layer_norm.bias"};
  p.out = {"lm_head.decoder.weight", "lm_head.bias"};
  p.out_bias_copy = "lm_head.decoder.bias";
  p.rows = HeadRows::Vocab;
  p.outputs = {"logits"};
  return p;
}

// RobertaClassificationHead (L1426-1445): out_proj(tanh(dense(h[:, 0]))) on <s>, not the
// pooler (the body is built without one, L1152).
HeadPart sequence_classifier() {
  HeadPart p;
  p.input = HeadInput::FirstToken;
  p.dense = {"classifier.dense.weight", "classifier.dense.bias"};
  p.activation = HeadActivation::Tanh;
  p.out = {"classifier.out_proj.weight", "classifier.out_proj.bias"};
  p.outputs = {"logits"};
  return p;
}

// The same heads under the three model types' class names.
std::vector<std::string> also(const char* task) {
  return {std::string("XLMRoberta") + task, std::string("Camembert") + task};
}

std::vector<HeadSpec> heads() {
  return {
      {"RobertaForMaskedLM", also("ForMaskedLM"), TaskHead::MaskedLM, masked_lm(), std::nullopt},
      {"RobertaForQuestionAnswering", also("ForQuestionAnswering"), TaskHead::QuestionAnswering,  // L1455, L1502
       qa_outputs(),
       std::nullopt},
      {"RobertaForSequenceClassification", also("ForSequenceClassification"), TaskHead::SequenceClassification,
       std::nullopt, sequence_classifier()},
      {"RobertaForTokenClassification", also("ForTokenClassification"), TaskHead::TokenClassification,  // L1356
       token_classifier(), std::nullopt},
  };
}

Architecture record() {
  Architecture a;
  a.name = "roberta";
  a.aliases = {"xlm-roberta", "camembert"};
  a.reference = "transformers RobertaModel / XLMRobertaModel / CamembertModel (config.json, HF module names)";
  a.config_file = "config.json";
  a.model_types = {"roberta", "xlm-roberta", "camembert"};  // configuration_*.py model_type (L97, L98, L97)
  a.detect_order = 1;
  a.family = "roberta";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.names = bert_body_names();
  a.names.prefix = "roberta.";
  a.heads = heads();
  a.io = bert_forward_names();
  a.explain = {"hidden_act as BERT (published checkpoints: gelu = exact erf); the MLM head's gelu is always erf",
               "layer_norm_eps, default 1e-12 (published checkpoints: 1e-05)",
               "(1 - mask) * float32 min, added after scaling; positions numbered from the ids",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
