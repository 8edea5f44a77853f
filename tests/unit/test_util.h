// Small helpers shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "encore/model.h"

namespace encore::testing {

inline std::filesystem::path fixture(const std::string& rel) { return std::filesystem::path(ENCORE_FIXTURES_DIR) / rel; }

// The JSON objects of a JSON-lines file (blank lines skipped); a missing or empty file fails
// the test that reads it.
inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  EXPECT_FALSE(out.empty()) << path;
  return out;
}

// The model's files plus modules.json (MLMTransformer + SpladePooling) and SpladePooling's
// config, as make_sparse_fixtures.py's sparse_variant() writes them.
inline std::filesystem::path sparse_variant(const std::filesystem::path& model, const std::filesystem::path& dest,
                                            const std::string& strategy, const std::string& activation) {
  std::filesystem::create_directories(dest / "1_SpladePooling");
  for (const auto& f : std::filesystem::directory_iterator(model))
    if (f.is_regular_file()) std::filesystem::copy_file(f.path(), dest / f.path().filename());
  std::ofstream(dest / "modules.json") << nlohmann::json::array(
                                              {{{"idx", 0},
                                                {"name", "0"},
                                                {"path", ""},
                                                {"type", "sentence_transformers.sparse_encoder.models.MLMTransformer"}},
                                               {{"idx", 1},
                                                {"name", "1"},
                                                {"path", "1_SpladePooling"},
                                                {"type", "sentence_transformers.sparse_encoder.models.SpladePooling"}}})
                                              .dump();
  std::ofstream(dest / "config_sentence_transformers.json") << R"({"model_type": "SparseEncoder"})";
  std::ofstream(dest / "1_SpladePooling" / "config.json") << nlohmann::json{
      {"pooling_strategy", strategy},
      {"activation_function", activation},
      {"word_embedding_dimension", nullptr}}.dump();
  return dest;
}

// A fresh temporary directory, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("encore-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline Tensor random_tensor(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::zeros(DType::F32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = n(rng);
  return t;
}

inline double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// An embedding against its reference, in double: cosine (two zero vectors count as 1, the
// same) and the largest absolute difference. `got` has at least D entries.
struct EmbeddingMatch {
  double cosine, max_abs;
};
inline EmbeddingMatch match_embedding(const std::vector<float>& got, const float* want, int64_t D) {
  double dot = 0, nw = 0, ng = 0, max_abs = 0;
  for (int64_t k = 0; k < D; ++k) {
    const double g = got[static_cast<size_t>(k)];
    dot += g * want[k], nw += static_cast<double>(want[k]) * want[k], ng += g * g;
    max_abs = std::max(max_abs, std::fabs(g - want[k]));
  }
  return {(nw == 0 && ng == 0) ? 1.0 : dot / std::sqrt(nw * ng), max_abs};
}

}  // namespace encore::testing
