// encore::BgeM3 against FlagEmbedding 1.4.2 BGEM3FlagModel goldens (tests/fixtures/bge-m3,
// tools/reference/make_bge_m3_fixtures.py): a tiny random-weight model of bge-m3's layout
// (XLMRobertaModel + float16 colbert_linear.pt / sparse_linear.pt), encode() with
// use_fp16=False at max_length 40 and 12, and the lexical / ColBERT / dense scores.
#include "encore/bge_m3.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "encore/error.h"
#include "test_util.h"

namespace encore::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kTiny = fixture("bge-m3/tiny");

BgeM3 load_tiny(int max_length, bool fp16_weights = false) {
  BgeM3Options o;
  o.max_length = max_length;
  o.fp16_weights = fp16_weights;
  return BgeM3::load(kTiny.string(), o);
}

bool close(double got, double want, double tolerance = 1e-5) {
  return std::fabs(got - want) <= tolerance * std::max(1.0, std::fabs(want));
}

// Every text of an encode*.jsonl file: the ids fed to the model, dense and ColBERT values
// within 1e-5 * max(1, |ref|), the same lexical-weight keys with values within 1e-5.
void compare(const std::string& name, int max_length, bool fp16_weights = false) {
  const std::vector<json> cases = read_jsonl(fixture("bge-m3/" + name + ".jsonl"));
  const BgeM3 m3 = load_tiny(max_length, fp16_weights);
  std::vector<std::string> texts;
  for (const json& c : cases) {
    ASSERT_EQ(c["max_length"].get<int>(), max_length);
    texts.push_back(c["text"].get<std::string>());
  }
  const std::vector<BgeM3Embedding> got = m3.encode(texts);
  ASSERT_EQ(got.size(), cases.size());
  double worst_dense = 0, worst_sparse = 0, worst_colbert = 0;
  size_t weights = 0, rows = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const BgeM3Embedding& g = got[i];
    ASSERT_TRUE(g.error.empty()) << g.error;
    const std::string at = name + " #" + std::to_string(i);
    // The ids: <s>, the pieces, </s>; the ColBERT rows are those after <s>.
    const auto ids = cases[i]["input_ids"].get<std::vector<int32_t>>();
    ASSERT_GE(ids.size(), 2u) << at;
    EXPECT_EQ(g.colbert.token_ids, std::vector<int32_t>(ids.begin() + 1, ids.end())) << at;
    const auto dense = cases[i]["dense"].get<std::vector<float>>();
    ASSERT_EQ(g.dense.size(), dense.size()) << at;
    for (size_t k = 0; k < dense.size(); ++k) {
      EXPECT_TRUE(close(g.dense[k], dense[k])) << at << " dense[" << k << "] " << g.dense[k] << " vs " << dense[k];
      worst_dense = std::max(worst_dense, std::fabs(static_cast<double>(g.dense[k]) - dense[k]));
    }
    // Lexical weights: FlagEmbedding's dict (first-occurrence order) against encore's pairs
    // by id ascending, compared as maps.
    std::map<int32_t, float> want, have;
    for (const auto& [key, value] : cases[i]["lexical_weights"].items()) want[std::stoi(key)] = value.get<float>();
    ASSERT_EQ(g.sparse.indices.size(), g.sparse.values.size()) << at;
    for (size_t k = 0; k < g.sparse.indices.size(); ++k) {
      if (k > 0) {
        EXPECT_LT(g.sparse.indices[k - 1], g.sparse.indices[k]) << at << ": indices not ascending";
      }
      have[g.sparse.indices[k]] = g.sparse.values[k];
    }
    std::vector<int32_t> want_keys, have_keys;
    for (const auto& kv : want) want_keys.push_back(kv.first);
    for (const auto& kv : have) have_keys.push_back(kv.first);
    ASSERT_EQ(have_keys, want_keys) << at;
    for (const auto& [id, w] : want) {
      const double d = std::fabs(static_cast<double>(have[id]) - w);
      EXPECT_LE(d, 1e-5) << at << " weight of id " << id;
      worst_sparse = std::max(worst_sparse, d);
      ++weights;
    }
    const json& colbert = cases[i]["colbert_vecs"];
    ASSERT_EQ(g.colbert.rows, static_cast<int64_t>(colbert.size())) << at;
    ASSERT_EQ(g.colbert.rows, static_cast<int64_t>(ids.size()) - 1) << at;
    for (int64_t r = 0; r < g.colbert.rows; ++r) {
      const auto row = colbert[static_cast<size_t>(r)].get<std::vector<float>>();
      ASSERT_EQ(g.colbert.dim, static_cast<int64_t>(row.size())) << at;
      for (size_t k = 0; k < row.size(); ++k) {
        const float v = g.colbert.row(r)[k];
        EXPECT_TRUE(close(v, row[k])) << at << " colbert[" << r << "][" << k << "] " << v << " vs " << row[k];
        worst_colbert = std::max(worst_colbert, std::fabs(static_cast<double>(v) - row[k]));
      }
      ++rows;
    }
  }
  std::printf("[bge-m3] %-18s %zu texts: worst |diff| dense %.2e, sparse %.2e (%zu weights), colbert %.2e (%zu rows)\n",
              name.c_str(), cases.size(), worst_dense, worst_sparse, weights, worst_colbert, rows);
}

TEST(BgeM3, EncodeMatchesFlagEmbedding) {
  compare("encode", 40);
}

TEST(BgeM3, TruncatedEncodeMatchesFlagEmbedding) {
  compare("encode_len12", 12);
}

// FlagEmbedding's default use_fp16=True on the CPU: float16-rounded weights, float32 arithmetic.
TEST(BgeM3, Fp16WeightsMatchFlagEmbeddingsDefault) {
  compare("encode_fp16", 40, true);
}

TEST(BgeM3, ScoresMatchFlagEmbedding) {
  const std::vector<json> cases = read_jsonl(fixture("bge-m3/scores.jsonl"));
  const BgeM3 m3 = load_tiny(40);
  std::vector<std::string> texts;
  for (const json& c : cases) texts.push_back(c["query"]), texts.push_back(c["passage"]);
  const std::vector<BgeM3Embedding> e = m3.encode(texts);
  double worst[3] = {0, 0, 0};
  for (size_t i = 0; i < cases.size(); ++i) {
    const BgeM3Embedding &q = e[2 * i], &p = e[2 * i + 1];
    ASSERT_TRUE(q.error.empty() && p.error.empty());
    double dense = 0;
    for (size_t k = 0; k < q.dense.size(); ++k) dense += static_cast<double>(q.dense[k]) * p.dense[k];
    const double got[3] = {BgeM3::lexical_score(q.sparse, p.sparse), BgeM3::colbert_score(q.colbert, p.colbert), dense};
    const char* names[3] = {"lexical", "colbert", "dense"};
    for (int s = 0; s < 3; ++s) {
      const double want = cases[i][names[s]].get<double>();
      EXPECT_TRUE(close(got[s], want)) << names[s] << " of pair " << i << ": " << got[s] << " vs " << want;
      worst[s] = std::max(worst[s], std::fabs(got[s] - want) / std::max(1.0, std::fabs(want)));
    }
  }
  std::printf("[bge-m3] scores %zu pairs: worst relative diff lexical %.2e, colbert %.2e, dense %.2e\n", cases.size(),
              worst[0], worst[1], worst[2]);
  // colbert_score's max runs over the passage's own rows only; compute_score's (on padded
  // passages) differs for this pair (make_bge_m3_fixtures.py).
  const json& gnu = cases[4 * 6 + 5];
  EXPECT_NE(gnu["colbert"].get<double>(), gnu["compute_score"]["colbert"].get<double>());
}

TEST(BgeM3, OutputsDoNotDependOnTheBatch) {
  const BgeM3 m3 = load_tiny(40);
  const std::vector<std::string> texts = {"GNU Sed was first authored by Jay Fenlason (hack@gnu.org)", "", "free free",
                                          "a <unk> b </s> c <s> d <pad> e"};
  const std::vector<BgeM3Embedding> batch = m3.encode(texts);
  for (size_t i = 0; i < texts.size(); ++i) {
    const BgeM3Embedding alone = m3.encode({texts[i]})[0];
    EXPECT_EQ(alone.dense, batch[i].dense) << i;
    EXPECT_EQ(alone.sparse.indices, batch[i].sparse.indices) << i;
    EXPECT_EQ(alone.sparse.values, batch[i].sparse.values) << i;
    EXPECT_EQ(alone.colbert.values, batch[i].colbert.values) << i;
    EXPECT_EQ(alone.colbert.token_ids, batch[i].colbert.token_ids) << i;
  }
}

TEST(BgeM3, Options) {
  const BgeM3 m3 = BgeM3::load(kTiny.string());
  EXPECT_EQ(m3.max_length(), 40);  // FlagEmbedding's 512, capped to the tiny model's 40 positions
  EXPECT_EQ(m3.dimensions(), 32);
  EXPECT_EQ(m3.colbert_dimensions(), 32);
  EXPECT_NE(m3.describe().find("colbert 32"), std::string::npos) << m3.describe();
  // normalize = false: the raw vectors, whose normalized versions are the default outputs.
  BgeM3Options o;
  o.normalize = false;
  const BgeM3 raw = BgeM3::load(kTiny.string(), o);
  const std::string text = "GNU Sed was first authored by Jay Fenlason";
  const BgeM3Embedding a = m3.encode({text})[0], b = raw.encode({text})[0];
  double norm = 0;
  for (float v : b.dense) norm += static_cast<double>(v) * v;
  EXPECT_GT(std::fabs(std::sqrt(norm) - 1.0), 1e-3);
  for (size_t k = 0; k < a.dense.size(); ++k) EXPECT_NEAR(a.dense[k], b.dense[k] / std::sqrt(norm), 1e-6);
  for (int64_t r = 0; r < b.colbert.rows; ++r) {
    double n = 0;
    for (int64_t k = 0; k < b.colbert.dim; ++k) n += static_cast<double>(b.colbert.row(r)[k]) * b.colbert.row(r)[k];
    for (int64_t k = 0; k < b.colbert.dim; ++k)
      EXPECT_NEAR(a.colbert.row(r)[k], b.colbert.row(r)[k] / std::sqrt(n), 1e-6);
  }
  EXPECT_EQ(a.sparse.values, b.sparse.values);  // lexical weights are never normalized
  // A text that is not UTF-8 fails alone.
  const std::vector<BgeM3Embedding> mixed = m3.encode({"ok", std::string("\xff"), "fine"});
  EXPECT_TRUE(mixed[0].error.empty());
  EXPECT_FALSE(mixed[1].error.empty());
  EXPECT_TRUE(mixed[2].error.empty());
  EXPECT_EQ(mixed[2].dense, m3.encode({"fine"})[0].dense);
}

TEST(BgeM3, RefusesWhatItCannotRun) {
  BgeM3Options o;
  o.max_length = 41;  // the tiny model's positions allow 40 tokens
  try {
    BgeM3::load(kTiny.string(), o);
    ADD_FAILURE() << "max_length 41 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_length 41"), std::string::npos) << e.what();
  }
  o.max_length = -1;
  EXPECT_THROW(BgeM3::load(kTiny.string(), o), Error);
  for (const char* head : {"sparse_linear.pt", "colbert_linear.pt"}) {
    TempDir dir;
    fs::copy(kTiny, dir.path);
    fs::remove(dir.path / head);
    try {
      BgeM3::load(dir.path.string());
      ADD_FAILURE() << "loaded without " << head;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(head), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("random"), std::string::npos) << e.what();
    }
  }
  // A head of the wrong shape: colbert_linear.pt ([32, 32]) as sparse_linear.pt ([1, 32]).
  TempDir dir;
  fs::copy(kTiny, dir.path);
  fs::copy_file(kTiny / "colbert_linear.pt", dir.path / "sparse_linear.pt", fs::copy_options::overwrite_existing);
  try {
    BgeM3::load(dir.path.string());
    ADD_FAILURE() << "loaded a [32, 32] sparse_linear";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected [1, 32]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(BgeM3::colbert_score(MultiVector{}, MultiVector{}), Error);
}

}  // namespace
}  // namespace encore::testing
