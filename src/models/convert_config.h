// The config file of a converted directory (config.json or bert_config.json), from the
// source's validated ModelConfig and its config file. Refuses what the target cannot say.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

struct ConfigInput {
  const ModelConfig& config;          // as Model::load parsed it (activation override applied)
  const nlohmann::json& source;       // the source's config file
  Dialect from;
  bool activation_override = false;   // --activation was given
  bool encoder_only = false;          // a PyTorch encoder under BERT names
};

// HF config.json. `canonical` (convert_names.h) tells the architecture and label count.
nlohmann::json hf_config(const ConfigInput& in, const std::map<std::string, Tensor>& canonical,
                         std::vector<std::string>& notes);
// Google bert_config.json.
nlohmann::json google_config(const ConfigInput& in, std::vector<std::string>& notes);

}  // namespace encore
