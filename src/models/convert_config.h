// The config file of a converted directory, from the source's validated ModelConfig and its
// config file; refuses what the target cannot say. The BERT family's writers (config.json,
// bert_config.json) are the bert-hf and bert-google records' write_config.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

struct Architecture;

struct ConfigInput {
  const ModelConfig& config;     // as Model::load parsed it (activation override applied)
  const nlohmann::json& source;  // the source's config file
  const Architecture& from;
  const std::map<std::string, Tensor>& canonical;  // the tensors under canonical names (convert_names.h)
  bool activation_override = false;                // --activation was given
  bool encoder_only = false;                       // a PyTorch encoder under BERT names
};

// HF config.json; `canonical` tells the head and label count.
nlohmann::json hf_config(const ConfigInput& in, std::vector<std::string>& notes);
// Google bert_config.json.
nlohmann::json google_config(const ConfigInput& in, std::vector<std::string>& notes);
// The source's config as it is (a conversion within one layout: e.g. pytorch_model.bin to
// safetensors), with --activation written in transformers' spelling.
nlohmann::json same_config(const ConfigInput& in);

}  // namespace encore
