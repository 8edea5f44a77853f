// Typed lookups into a model's config file, with defaults and range checks; every error
// names the file and the key.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "encore/model.h"

namespace encore {

struct ConfigReader {
  const nlohmann::json& j;
  std::string file;

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
  int64_t integer(const char* key, std::optional<int64_t> fallback, int64_t min_value = 1) const;
  double number(const char* key, double fallback) const;
  std::string string(const char* key, const std::string& fallback) const;
  bool boolean(const char* key, bool fallback) const;
  float probability(const char* key, double fallback) const;  // in [0, 1]
  Activation activation(const std::string& name) const;       // activation_from_name, naming the file
  // hidden must split evenly into heads ("hidden_size ... is not a multiple of ...").
  void check_heads(const ModelConfig& c, const char* hidden_key, const char* heads_key) const;
};

}  // namespace encore
