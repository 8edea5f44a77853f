// Loading the reference fixtures of tests/fixtures/core (see tests/fixtures/README.md).
#pragma once

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "encore/model.h"
#include "encore/safetensors.h"

namespace encore::testing {

struct FixtureCase {
  std::string model;  // directory name under core/
  std::string name;   // case name
  std::filesystem::path dir;
  nlohmann::json spec;  // the whole cases.json
  nlohmann::json options;
  nlohmann::json case_spec;  // this case's entry of cases.json
  std::string label() const { return model + "." + name; }
};

// gtest prints parameters with PrintTo (found by ADL): a short label instead of raw bytes.
inline void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.label(); }

inline std::filesystem::path core_fixtures_dir() { return std::filesystem::path(ENCORE_FIXTURES_DIR) / "core"; }

// Every case of every fixture directory under `root` (core/, family/).
inline std::vector<FixtureCase> all_cases(const std::filesystem::path& root) {
  std::vector<FixtureCase> out;
  if (!std::filesystem::exists(root)) return out;
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(root))
    if (std::filesystem::exists(e.path() / "cases.json")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    std::ifstream f(d / "cases.json");
    nlohmann::json j = nlohmann::json::parse(f);
    for (const auto& c : j["cases"]) {
      FixtureCase fc{d.filename().string(), c["name"].get<std::string>(), d, j,
                     c.value("options", nlohmann::json::object()), c};
      out.push_back(fc);
    }
  }
  return out;
}

inline std::vector<FixtureCase> all_core_cases() { return all_cases(core_fixtures_dir()); }

// A gtest parameter name from any label: every character but [A-Za-z0-9] becomes '_'.
inline std::string test_name(std::string label) {
  for (char& ch : label)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return label;
}

inline LoadOptions load_options_of(const FixtureCase& c) {
  LoadOptions lo;
  if (c.spec.contains("load_options")) lo.activation = c.spec["load_options"].value("activation", "");
  return lo;
}

inline ForwardOptions forward_options_of(const FixtureCase& c) {
  ForwardOptions fo;
  fo.all_hidden = c.options.value("all_hidden", true);
  fo.attentions = c.options.value("attentions", true);
  fo.causal = c.options.value("causal", false);
  return fo;
}

}  // namespace encore::testing
