// encore serve's router (Service::handle) without sockets, on the random-weight models of
// tests/fixtures: the cheap answers (/health, /info, /metrics, 401, 404) come at once even
// while every tokenization worker is busy; /tokenize and /decode count against
// --max-concurrent-requests like the model routes; 401 says which scheme; an input of only
// whitespace or control characters is refused as "" is, on every route; an answer over
// --max-response-bytes is a 413.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "encore/classifier.h"
#include "encore/embedder.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::call;
using testing::fixture;

std::string heads(const std::string& name) { return (fixture("heads/" + name) / "model").string(); }

// Sends a request with the key these tests' services expect.
std::future<HttpResponse> send(Service& service, const std::string& method, const std::string& path,
                               const std::string& body = "", const std::string& auth = "Bearer k") {
  return testing::send(service, method, path, body, auth);
}

// The answer, or status 0 when none came within 5 s.
HttpResponse within_5s(std::future<HttpResponse>& answer) {
  if (answer.wait_for(5s) != std::future_status::ready) return HttpResponse{0, "no answer within 5 s", "", {}};
  return answer.get();
}

TEST(ServeRoutes, CheapAnswersDoNotQueueBehindWorkersAndTokenizeCountsAgainstTheLimit) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  ServiceOptions o;
  o.model_id = "test";
  o.tokenization_workers = 1;
  o.max_concurrent_requests = 2;
  o.api_key = "k";
  Service service(classifier, o);
  // The only worker answers a /tokenize and then blocks in its Responder until released
  // (declared after the service: released before the service joins its workers).
  std::promise<void> answered;
  struct Release {
    std::promise<void> go;
    bool done = false;
    void operator()() {
      if (!done) go.set_value();
      done = true;
    }
    ~Release() { (*this)(); }
  } release;
  std::shared_future<void> go = release.go.get_future().share();
  HttpRequest blocking;
  blocking.method = "POST";
  blocking.path = "/tokenize";
  blocking.body = R"({"inputs": "held"})";
  blocking.authorization = "Bearer k";
  service.handle(std::move(blocking), [&answered, go](HttpResponse) {
    answered.set_value();
    go.wait();
  });
  ASSERT_EQ(answered.get_future().wait_for(60s), std::future_status::ready);

  // Two more worker requests wait for the worker and fill --max-concurrent-requests 2.
  std::future<HttpResponse> queued_tokenize = send(service, "POST", "/tokenize", R"({"inputs": "a"})");
  std::future<HttpResponse> queued_decode = send(service, "POST", "/decode", R"({"ids": [101, 102]})");
  std::future<HttpResponse> overflow = send(service, "POST", "/tokenize", R"({"inputs": "b"})");
  HttpResponse r = within_5s(overflow);
  EXPECT_EQ(r.status, 429) << r.body;
  std::future<HttpResponse> overflow_decode = send(service, "POST", "/decode", R"({"ids": [101]})");
  r = within_5s(overflow_decode);
  EXPECT_EQ(r.status, 429) << r.body;

  // The cheap answers do not wait for the worker.
  for (const char* path : {"/health", "/info", "/metrics"}) {
    std::future<HttpResponse> f = send(service, "GET", path);
    r = within_5s(f);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  }
  std::future<HttpResponse> unauthorized = send(service, "POST", "/predict", R"({"inputs": "x"})", "Bearer wrong");
  r = within_5s(unauthorized);
  EXPECT_EQ(r.status, 401) << r.body;
  std::future<HttpResponse> missing = send(service, "GET", "/nope");
  r = within_5s(missing);
  EXPECT_EQ(r.status, 404) << r.body;

  release();
  r = within_5s(queued_tokenize);
  EXPECT_EQ(r.status, 200) << r.body;
  r = within_5s(queued_decode);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(ServeRoutes, UnauthorizedNamesTheScheme) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  ServiceOptions o;
  o.api_key = "k";
  Service service(classifier, o);
  for (const char* auth : {"", "Bearer wrong"}) {
    const HttpResponse r = call(service, "/predict", R"({"inputs": "x"})", auth);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"WWW-Authenticate", "Bearer"}}));
  }
  EXPECT_TRUE(call(service, "/predict", R"({"inputs": "x"})", "Bearer k").headers.size() > 1);  // TEI's x-* only
}

// Texts with no tokens of their own: "" and what the tokenizer drops (whitespace, control and
// format characters). Each is a 413 "cannot be empty" where "" is, instead of running as the
// special tokens alone ([CLS] [SEP]).
const std::vector<std::string> kBlanks = {"", "   ", "\t\n\r ", std::string("\0\x01\x1f\x7f", 4),
                                          "\u00a0\u3000\u200b"};

void expect_empty(Service& service, const std::string& path, const json& body, const char* field = "inputs") {
  const HttpResponse r = call(service, path, body.dump());
  EXPECT_EQ(r.status, 413) << path << " " << body.dump() << ": " << r.body;
  EXPECT_NE(r.body.find(std::string("`") + field + "` cannot be empty"), std::string::npos)
      << path << " " << body.dump() << ": " << r.body;
}

TEST(ServeRoutes, BlankInputsAreRefusedAsEmpty) {
  const TextClassifier classifier = TextClassifier::load(heads("sequence-classification"));
  Service classify(classifier, ServiceOptions{});
  const TextClassifier cross = TextClassifier::load(heads("cross-encoder"));
  Service rerank(cross, ServiceOptions{});
  for (const std::string& blank : kBlanks) {
    expect_empty(classify, "/predict", {{"inputs", blank}});
    expect_empty(classify, "/predict", {{"inputs", {blank, blank}}});
    expect_empty(classify, "/predict", {{"inputs", {{"x"}, {blank}}}});
    expect_empty(classify, "/tokenize", {{"inputs", blank}});
    expect_empty(rerank, "/rerank", {{"query", blank}, {"texts", {"x", blank}}});
    HttpResponse r = call(classify, "/predict", json{{"inputs", {blank, "x"}}}.dump());  // one text of two
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // An embedding model; one with a default prompt (the input's own tokens count, not the
  // prompt's); a StaticEmbedding.
  for (const std::string name : {"st2-dense", "st5-prompts", "st5-static"}) {
    const Embedder embedder = Embedder::load(fixture("st/" + name).string());
    Service service(embedder, ServiceOptions{});
    for (const std::string& blank : kBlanks) {
      SCOPED_TRACE(name + " " + json(blank).dump());
      expect_empty(service, "/embed", {{"inputs", blank}});
      expect_empty(service, "/embed", {{"inputs", {"x", blank}}});
      expect_empty(service, "/embed_all", {{"inputs", blank}});
      expect_empty(service, "/similarity", {{"inputs", {{"source_sentence", blank}, {"sentences", {"x"}}}}});
      expect_empty(service, "/v1/embeddings", {{"input", blank}}, "input");
    }
    HttpResponse r = call(service, "/embed", R"({"inputs": " x\u0001"})");
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
  }
}

}  // namespace
}  // namespace encore::serve

namespace encore::serve {
namespace {

// An answer larger than --max-response-bytes is a 413 naming the limit (in the route's error
// shape), not tens of megabytes held for a client; answers within it are untouched.
TEST(ServeRoutes, AnswersOverTheResponseLimitAre413) {
  const Embedder embedder = Embedder::load(fixture("st/st2-dense").string());
  Service unlimited(embedder, ServiceOptions{});
  const std::string body = R"({"inputs": ["a b c d e f g h i j k l m n o p", "q r s t u v w x y z"]})";
  const HttpResponse full = call(unlimited, "/embed_all", body);
  ASSERT_EQ(full.status, 200) << full.body;
  ServiceOptions o;
  o.max_response_bytes = full.body.size() - 1;
  Service limited(embedder, o);
  HttpResponse r = call(limited, "/embed_all", body);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("the answer would be " + std::to_string(full.body.size()) + " bytes, more than the " +
                        std::to_string(o.max_response_bytes) + " allowed (--max-response-bytes)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(json::parse(r.body)["error_type"], "validation") << r.body;
  r = call(limited, "/embed", body);  // a pooled vector per input: small
  EXPECT_EQ(r.status, 200) << r.body;
  o.max_response_bytes = 16;
  Service tiny(embedder, o);
  r = call(tiny, "/v1/embeddings", R"({"input": "x"})");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_TRUE(json::parse(r.body).contains("message")) << "OpenAI's error shape on its route: " << r.body;
}

}  // namespace
}  // namespace encore::serve
