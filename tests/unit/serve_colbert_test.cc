// encore serve with a PyLate ColBERT model, through Service::handle without sockets:
// /embed_all gives each input's token vectors (documents, or queries with "is_query": true)
// equal to ColBERT::encode and to PyLate's goldens, whatever else shares the batch; /rerank
// ranks by MaxSim as the goldens score; the pooled-embedding routes answer 424 and token ids
// are refused.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/multi_vector.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using nlohmann::json;
using testing::call;
using testing::fixture;

ServiceOptions options() {
  ServiceOptions o;
  o.model_id = "colbert";
  o.max_client_batch_size = 64;
  o.tokenization_workers = 2;
  return o;
}

std::vector<float> flat(const json& rows) {
  std::vector<float> v;
  for (const json& r : rows)
    for (const json& x : r) v.push_back(static_cast<float>(x.get<double>()));
  return v;
}

TEST(ServeColBERT, EmbedAllEqualsTheModelAndPyLate) {
  const ColBERT model = ColBERT::load(fixture("colbert/tiny").string());
  Service service(model, options());
  std::vector<json> goldens;
  for (const json& c : testing::read_jsonl(fixture("colbert/tiny.jsonl")))
    if (!c["text"].get<std::string>().empty() && c["text"].get<std::string>().find_first_not_of(" \t") != std::string::npos)
      goldens.push_back(c);  // "" and blank inputs are a 413 on the server, as TEI
  for (bool query : {true, false}) {
    std::vector<std::string> texts;
    std::vector<json> want;
    for (const json& c : goldens)
      if (c["is_query"] == query) texts.push_back(c["text"]), want.push_back(c);
    // Queries and documents in flight at once: they share batches.
    std::vector<std::future<HttpResponse>> answers;
    for (const std::string& t : texts)
      answers.push_back(testing::send(service, "POST", "/embed_all", json{{"inputs", t}, {"is_query", query}}.dump()));
    const HttpResponse other = call(service, "/embed_all", json{{"inputs", texts}, {"is_query", !query}}.dump());
    ASSERT_EQ(other.status, 200) << other.body;
    const std::vector<MultiVector> expect = model.encode(texts, query);
    for (size_t i = 0; i < texts.size(); ++i) {
      const HttpResponse r = answers[i].get();
      ASSERT_EQ(r.status, 200) << r.body;
      const json got = json::parse(r.body);
      ASSERT_EQ(got.size(), 1u);
      EXPECT_EQ(flat(got[0]), expect[i].values) << texts[i];
      const std::vector<float> ref = flat(want[i]["embeddings"]);
      ASSERT_EQ(ref.size(), expect[i].values.size()) << texts[i];
      for (size_t k = 0; k < ref.size(); ++k) EXPECT_NEAR(expect[i].values[k], ref[k], 1e-5) << texts[i];
    }
  }
}

TEST(ServeColBERT, RerankIsMaxSim) {
  const ColBERT model = ColBERT::load(fixture("colbert/tiny").string());
  Service service(model, options());
  for (const json& c : testing::read_jsonl(fixture("colbert/tiny.maxsim.jsonl"))) {
    std::vector<std::string> docs;
    std::vector<double> want;
    for (size_t d = 0; d < c["documents"].size(); ++d)
      if (!c["documents"][d].get<std::string>().empty())
        docs.push_back(c["documents"][d]), want.push_back(c["scores_unpadded"][d]);
    const HttpResponse r =
        call(service, "/rerank", json{{"query", c["query"]}, {"texts", docs}, {"return_text", true}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const json got = json::parse(r.body);
    ASSERT_EQ(got.size(), docs.size());
    for (size_t k = 0; k < got.size(); ++k) {
      const size_t i = got[k]["index"];
      EXPECT_EQ(got[k]["text"], docs[i]);
      EXPECT_NEAR(got[k]["score"].get<double>(), want[i], 1e-5 * std::max(1.0, std::fabs(want[i])));
      if (k) {
        EXPECT_GE(got[k - 1]["score"].get<double>(), got[k]["score"].get<double>());
      }
    }
  }
}

TEST(ServeColBERT, RefusesWhatDoesNotApply) {
  const ColBERT model = ColBERT::load(fixture("colbert/tiny").string());
  Service service(model, options());
  for (const char* path : {"/embed", "/v1/embeddings"}) {
    const HttpResponse r = call(service, path, R"({"inputs": "x", "input": "x"})");
    EXPECT_EQ(r.status, 424) << path << r.body;
  }
  HttpResponse r = call(service, "/similarity", R"({"inputs": {"source_sentence": "a", "sentences": ["b"]}})");
  EXPECT_EQ(r.status, 424) << r.body;
  r = call(service, "/embed_sparse", R"({"inputs": "x"})");
  EXPECT_EQ(r.status, 424) << r.body;
  r = call(service, "/embed_all", R"({"inputs": [[2, 100, 3]]})");
  EXPECT_EQ(r.status, 413) << r.body;
  r = call(service, "/embed_all", R"({"inputs": ""})");
  EXPECT_EQ(r.status, 413) << r.body;
  r = call(service, "/info", "", "", "GET");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["model_type"], json::parse(R"({"embedding": {"pooling": "colbert"}})"));
  EXPECT_EQ(json::parse(r.body)["dimensions"], model.dimensions());
}

}  // namespace
}  // namespace encore::serve
