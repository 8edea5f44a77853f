// sentence-transformers directories saved by releases 2.7, 5.3 and 6.3 (tests/fixtures/st,
// made by tools/reference/make_st_fixtures.sh) against sentence-transformers 6.3's own
// encode() of them: every module type, pooling mode, Dense activation, Router route, prompt
// rule, truncate_dim and similarity function, on 23 texts (empty, over-long, multilingual).
// Tolerance: |encore - ref| <= 1e-5 * max(1, |ref|) for every number.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/embedder.h"
#include "encore/safetensors.h"
#include "unit/test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> st_texts() {
  std::ifstream f(fixture("st/texts.jsonl"));
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) out.push_back(json::parse(line)["text"].get<std::string>());
  return out;
}

// The largest |got - want| / max(1, |want|) (infinities must match exactly).
double worst_error(const float* got, const float* want, int64_t n) {
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      if (got[i] != want[i]) return INFINITY;
      continue;
    }
    worst =
        std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]) / std::max(1.0, std::fabs(double{want[i]})));
  }
  return worst;
}

class StDirectory : public ::testing::TestWithParam<std::string> {};

TEST_P(StDirectory, MatchesSentenceTransformers) {
  const fs::path dir = fixture("st/" + GetParam());
  const json cases = json::parse(std::ifstream(dir / "cases.json"));
  const TensorFile golden = read_safetensors((dir / "expected.safetensors").string());
  const std::vector<std::string> texts = st_texts();
  double worst = 0.0;
  for (const json& c : cases["cases"]) {
    const std::string key = c["key"];
    EmbedderOptions options;
    options.batch_size = 5;  // several batches, the last one partial
    if (c["options"].contains("dimensions")) options.dimensions = c["options"]["dimensions"];
    if (c["options"].contains("normalize")) options.normalize = c["options"]["normalize"].get<bool>();
    EmbedRequest request;
    request.task = c["request"].value("task", "");
    if (c["request"].contains("prompt_name")) request.prompt_name = c["request"]["prompt_name"];
    if (c["request"].contains("prompt")) request.prompt = c["request"]["prompt"];
    const Embedder e = Embedder::load(dir.string(), options);
    const Tensor& want = golden.tensors.at(key);
    ASSERT_EQ(want.size(0), static_cast<int64_t>(texts.size())) << key;
    const int64_t D = want.size(1);
    if (request.task.empty()) {
      EXPECT_EQ(e.dimensions(), D) << key;
    }
    const std::vector<EmbedResult> got = e.embed(texts, request);
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_TRUE(got[i].error.empty()) << key << " text " << i << ": " << got[i].error;
      ASSERT_EQ(static_cast<int64_t>(got[i].embedding.size()), D) << key << " text " << i;
      const double err = worst_error(got[i].embedding.data(), want.data<float>() + static_cast<int64_t>(i) * D, D);
      EXPECT_LE(err, 1e-5) << GetParam() << " " << c["reference"].get<std::string>() << " text " << i << ": "
                           << texts[i];
      worst = std::max(worst, err);
    }
  }
  // similarity_fn_name between the first text and the others (model.similarity).
  const Embedder e = Embedder::load(dir.string());
  EXPECT_EQ(e.similarity_fn_name(), cases["similarity_fn_name"].get<std::string>());
  const std::vector<EmbedResult> base = e.embed(texts);
  const Tensor& sims = golden.tensors.at("similarity");
  for (size_t i = 1; i < texts.size(); ++i) {
    const float s = e.similarity(base[0].embedding, base[i].embedding);
    EXPECT_LE(worst_error(&s, sims.data<float>() + i - 1, 1), 1e-5) << GetParam() << " similarity to text " << i;
  }
  std::printf("[st] %-22s %zu cases x %zu texts: worst scaled error %.3g\n", GetParam().c_str(), cases["cases"].size(),
              texts.size(), worst);
}

std::vector<std::string> directories() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fixture("st")))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StDirectory, ::testing::ValuesIn(directories()), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

// output_value="token_embeddings": the token embeddings after the modules that act on
// tokens (a Dense and a Normalize before Pooling), as /embed_all returns them.
TEST(StModules, TokenEmbeddingsMatchSentenceTransformers) {
  const fs::path dir = fixture("st/st6-tokens");
  const TensorFile golden = read_safetensors((dir / "expected.safetensors").string());
  const Tensor& want = golden.tensors.at("tokens");
  const Tensor& lengths = golden.tensors.at("tokens.lengths");
  const Embedder e = Embedder::load(dir.string());
  const std::vector<std::string> texts = st_texts();
  TokenBatch batch;
  for (const std::string& t : texts) {
    Encoding enc = e.prepare(t).encoding;
    batch.ids.push_back(enc.ids);
    batch.type_ids.push_back(enc.type_ids);
  }
  std::vector<std::vector<float>> tokens;
  (void)e.run(batch, {}, "", &tokens);
  const int64_t D = want.size(1);
  ASSERT_EQ(e.token_dimensions(), D);
  int64_t row = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const int64_t n = lengths.data<int64_t>()[i];
    ASSERT_EQ(static_cast<int64_t>(tokens[i].size()), n * D) << "text " << i;
    EXPECT_LE(worst_error(tokens[i].data(), want.data<float>() + row * D, n * D), 1e-5) << "text " << i;
    row += n;
  }
}

}  // namespace
}  // namespace encore::testing
