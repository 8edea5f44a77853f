// What BERT's record shares with the architectures whose transformers code copies BERT's
// (RoBERTa, XLM-R, CamemBERT: "# Copied from transformers.models.bert.modeling_bert").
#pragma once

#include "models/architecture.h"

namespace encore {

// BertConfig's keys and defaults (models/bert/configuration_bert.py) as a ModelConfig.
ModelConfig parse_bert_config(const ConfigReader& r);
// BertModel's module names (models/bert/modeling_bert.py), unprefixed.
BodyNames bert_body_names();
// BertModel's forward arguments and outputs.
ForwardNames bert_forward_names();

}  // namespace encore
