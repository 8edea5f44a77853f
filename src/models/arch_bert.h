// What BERT's record shares with the architectures whose transformers code copies BERT's
// (RoBERTa, XLM-R, CamemBERT: "# Copied from transformers.models.bert.modeling_bert").
#pragma once

#include "models/architecture.h"

namespace encore {

// The defaults of a config class that has BertConfig's keys (RobertaConfig, ElectraConfig, ...).
struct BertConfigDefaults {
  int64_t vocab_size = 30522, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12,
          intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double dropout = 0.1;  // hidden_dropout_prob and attention_probs_dropout_prob
};

// BertConfig's keys (models/bert/configuration_bert.py) as a ModelConfig, with BertConfig's
// defaults unless given others.
ModelConfig parse_bert_config(const ConfigReader& r, const BertConfigDefaults& d);
ModelConfig parse_bert_config(const ConfigReader& r);
// BertModel's module names (models/bert/modeling_bert.py), unprefixed.
BodyNames bert_body_names();
// BertModel's forward arguments and outputs.
ForwardNames bert_forward_names();

}  // namespace encore
