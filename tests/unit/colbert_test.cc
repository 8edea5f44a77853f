// encore::ColBERT against PyLate 1.6 goldens (tests/fixtures/colbert,
// tools/reference/make_colbert_fixtures.py): four tiny models PyLate saved itself (defaults;
// attended expansion with two Dense layers; no expansion, no query prefix and a word skip-list
// with an out-of-vocabulary word; a Dense with bias, Tanh and a residual projection), every
// text as a query and as a document: the same tokens kept, vectors within 1e-5, and MaxSim
// scores within 1e-5 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "encore/error.h"
#include "encore/multi_vector.h"
#include "test_util.h"

namespace encore::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kCases[] = {"tiny", "tiny-attend", "tiny-noexp", "tiny-dense-tanh-res", "stanford"};

fs::path model_dir(const std::string& name) { return fixture("colbert/" + name); }

TEST(ColBERT, MatchesPyLate) {
  for (const char* name : kCases) {
    const ColBERT model = ColBERT::load(model_dir(name).string());
    double worst = 0.0;
    size_t vectors = 0;
    for (const json& c : read_jsonl(fixture(std::string("colbert/") + name + ".jsonl"))) {
      const std::string text = c["text"];
      const bool query = c["is_query"];
      const MultiVector got = model.encode({text}, query)[0];
      ASSERT_TRUE(got.error.empty()) << got.error;
      const auto ids = c["input_ids"].get<std::vector<int32_t>>();
      const auto kept = c["kept"].get<std::vector<int>>();
      std::vector<int32_t> want_ids;
      for (size_t p = 0; p < ids.size(); ++p)
        if (kept[p]) want_ids.push_back(ids[p]);
      ASSERT_EQ(got.token_ids, want_ids) << name << (query ? " query " : " document ") << text;
      const auto want = c["embeddings"].get<std::vector<std::vector<float>>>();
      ASSERT_EQ(got.rows, static_cast<int64_t>(want.size()));
      for (int64_t r = 0; r < got.rows; ++r) {
        ASSERT_EQ(got.dim, static_cast<int64_t>(want[static_cast<size_t>(r)].size()));
        for (int64_t k = 0; k < got.dim; ++k) {
          const double d = std::fabs(got.row(r)[k] - want[static_cast<size_t>(r)][static_cast<size_t>(k)]);
          EXPECT_LE(d, 1e-5) << name << (query ? " query " : " document ") << text << " row " << r;
          worst = std::max(worst, d);
        }
        ++vectors;
      }
    }
    std::printf("[colbert] %-20s %zu vectors, worst |diff| %.2e\n", name, vectors, worst);
  }
}

TEST(ColBERT, BatchesAsAlone) {
  const ColBERT model = ColBERT::load(model_dir("tiny").string());
  std::vector<std::string> texts;
  for (const json& c : read_jsonl(fixture("colbert/tiny.jsonl")))
    if (c["is_query"]) texts.push_back(c["text"]);
  for (bool query : {true, false}) {
    const std::vector<MultiVector> batch = model.encode(texts, query);
    for (size_t i = 0; i < texts.size(); i += 5) {
      const MultiVector alone = model.encode({texts[i]}, query)[0];
      EXPECT_EQ(alone.token_ids, batch[i].token_ids) << texts[i];
      ASSERT_EQ(alone.values.size(), batch[i].values.size());
      EXPECT_EQ(alone.values, batch[i].values) << texts[i];  // bitwise
    }
  }
}

TEST(ColBERT, MaxSimMatchesPyLate) {
  for (const char* name : kCases) {
    const ColBERT model = ColBERT::load(model_dir(name).string());
    size_t n = 0;
    for (const json& c : read_jsonl(fixture(std::string("colbert/") + name + ".maxsim.jsonl"))) {
      const MultiVector q = model.encode({c["query"].get<std::string>()}, true)[0];
      const std::vector<MultiVector> docs = model.encode(c["documents"].get<std::vector<std::string>>(), false);
      const auto want = c["scores_unpadded"].get<std::vector<double>>();
      ASSERT_EQ(docs.size(), want.size());
      for (size_t d = 0; d < docs.size(); ++d, ++n)
        EXPECT_NEAR(maxsim(q, docs[d]), want[d], 1e-5 * std::max(1.0, std::fabs(want[d]))) << name << " " << c["query"];
    }
    EXPECT_EQ(n, 48u) << name;
  }
}

TEST(ColBERT, RefusesWhatItDoesNotRun) {
  TempDir dir;
  const fs::path m = dir.path / "m";
  fs::copy(model_dir("tiny"), m, fs::copy_options::recursive);
  // Without a Dense module PyLate would add a random projection.
  std::ofstream(m / "modules.json")
      << R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])";
  try {
    (void)ColBERT::load(m.string());
    FAIL() << "loaded a ColBERT without projection";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Dense"), std::string::npos) << e.what();
  }
  ColBERTOptions o;
  o.document_length = 1000;  // the model has 128 positions
  EXPECT_THROW((void)ColBERT::load(model_dir("tiny").string(), o), Error);
  // A prefix that is no token: PyLate would add it with a random embedding.
  fs::copy_file(model_dir("tiny") / "modules.json", m / "modules.json", fs::copy_options::overwrite_existing);
  nlohmann::json c = nlohmann::json::parse(std::ifstream(m / "config_sentence_transformers.json"));
  c["query_prefix"] = "[QUERY] ";
  std::ofstream(m / "config_sentence_transformers.json") << c.dump();
  try {
    (void)ColBERT::load(m.string());
    FAIL() << "loaded a ColBERT whose query prefix is no token";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[QUERY] "), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace encore::testing
