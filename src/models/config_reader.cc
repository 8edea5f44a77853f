#include "models/config_reader.h"

namespace encore {

int64_t ConfigReader::integer(const char* key, std::optional<int64_t> fallback, int64_t min_value) const {
  if (!has(key)) {
    ENCORE_CHECK(fallback.has_value(), file, ": missing required key '", key, "'");
    return *fallback;
  }
  ENCORE_CHECK(j[key].is_number_integer(), file, ": '", key, "' must be an integer");
  const int64_t v = j[key].get<int64_t>();
  ENCORE_CHECK(v >= min_value && v <= (int64_t{1} << 31), file, ": '", key, "' = ", v, " is out of range");
  return v;
}

double ConfigReader::number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  ENCORE_CHECK(j[key].is_number(), file, ": '", key, "' must be a number");
  return j[key].get<double>();
}

std::string ConfigReader::string(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  ENCORE_CHECK(j[key].is_string(), file, ": '", key, "' must be a string");
  return j[key].get<std::string>();
}

bool ConfigReader::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  ENCORE_CHECK(j[key].is_boolean(), file, ": '", key, "' must be true or false");
  return j[key].get<bool>();
}

float ConfigReader::probability(const char* key, double fallback) const {
  const double p = number(key, fallback);
  ENCORE_CHECK(p >= 0.0 && p <= 1.0, file, ": '", key, "' = ", p, " is not a probability");
  return static_cast<float>(p);
}

Activation ConfigReader::activation(const std::string& name) const {
  try {
    return activation_from_name(name);
  } catch (const Error& e) {
    fail(file, ": ", e.what());
  }
}

void ConfigReader::check_heads(const ModelConfig& c, const char* hidden_key, const char* heads_key) const {
  ENCORE_CHECK(c.hidden % c.heads == 0, file, ": ", hidden_key, " ", c.hidden, " is not a multiple of ", heads_key, " ",
               c.heads);
}

}  // namespace encore
