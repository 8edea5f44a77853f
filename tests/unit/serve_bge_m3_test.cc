// encore serve with a bge-m3 model, through Service::handle without sockets: /embed answers the
// dense vectors, /embed_sparse the lexical weights and /embed_all the ColBERT vectors, each equal
// to FlagEmbedding's goldens (tests/fixtures/bge-m3/encode.jsonl) within 1e-5 and bitwise to
// BgeM3::encode, whatever shares the batch.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/bge_m3.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using nlohmann::json;
using testing::call;
using testing::fixture;

std::vector<float> floats(const json& v) {
  std::vector<float> out;
  for (const json& x : v) {
    if (x.is_array()) {
      for (const json& y : x) out.push_back(static_cast<float>(y.get<double>()));
    } else {
      out.push_back(static_cast<float>(x.get<double>()));
    }
  }
  return out;
}

TEST(ServeBgeM3, ThreeOutputsAsFlagEmbedding) {
  BgeM3Options raw;
  raw.normalize = false;  // as encore serve loads it
  const BgeM3 served = BgeM3::load(fixture("bge-m3/tiny").string(), raw);
  const BgeM3 reference = BgeM3::load(fixture("bge-m3/tiny").string());  // normalized, as FlagEmbedding
  ServiceOptions o;
  o.model_id = "bge-m3";
  o.max_client_batch_size = 64;
  o.tokenization_workers = 2;
  Service service(served, o);
  std::vector<json> cases;
  std::vector<std::string> texts;
  for (const json& c : testing::read_jsonl(fixture("bge-m3/encode.jsonl"))) {
    const std::string t = c["text"];
    if (t.find_first_not_of(" \t") == std::string::npos) continue;  // blank: a 413, as TEI
    cases.push_back(c);
    texts.push_back(t);
  }
  const std::vector<BgeM3Embedding> want = reference.encode(texts);
  // The three routes at once, each text alone: the batches mix them.
  std::vector<std::future<HttpResponse>> dense, sparse, colbert;
  for (const std::string& t : texts) {
    const std::string body = json{{"inputs", t}, {"truncate", true}}.dump();  // FlagEmbedding truncates
    dense.push_back(testing::send(service, "POST", "/embed", body));
    sparse.push_back(testing::send(service, "POST", "/embed_sparse", body));
    colbert.push_back(testing::send(service, "POST", "/embed_all", body));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    const HttpResponse d = dense[i].get(), s = sparse[i].get(), c = colbert[i].get();
    ASSERT_EQ(d.status, 200) << d.body;
    ASSERT_EQ(s.status, 200) << s.body;
    ASSERT_EQ(c.status, 200) << c.body;
    const std::vector<float> got_dense = floats(json::parse(d.body)[0]);
    EXPECT_EQ(got_dense, want[i].dense) << texts[i];
    const std::vector<float> ref_dense = cases[i]["dense"].get<std::vector<float>>();
    ASSERT_EQ(got_dense.size(), ref_dense.size());
    for (size_t k = 0; k < ref_dense.size(); ++k) EXPECT_NEAR(got_dense[k], ref_dense[k], 1e-5) << texts[i];
    std::map<std::string, float> got_sparse;
    const json sparse_answer = json::parse(s.body);  // a named value: the loop below reads into it
    for (const json& p : sparse_answer[0])
      got_sparse[std::to_string(p["index"].get<int>())] = static_cast<float>(p["value"].get<double>());
    ASSERT_EQ(got_sparse.size(), cases[i]["lexical_weights"].size()) << texts[i];
    for (const auto& [id, w] : cases[i]["lexical_weights"].items()) {
      ASSERT_TRUE(got_sparse.count(id)) << texts[i] << " id " << id;
      EXPECT_NEAR(got_sparse[id], w.get<double>(), 1e-5) << texts[i];
    }
    const std::vector<float> got_colbert = floats(json::parse(c.body)[0]);
    EXPECT_EQ(got_colbert, want[i].colbert.values) << texts[i];
    const std::vector<float> ref_colbert = floats(cases[i]["colbert_vecs"]);
    ASSERT_EQ(got_colbert.size(), ref_colbert.size());
    for (size_t k = 0; k < ref_colbert.size(); ++k) EXPECT_NEAR(got_colbert[k], ref_colbert[k], 1e-5) << texts[i];
  }
  // normalize=false gives BgeM3's unnormalized dense vector; /info says what is served.
  const HttpResponse r = call(service, "/embed", json{{"inputs", texts[0]}, {"normalize", false}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(floats(json::parse(r.body)[0]), served.encode({texts[0]})[0].dense);
  const json info = json::parse(call(service, "/info", "", "", "GET").body);
  EXPECT_EQ(info["model_type"], json::parse(R"({"embedding": {"pooling": "cls"}})"));
  EXPECT_EQ(info["dimensions"], served.dimensions());
}

}  // namespace
}  // namespace encore::serve
