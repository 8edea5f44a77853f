// encore serve on sentence-transformers directories (tests/fixtures/st), through
// Service::handle without sockets: /embed runs every module (a Dense's width, a Router's
// default route, a StaticEmbedding), with the model's default prompt and prompt_name;
// normalize=false leaves out only a final Normalize module; /similarity uses the model's
// similarity_fn_name on the embeddings sentence-transformers' encode() returns (checked
// against its model.similarity() goldens); /embed_all returns the token embeddings after the
// modules that act on tokens; /info names the module chain.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "encore/embedder.h"
#include "encore/safetensors.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using nlohmann::json;
using testing::call;
using testing::fixture;
using testing::max_diff;

std::vector<float> floats(const json& array) {
  std::vector<float> v;
  for (const json& x : array) v.push_back(static_cast<float>(x.get<double>()));
  return v;
}

struct Served {
  Embedder embedder;
  Service service;
  explicit Served(const std::string& name)
      : embedder(Embedder::load(fixture("st/" + name).string())), service(embedder, options()) {}
  static ServiceOptions options() {
    ServiceOptions o;
    o.model_id = "test";
    o.tokenization_workers = 2;
    o.auto_truncate = true;
    return o;
  }
};

std::vector<float> embed_one(Service& s, const json& request) {
  const HttpResponse r = call(s, "/embed", request.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? floats(json::parse(r.body)[0]) : std::vector<float>{};
}

// normalize=false is `encore embed --no-normalize` (no final Normalize module; the model's
// truncate_dim applies); TEI's default normalize=true is that vector at unit length, which
// for a model ending in Normalize without truncate_dim is `encore embed`'s own vector.
TEST(ServeSt, EmbedRunsEveryModuleAndEqualsEncoreEmbed) {
  const std::string text = "Free software is a matter of liberty.";
  for (const std::string name : {"st2-dense", "st2-layernorm", "st5-router", "st5-static", "st6-tokens"}) {
    Served m(name);
    EmbedderOptions raw_options;
    raw_options.normalize = false;
    std::vector<float> raw = Embedder::load(fixture("st/" + name).string(), raw_options).embed({text})[0].embedding;
    EXPECT_LE(max_diff(embed_one(m.service, {{"inputs", text}, {"normalize", false}}), raw), 1e-6) << name;
    l2_normalize(raw);
    EXPECT_LE(max_diff(embed_one(m.service, {{"inputs", text}}), raw), 1e-6) << name;
    if (m.embedder.normalizes()) {
      EXPECT_LE(max_diff(embed_one(m.service, {{"inputs", text}}), m.embedder.embed({text})[0].embedding), 1e-6)
          << name;
    }
  }
}

TEST(ServeSt, PromptsAndNormalizeFalse) {
  Served m("st5-prompts");  // default_prompt_name query, include_prompt false
  encore::EmbedRequest passage;
  passage.prompt_name = "passage";
  const std::vector<float> with_default = m.embedder.embed({"some text"})[0].embedding;
  const std::vector<float> with_passage = m.embedder.embed({"some text"}, passage)[0].embedding;
  std::vector<float> got = embed_one(m.service, {{"inputs", "some text"}, {"normalize", false}});
  EXPECT_LE(max_diff(got, with_default), 1e-6);
  got = embed_one(m.service, {{"inputs", "some text"}, {"normalize", false}, {"prompt_name", "passage"}});
  EXPECT_LE(max_diff(got, with_passage), 1e-6);
  const HttpResponse bad = call(m.service, "/embed", R"({"inputs": "x", "prompt_name": "nope"})");
  EXPECT_EQ(bad.status, 413) << bad.body;  // TEI's status for validation errors

  Served d("st2-dense");  // ends with Normalize: normalize=false gives the vector before it
  const std::vector<float> raw = embed_one(d.service, {{"inputs", "a b c"}, {"normalize", false}});
  double sq = 0.0;
  for (float x : raw) sq += static_cast<double>(x) * x;
  EXPECT_GT(std::fabs(sq - 1.0), 1e-3) << "normalize=false still unit length";
  std::vector<float> renormalized = raw;
  l2_normalize(renormalized);
  EXPECT_LE(max_diff(renormalized, d.embedder.embed({"a b c"})[0].embedding), 1e-6);
}

// /similarity against model.similarity(emb[0], emb[1:]) of the goldens (text 0 against the
// next ones), with each model's similarity_fn_name.
TEST(ServeSt, SimilarityUsesTheModelsFunction) {
  std::vector<std::string> texts;
  {
    std::ifstream f(fixture("st/texts.jsonl"));
    for (std::string line; std::getline(f, line) && texts.size() < 6;) texts.push_back(json::parse(line)["text"]);
  }
  for (const std::string name : {"st2-dense", "st5-prompts", "st6-tokens"}) {
    Served m(name);
    const TensorFile golden = read_safetensors((fixture("st/" + name) / "expected.safetensors").string());
    const float* want = golden.tensors.at("similarity").data<float>();
    json sentences = json::array();
    for (size_t i = 1; i < texts.size(); ++i) sentences.push_back(texts[i]);
    const HttpResponse r = call(m.service, "/similarity",
                                json{{"inputs", {{"source_sentence", texts[0]}, {"sentences", sentences}}}}.dump());
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    const std::vector<float> got = floats(json::parse(r.body));
    ASSERT_EQ(got.size(), texts.size() - 1);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(std::fabs(got[i] - want[i]), 1e-5 * std::max(1.0f, std::fabs(want[i])))
          << name << " (" << m.embedder.similarity_fn_name() << ") text " << i + 1;
  }
}

TEST(ServeSt, EmbedAllReturnsTokenEmbeddingsAfterTokenModules) {
  Served m("st6-tokens");
  const HttpResponse r = call(m.service, "/embed_all", R"({"inputs": "Hello, World!"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json rows = json::parse(r.body)[0];
  TokenBatch batch;
  Encoding e = m.embedder.prepare("Hello, World!").encoding;
  batch.ids.push_back(e.ids);
  batch.type_ids.push_back(e.type_ids);
  std::vector<std::vector<float>> tokens;
  (void)m.embedder.run(batch, {}, "", &tokens);
  ASSERT_EQ(rows.size() * 24, tokens[0].size());  // the token Dense's 24 outputs per token
  std::vector<float> got;
  for (const json& row : rows)
    for (float x : floats(row)) got.push_back(x);
  EXPECT_LE(max_diff(got, tokens[0]), 1e-6);

  Served s("st5-static");
  EXPECT_EQ(call(s.service, "/embed_all", R"({"inputs": "x"})").status, 413);
}

TEST(ServeSt, InfoNamesTheModules) {
  Served m("st2-dense");
  const json info = json::parse(call(m.service, "/info", "", "", "GET").body);
  EXPECT_EQ(info["modules"], m.embedder.describe());
  EXPECT_EQ(info["similarity_fn_name"], "cosine");
  EXPECT_EQ(info["dimensions"], 16);
  Served s("st5-static");
  const json static_info = json::parse(call(s.service, "/info", "", "", "GET").body);
  EXPECT_FALSE(static_info.contains("dialect"));
  EXPECT_EQ(static_info["dimensions"], 16);
}

}  // namespace
}  // namespace encore::serve
