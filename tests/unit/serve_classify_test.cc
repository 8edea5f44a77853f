// encore serve's /predict and /rerank on the random-weight task models of tests/fixtures/heads,
// through Service::handle (routing, parsing, limits, the batcher, the answer's JSON) without
// sockets: every served score equals the pipeline's (TextClassifier::classify, Reranker::rank,
// the `encore classify` / `encore rerank` paths) for single, pair and batched requests,
// whether requests run alone or concurrently from many threads; and the error cases answer
// TEI's statuses.
//
// "Equal" is bitwise: neither the encoder's states nor the pooler (computed one row at a
// time, src/models/bert.cc pool) nor the head depend on what else is in the batch.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "encore/classifier.h"
#include "encore/error.h"
#include "encore/reranker.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using nlohmann::json;
using testing::fixture;
using testing::call;

std::string heads(const std::string& name) { return (fixture("heads/" + name) / "model").string(); }

// The float a JSON number was written from (%.9g round-trips float32).
float f32(const json& v) { return static_cast<float>(v.get<double>()); }

constexpr double kBatchTolerance = 0.0;  // bitwise, whatever the batch (see above)

ServiceOptions small_options() {
  ServiceOptions o;
  o.model_id = "test";
  o.max_client_batch_size = 8;
  o.tokenization_workers = 4;
  return o;
}

const std::vector<std::string> kTexts = {
    "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007",
    "We, the Free Software Foundation, use the GNU General Public License for most of our software;",
    "Developers that use the GNU GPL protect your rights with two steps:",
    "Ünïcödé text, 日本語, and an emoji 😀",
    "short",
    "To prevent this, the GPL assures that patents cannot be used to render the program non-free.",
};

// Asserts that one /predict answer ([{"score", "label"}...]) is `want` (classify() with every
// label): the same labels, best first, with scores within `tolerance` (0: bitwise).
void expect_predictions(const json& got, const ClassifyResult& want, const std::string& where,
                        double tolerance = 0.0) {
  ASSERT_TRUE(want.error.empty()) << want.error;
  ASSERT_TRUE(got.is_array()) << where << ": " << got.dump();
  ASSERT_EQ(got.size(), want.labels.size()) << where;
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k]["label"], want.labels[k].label) << where << " #" << k;
    if (tolerance == 0.0) {
      EXPECT_EQ(f32(got[k]["score"]), want.labels[k].score) << where << " #" << k;
    } else {
      EXPECT_NEAR(f32(got[k]["score"]), want.labels[k].score, tolerance) << where << " #" << k;
    }
    if (k) {
      EXPECT_GE(f32(got[k - 1]["score"]), f32(got[k]["score"])) << where;
    }
  }
}

TEST(ServeClassify, PredictEqualsTheClassificationPipeline) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  Service service(classifier, small_options());
  ASSERT_EQ(service.kind(), ModelKind::Classifier);
  ClassifierOptions all;
  all.top_k = 0;
  const TextClassifier reference = TextClassifier::load(heads("sequence-classification"), all);
  ASSERT_EQ(reference.function(), ScoreFunction::Softmax);  // 3 labels, no problem_type: TEI's choice too
  // classify() of all texts in one forward pass, and of each alone (as one request is served).
  const std::vector<ClassifyResult> singles = reference.classify(kTexts);
  const std::vector<std::string> seconds(kTexts.rbegin(), kTexts.rend());
  const std::vector<ClassifyResult> pairs = reference.classify(kTexts, seconds);

  for (size_t i = 0; i < kTexts.size(); ++i) {
    const ClassifyResult single = reference.classify({kTexts[i]})[0];
    const ClassifyResult pair = reference.classify({kTexts[i]}, {seconds[i]})[0];
    HttpResponse r = call(service, "/predict", json{{"inputs", kTexts[i]}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    expect_predictions(json::parse(r.body), single, "single " + std::to_string(i));
    expect_predictions(json::parse(r.body), singles[i], "single in a batch " + std::to_string(i), kBatchTolerance);
    r = call(service, "/predict", json{{"inputs", json::array({kTexts[i]})}}.dump());  // ["text"]: one text
    ASSERT_EQ(r.status, 200) << r.body;
    expect_predictions(json::parse(r.body), single, "[text] " + std::to_string(i));
    r = call(service, "/predict", json{{"inputs", {kTexts[i], seconds[i]}}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    expect_predictions(json::parse(r.body), pair, "pair " + std::to_string(i));
    expect_predictions(json::parse(r.body), pairs[i], "pair in a batch " + std::to_string(i), kBatchTolerance);
  }

  // A batch mixing texts and pairs: a list of answers, in input order (one forward pass of
  // six sequences, as classify() of the six).
  json batch = json::array();
  for (size_t i = 0; i < kTexts.size(); ++i)
    batch.push_back(i % 2 ? json::array({kTexts[i], seconds[i]}) : json::array({kTexts[i]}));
  HttpResponse r = call(service, "/predict", json{{"inputs", batch}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json got = json::parse(r.body);
  ASSERT_EQ(got.size(), kTexts.size());
  std::vector<std::string> firsts, mixed_seconds;
  for (size_t i = 0; i < kTexts.size(); ++i) {
    firsts.push_back(kTexts[i]);
    mixed_seconds.push_back(i % 2 ? seconds[i] : "");
  }
  const std::vector<ClassifyResult> mixed = reference.classify(firsts, mixed_seconds);
  for (size_t i = 0; i < kTexts.size(); ++i) expect_predictions(got[i], mixed[i], "batch " + std::to_string(i));
  for (const char* h : {"x-compute-tokens", "x-compute-characters", "x-inference-time"}) {
    bool found = false;
    for (const auto& [name, value] : r.headers) found |= name == h;
    EXPECT_TRUE(found) << h;
  }

  // raw_scores: the logits; the same as --function none.
  r = call(service, "/predict", json{{"inputs", kTexts[1]}, {"raw_scores", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  got = json::parse(r.body);
  ASSERT_EQ(got.size(), 3u);
  const std::vector<float> logits = reference.classify({kTexts[1]})[0].logits;
  for (const json& p : got) {
    const size_t id = p["label"] == "negative" ? 0 : p["label"] == "neutral" ? 1 : 2;
    EXPECT_EQ(f32(p["score"]), logits[id]) << p.dump();
  }
  ClassifierOptions none = all;
  none.function = ScoreFunction::None;
  expect_predictions(got, TextClassifier::load(heads("sequence-classification"), none).classify({kTexts[1]})[0], "raw");
}

// Two answers of the same request: the same JSON shape, labels and indices in the same order,
// scores within kBatchTolerance.
void expect_same_answer(const json& a, const json& b, const std::string& where) {
  if (a.is_number()) {
    EXPECT_NEAR(f32(a), f32(b), kBatchTolerance) << where;
  } else if (a.is_array() || a.is_object()) {
    ASSERT_EQ(a.type(), b.type()) << where;
    ASSERT_EQ(a.size(), b.size()) << where;
    auto x = a.begin();
    auto y = b.begin();
    for (; x != a.end(); ++x, ++y) {
      if (a.is_object()) {
        ASSERT_EQ(x.key(), y.key()) << where;
      }
      expect_same_answer(*x, *y, where);
    }
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

TEST(ServeClassify, ConcurrentRequestsEqualRequestsAlone) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  const TextClassifier reranker = TextClassifier::load(heads("cross-encoder"));
  Service cls(classifier, small_options());
  Service rr(reranker, small_options());
  // A mix of singles, pairs and batches; each request's answer alone first.
  std::vector<std::string> bodies;
  for (size_t i = 0; i < 24; ++i) {
    const std::string& a = kTexts[i % kTexts.size()];
    const std::string& b = kTexts[(i * 5 + 1) % kTexts.size()];
    if (i % 3 == 0) bodies.push_back(json{{"inputs", a + " #" + std::to_string(i)}}.dump());
    if (i % 3 == 1) bodies.push_back(json{{"inputs", {a, b}}}.dump());
    if (i % 3 == 2) bodies.push_back(json{{"inputs", {{a}, {b, a}, {"n" + std::to_string(i)}}}}.dump());
  }
  std::vector<std::string> rerank_bodies;
  for (size_t i = 0; i < 12; ++i)
    rerank_bodies.push_back(json{{"query", kTexts[i % kTexts.size()]},
                                 {"texts", std::vector<std::string>(kTexts.begin(), kTexts.begin() + 2 + i % 5)},
                                 {"return_text", i % 2 == 0}}
                                .dump());
  std::vector<std::string> alone, rerank_alone;
  for (const std::string& b : bodies) alone.push_back(call(cls, "/predict", b).body);
  for (const std::string& b : rerank_bodies) rerank_alone.push_back(call(rr, "/rerank", b).body);

  std::vector<std::string> together(bodies.size()), rerank_together(rerank_bodies.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (size_t i = c; i < bodies.size(); i += 8) together[i] = call(cls, "/predict", bodies[i]).body;
      for (size_t i = c; i < rerank_bodies.size(); i += 8) rerank_together[i] = call(rr, "/rerank", rerank_bodies[i]).body;
    });
  }
  for (auto& t : clients) t.join();
  size_t bitwise = 0;
  for (size_t i = 0; i < bodies.size(); ++i) {
    ASSERT_EQ(alone[i].front(), '[') << alone[i];
    expect_same_answer(json::parse(together[i]), json::parse(alone[i]), bodies[i]);
    bitwise += together[i] == alone[i];
  }
  for (size_t i = 0; i < rerank_bodies.size(); ++i) {
    ASSERT_EQ(rerank_alone[i].front(), '[') << rerank_alone[i];
    expect_same_answer(json::parse(rerank_together[i]), json::parse(rerank_alone[i]), rerank_bodies[i]);
    bitwise += rerank_together[i] == rerank_alone[i];
  }
  std::printf("[serve] %zu/%zu concurrent answers byte-identical to the request alone\n", bitwise,
              bodies.size() + rerank_bodies.size());
  EXPECT_EQ(bitwise, bodies.size() + rerank_bodies.size());
}

TEST(ServeClassify, RerankEqualsTheCrossEncoderPipeline) {
  const TextClassifier classifier = TextClassifier::load(heads("cross-encoder"));
  Service service(classifier, small_options());
  ASSERT_EQ(service.kind(), ModelKind::Reranker);
  const Reranker reference = Reranker::load(heads("cross-encoder"));
  RerankerOptions raw_options;
  raw_options.raw_scores = true;
  const Reranker raw_reference = Reranker::load(heads("cross-encoder"), raw_options);
  const std::string query = "You may not impose any further restrictions";
  const std::vector<std::string> texts(kTexts.begin(), kTexts.end());

  for (bool raw : {false, true}) {
    const RerankResult want = (raw ? raw_reference : reference).rank(query, texts);
    ASSERT_TRUE(want.error.empty()) << want.error;
    HttpResponse r = call(service, "/rerank",
                          json{{"query", query}, {"texts", texts}, {"raw_scores", raw}, {"return_text", true}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const json got = json::parse(r.body);
    ASSERT_EQ(got.size(), texts.size());
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k]["index"].get<size_t>(), want.ranking[k].index) << k;
      EXPECT_EQ(f32(got[k]["score"]), want.ranking[k].score) << k;
      EXPECT_EQ(got[k]["text"], texts[want.ranking[k].index]);
    }
  }
  // Without return_text, no "text"; the keys in TEI's order.
  HttpResponse r = call(service, "/rerank", json{{"query", query}, {"texts", {"a", "b"}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("\"text\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.rfind("[{\"index\":", 0), 0u) << r.body;

  // /predict on a re-ranker: one label, its sigmoid (TEI), = classify() on the pair.
  r = call(service, "/predict", json{{"inputs", {query, texts[2]}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json got = json::parse(r.body);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["label"], "LABEL_0");
  EXPECT_EQ(f32(got[0]["score"]), reference.rank(query, {texts[2]}).ranking[0].score);
  EXPECT_EQ(f32(got[0]["score"]), classifier.classify({query}, {texts[2]})[0].labels[0].score);
}

TEST(ServeClassify, TruncationAndLengthLimits) {
  const TextClassifier classifier = TextClassifier::load(heads("cross-encoder"));
  Service service(classifier, small_options());
  EXPECT_EQ(service.max_length(), 128);
  std::string long_text;
  for (int i = 0; i < 150; ++i) long_text += "word ";
  const std::string query = "free software";
  HttpResponse r = call(service, "/rerank", json{{"query", query}, {"texts", {long_text, "short"}}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("`inputs` must have less than 128 tokens. Given: "), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"error_type\":\"validation\""), std::string::npos) << r.body;
  // With truncation: longest_first to the max length, as CrossEncoder (always) truncates.
  r = call(service, "/rerank", json{{"query", query}, {"texts", {long_text, "short"}}, {"truncate", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const RerankResult want = Reranker::load(heads("cross-encoder")).rank(query, {long_text, "short"});
  json got = json::parse(r.body);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(got[k]["index"].get<size_t>(), want.ranking[k].index);
    EXPECT_EQ(f32(got[k]["score"]), want.ranking[k].score);
  }
  r = call(service, "/predict", json{{"inputs", long_text}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  r = call(service, "/predict", json{{"inputs", long_text}, {"truncate", true}, {"truncation_direction", "Left"}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  // The default comes from --auto-truncate.
  ServiceOptions o = small_options();
  o.auto_truncate = true;
  Service truncating(classifier, o);
  EXPECT_EQ(call(truncating, "/predict", json{{"inputs", long_text}}.dump()).status, 200);
  EXPECT_EQ(call(truncating, "/predict", json{{"inputs", long_text}, {"truncate", false}}.dump()).status, 413);
  // --max-length: a shorter limit.
  o = small_options();
  o.max_length = 16;
  Service short_limit(classifier, o);
  r = call(short_limit, "/predict", json{{"inputs", {"a b c d e f g h", "i j k l m n o p"}}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("less than 16 tokens. Given: "), std::string::npos) << r.body;
  o.max_length = 129;
  EXPECT_THROW({ Service too_long(classifier, o); }, Error);
}

TEST(ServeClassify, ErrorsAsTEI) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  ServiceOptions o = small_options();
  o.max_client_batch_size = 2;
  o.api_key = "k";
  Service service(classifier, o);
  const std::string auth = "Bearer k";
  auto expect = [&](const std::string& path, const std::string& body, int status, const std::string& type,
                    const std::string& text, const std::string& key = "Bearer k") {
    HttpResponse r = call(service, path, body, key);
    EXPECT_EQ(r.status, status) << path << " " << body << ": " << r.body;
    EXPECT_NE(r.body.find("\"error_type\":\"" + type + "\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(text), std::string::npos) << path << " " << body << ": " << r.body;
  };
  expect("/predict", R"({"inputs": "x"})", 401, "unauthorized", "API key", "");
  expect("/rerank", R"({"query": "x", "texts": ["y"]})", 401, "unauthorized", "API key", "Bearer wrong");
  // A classifier with 3 labels is no re-ranker; no embedding model either.
  expect("/rerank", R"({"query": "x", "texts": ["y"]})", 424, "backend", "Backend error: model is not a re-ranker model");
  expect("/rerank", R"({"query": "x", "texts": []})", 400, "empty", "`texts` cannot be empty");
  for (const char* path : {"/embed", "/embed_all", "/embed_sparse"})
    expect(path, R"({"inputs": "x"})", 424, "backend", "Model is not an embedding model");
  expect("/similarity", R"({"inputs": {"source_sentence": "a", "sentences": ["b"]}})", 424, "backend",
         "not an embedding model");
  HttpResponse r = call(service, "/v1/embeddings", R"({"input": "x"})", auth);
  EXPECT_EQ(r.status, 424);
  EXPECT_EQ(json::parse(r.body)["type"], "backend") << r.body;
  // Batch limits (413) and empty inputs.
  expect("/predict", R"({"inputs": [["a"], ["b"], ["c"]]})", 413, "validation",
         "batch size 3 > maximum allowed batch size 2");
  expect("/predict", R"({"inputs": ""})", 413, "validation", "`inputs` cannot be empty");
  expect("/predict", R"({"inputs": ["", ""]})", 413, "validation", "`inputs` cannot be empty");
  // Malformed bodies: 422 naming the field.
  expect("/predict", R"({"inputs": )", 422, "validation", "invalid JSON");
  expect("/predict", R"({})", 422, "validation", "missing field `inputs`");
  expect("/predict", R"({"inputs": 5})", 422, "validation", "`inputs` must be");
  expect("/predict", R"({"inputs": []})", 422, "validation", "`inputs` must be");
  expect("/predict", R"({"inputs": ["a", "b", "c"]})", 422, "validation", "`inputs` must be a list of one or two");
  expect("/predict", R"({"inputs": ["a", 5]})", 422, "validation", "`inputs[1]` must be a string");
  expect("/predict", R"({"inputs": [["a"], "b"]})", 422, "validation", "`inputs[1]` must be a list");
  expect("/predict", R"({"inputs": [["a"], []]})", 422, "validation", "`inputs[1]` must be a list of one or two");
  expect("/predict", R"({"inputs": "a", "raw_scores": "yes"})", 422, "validation", "`raw_scores` must be a boolean");
  expect("/predict", R"({"inputs": "a", "truncation_direction": "Up"})", 422, "validation", "`truncation_direction`");
  expect("/rerank", R"({"texts": ["a"]})", 422, "validation", "missing field `query`");
  expect("/rerank", R"({"query": 1, "texts": ["a"]})", 422, "validation", "`query` must be a string");
  expect("/rerank", R"({"query": "q", "texts": "a"})", 422, "validation", "`texts` must be a list of strings");
  expect("/rerank", R"({"query": "q", "texts": ["a", 2]})", 422, "validation", "`texts[1]` must be a string");
  expect("/rerank", R"({"query": "q", "texts": ["a"], "return_text": 1})", 422, "validation", "`return_text`");
  // /info: TEI's model_type for a classifier.
  r = call(service, "/info", "", auth, "GET");
  ASSERT_EQ(r.status, 200) << r.body;
  const json info = json::parse(r.body);
  EXPECT_EQ(info["model_type"], json::parse(R"({"classifier": {"id2label": {"0": "negative", "1": "neutral",
      "2": "positive"}, "label2id": {"negative": 0, "neutral": 1, "positive": 2}}})"));
  EXPECT_EQ(info["max_input_length"], 128);
  EXPECT_EQ(info["num_labels"], 3);
  // /tokenize and /decode use the classifier's tokenizer.
  r = call(service, "/tokenize", R"({"inputs": "hello"})", auth);
  EXPECT_EQ(r.status, 200) << r.body;

  // 429 beyond the concurrency limit.
  ServiceOptions none = small_options();
  none.max_concurrent_requests = 0;
  Service full(classifier, none);
  r = call(full, "/predict", R"({"inputs": "x"})");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"error":"Model is overloaded","error_type":"overloaded"})");
}

TEST(ServeClassify, RerankerInfoAndLimits) {
  const TextClassifier classifier = TextClassifier::load(heads("cross-encoder"));
  ServiceOptions o = small_options();
  o.max_client_batch_size = 2;
  Service service(classifier, o);
  HttpResponse r = call(service, "/info", "", "", "GET");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["model_type"],
            json::parse(R"({"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}})"));
  r = call(service, "/rerank", R"({"query": "q", "texts": ["a", "b", "c"]})");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("batch size 3 > maximum allowed batch size 2"), std::string::npos) << r.body;
  r = call(service, "/rerank", R"({"query": "", "texts": ["a", ""]})");  // the pair ("", "") is empty
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("`inputs` cannot be empty"), std::string::npos) << r.body;
  r = call(service, "/embed", R"({"inputs": "x"})");
  EXPECT_EQ(r.status, 424) << r.body;
}

}  // namespace
}  // namespace encore::serve
