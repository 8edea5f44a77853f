// Task-head parity: every model of tests/fixtures/heads (random weights, one per
// transformers BertFor* head, plus Google-named pretraining weights) against the
// reference outputs written by tools/reference/make_head_fixtures.py, with the core rule
// |encore - reference| <= 1e-5 * max(1, |reference|) on compared positions.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/model.h"
#include "encore/safetensors.h"
#include "parity/fixture.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kHeads = fs::path(ENCORE_FIXTURES_DIR) / "heads";

std::vector<std::string> head_models() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kHeads))
    if (fs::exists(e.path() / "cases.json")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class HeadParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HeadParity, LogitsMatchTheReference) {
  const fs::path dir = kHeads / GetParam();
  nlohmann::json spec = nlohmann::json::parse(std::ifstream(dir / "cases.json"));
  Model model = Model::load((dir / "model").string());
  EXPECT_EQ(task_head_name(model.config().head.kind), spec["head"].get<std::string>());
  for (const auto& c : spec["cases"]) {
    const std::string name = c["name"];
    TensorFile in = read_safetensors((dir / (name + ".in.safetensors")).string());
    TensorFile want = read_safetensors((dir / (name + ".out.safetensors")).string());
    TensorMap got = model.forward(TensorMap(in.tensors.begin(), in.tensors.end()));
    const Tensor mask = want.tensors.at("compare_mask").to_i64();
    for (const auto& out_name : spec["outputs"]) {
      const std::string key = out_name;
      ASSERT_TRUE(got.count(key)) << GetParam() << ": encore has no output '" << key << "'";
      const Tensor& w = want.tensors.at(key);
      const Tensor& g = got.at(key);
      ASSERT_EQ(g.shape(), w.shape()) << key;
      // Per-token outputs are [B,S,...]: only real positions are compared.
      const bool per_token = w.dim() >= 2 && w.size(0) == mask.size(0) && w.size(1) == mask.size(1);
      const int64_t inner = per_token ? w.numel() / (mask.size(0) * mask.size(1)) : w.numel();
      double worst = 0.0;
      for (int64_t i = 0; i < w.numel(); ++i) {
        if (per_token && mask.data<int64_t>()[i / inner] == 0) continue;
        const double ref = w.data<float>()[i], err = std::fabs(g.data<float>()[i] - ref) / std::max(1.0, std::fabs(ref));
        worst = std::max(worst, err);
      }
      EXPECT_LE(worst, 1e-5) << GetParam() << "." << name << " " << key;
      std::printf("[heads] %-24s %-24s max scaled error %.2e\n", GetParam().c_str(), key.c_str(), worst);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HeadParity, ::testing::ValuesIn(head_models()),
                         [](const auto& info) { return test_name(info.param); });

TEST(HeadLoading, HeadTensorsCountAsParametersAndLabelsAreRead) {
  Model m = Model::load((kHeads / "sequence-classification" / "model").string());
  EXPECT_EQ(m.config().head.kind, TaskHead::SequenceClassification);
  EXPECT_EQ(m.config().head.num_labels, 3);
  EXPECT_EQ(m.config().head.labels, (std::vector<std::string>{"negative", "neutral", "positive"}));
  Model bare = Model::load((kHeads / "masked-lm" / "model").string());
  EXPECT_EQ(bare.config().head.kind, TaskHead::MaskedLM);
  EXPECT_FALSE(bare.config().has_pooler);  // BertForMaskedLM(add_pooling_layer=False)
}

}  // namespace
}  // namespace encore::testing
