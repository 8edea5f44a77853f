// encore serve: request parsing and validation (serve/request.cc), error shapes,
// base64, the API-key comparison and the metrics text. No model needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "serve/api_error.h"
#include "serve/base64.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/service.h"

namespace encore::serve {
namespace {

// The 422 message of a body the parser rejects ("" when it is accepted).
template <class Parse>
std::string rejection(Parse parse, const std::string& body) {
  try {
    parse(body);
  } catch (const ApiException& e) {
    EXPECT_EQ(e.error.status, 422) << e.error.message;
    EXPECT_EQ(e.error.type, ErrorType::Validation);
    return e.error.message;
  }
  return "";
}

std::string embed_error(const std::string& body) { return rejection(parse_embed_request, body); }

TEST(ServeRequest, EmbedInputShapes) {
  EmbedRequest r = parse_embed_request(R"({"inputs": "What is Deep Learning?"})");
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_FALSE(r.batch);
  EXPECT_EQ(r.inputs[0].text, "What is Deep Learning?");
  EXPECT_TRUE(r.normalize);  // TEI's default
  EXPECT_FALSE(r.truncate.has_value());
  EXPECT_EQ(r.truncation_direction, TruncationSide::Right);

  r = parse_embed_request(R"({"inputs": ["a", "b"], "truncate": true, "truncation_direction": "Left",
                              "normalize": false, "dimensions": 64, "prompt_name": "query"})");
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_TRUE(r.batch);
  EXPECT_EQ(r.truncate, true);
  EXPECT_EQ(r.truncation_direction, TruncationSide::Left);
  EXPECT_FALSE(r.normalize);
  EXPECT_EQ(r.dimensions, 64);
  EXPECT_EQ(r.prompt_name, "query");

  r = parse_embed_request(R"({"inputs": [101, 7592, 102]})");  // one input as token ids
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_FALSE(r.batch);
  EXPECT_TRUE(r.inputs[0].is_ids);
  EXPECT_EQ(r.inputs[0].ids, (std::vector<int64_t>{101, 7592, 102}));

  r = parse_embed_request(R"({"inputs": ["text", [101, 102]], "truncate": null})");  // mixed; null = default
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_FALSE(r.inputs[0].is_ids);
  EXPECT_TRUE(r.inputs[1].is_ids);
  EXPECT_FALSE(r.truncate.has_value());

  r = parse_embed_request(R"({"inputs": [], "unknown_field": {"ignored": true}})");
  EXPECT_TRUE(r.inputs.empty());  // the route answers 400 "cannot be empty"
}

TEST(ServeRequest, EmbedErrorsNameTheField) {
  EXPECT_NE(embed_error("{\"inputs\": ").find("invalid JSON"), std::string::npos);
  EXPECT_NE(embed_error("not json").find("invalid JSON"), std::string::npos);
  EXPECT_NE(embed_error("[1, 2]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(embed_error("{}").find("missing field `inputs`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": null})").find("`inputs`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": 5})").find("`inputs` must be"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": ["a", 5]})").find("`inputs[1]`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": ["a", {"x": 1}]})").find("`inputs[1]`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": [[1, "a"]]})").find("`inputs[0][1]`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": [1, -2]})").find("`inputs[1]`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": [1, 1.5]})").find("`inputs[1]`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": [99999999999]})").find("not a token id"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "normalize": "yes"})").find("`normalize` must be a boolean"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "truncate": 1})").find("`truncate` must be a boolean"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "truncation_direction": "Up"})").find("`truncation_direction`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "dimensions": 0})").find("`dimensions`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "dimensions": "8"})").find("`dimensions`"), std::string::npos);
  EXPECT_NE(embed_error(R"({"inputs": "a", "prompt_name": 3})").find("`prompt_name`"), std::string::npos);
  // Invalid UTF-8 inside a string is a JSON error, before any tokenizer sees it.
  EXPECT_NE(embed_error("{\"inputs\": \"bad \xff byte\"}").find("invalid JSON"), std::string::npos);
}

TEST(ServeRequest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = "{\"inputs\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_NE(embed_error(deep).find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  EmbedRequest r = parse_embed_request("{\"inputs\": \"" + std::string(1000, '[') + "\"}");
  EXPECT_EQ(r.inputs[0].text.size(), 1000u);
}

TEST(ServeRequest, OpenAI) {
  OpenAIRequest r = parse_openai_request(R"({"input": "hello", "model": "m"})");
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.encoding_format, EncodingFormat::Float);
  r = parse_openai_request(R"({"input": [[1, 2], [3]], "encoding_format": "base64", "dimensions": 8, "user": "u"})");
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_TRUE(r.inputs[0].is_ids && r.inputs[1].is_ids);
  EXPECT_EQ(r.encoding_format, EncodingFormat::Base64);
  r = parse_openai_request(R"({"input": [1, 2, 3]})");
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0].ids.size(), 3u);
  EXPECT_NE(rejection(parse_openai_request, R"({"inputs": "x"})").find("missing field `input`"), std::string::npos);
  EXPECT_NE(rejection(parse_openai_request, R"({"input": "x", "encoding_format": "hex"})").find("`encoding_format`"),
            std::string::npos);
  EXPECT_NE(rejection(parse_openai_request, R"({"input": "x", "model": 1})").find("`model`"), std::string::npos);
}

TEST(ServeRequest, SimilarityTokenizeDecode) {
  SimilarityRequest s = parse_similarity_request(
      R"({"inputs": {"source_sentence": "a", "sentences": ["b", "c"]}, "parameters": {"truncate": true}})");
  EXPECT_EQ(s.source_sentence, "a");
  EXPECT_EQ(s.sentences.size(), 2u);
  EXPECT_EQ(s.truncate, true);
  EXPECT_NE(rejection(parse_similarity_request, R"({"inputs": "a"})").find("`inputs` must be an object"), std::string::npos);
  EXPECT_NE(rejection(parse_similarity_request, R"({"inputs": {"sentences": []}})").find("`inputs.source_sentence`"),
            std::string::npos);
  EXPECT_NE(rejection(parse_similarity_request, R"({"inputs": {"source_sentence": "a", "sentences": ["b", 1]}})")
                .find("`inputs.sentences[1]`"),
            std::string::npos);

  TokenizeRequest t = parse_tokenize_request(R"({"inputs": ["a", "b"], "add_special_tokens": false})");
  EXPECT_TRUE(t.batch);
  EXPECT_FALSE(t.add_special_tokens);
  EXPECT_NE(rejection(parse_tokenize_request, R"({"inputs": [[1]]})").find("`inputs[0]`"), std::string::npos);

  DecodeRequest d = parse_decode_request(R"({"ids": [101, 102]})");
  EXPECT_FALSE(d.batch);
  ASSERT_EQ(d.ids.size(), 1u);
  d = parse_decode_request(R"({"ids": [[101], [102, 103]], "skip_special_tokens": false})");
  EXPECT_TRUE(d.batch);
  EXPECT_EQ(d.ids.size(), 2u);
  EXPECT_FALSE(d.skip_special_tokens);
  EXPECT_NE(rejection(parse_decode_request, R"({"ids": "101"})").find("`ids`"), std::string::npos);
  EXPECT_NE(rejection(parse_decode_request, R"({"ids": [[1], 2]})").find("`ids[1]`"), std::string::npos);
}

// TEI's PredictInput and RerankRequest (router/src/http/types.rs).
TEST(ServeRequest, PredictAndRerank) {
  PredictRequest p = parse_predict_request(R"({"inputs": "a text"})");
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_FALSE(p.batch);
  EXPECT_FALSE(p.inputs[0].pair.has_value());
  EXPECT_FALSE(p.raw_scores);
  EXPECT_FALSE(p.truncate.has_value());
  p = parse_predict_request(R"({"inputs": ["text", ""], "raw_scores": true, "truncate": true,
                                "truncation_direction": "Left"})");  // a pair, even with an empty second text
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_FALSE(p.batch);
  EXPECT_EQ(p.inputs[0].text, "text");
  EXPECT_EQ(p.inputs[0].pair, "");
  EXPECT_TRUE(p.raw_scores);
  EXPECT_EQ(p.truncate, true);
  EXPECT_EQ(p.truncation_direction, TruncationSide::Left);
  p = parse_predict_request(R"({"inputs": ["only"]})");  // ["text"]: one text
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_FALSE(p.batch || p.inputs[0].pair.has_value());
  p = parse_predict_request(R"({"inputs": [["a"], ["b", "c"]]})");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_TRUE(p.batch);
  EXPECT_FALSE(p.inputs[0].pair.has_value());
  EXPECT_EQ(p.inputs[1].pair, "c");
  EXPECT_EQ(p.inputs[1].count_chars(), 2u);
  EXPECT_EQ((PredictInput{"é", "日本"}).count_chars(), 3u);
  auto predict_error = [](const std::string& body) { return rejection(parse_predict_request, body); };
  EXPECT_NE(predict_error(R"({"inputs": []})").find("got an empty list"), std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": {"a": 1}})").find("`inputs` must be a string, a pair"), std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": ["a", "b", "c"]})").find("`inputs` must be a list of one or two strings"),
            std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": ["a", ["b"]]})").find("`inputs[1]` must be a string"), std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": [["a"], "b"]})").find("`inputs[1]` must be a list"), std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": [["a", 1]]})").find("`inputs[0][1]` must be a string"), std::string::npos);
  EXPECT_NE(predict_error(R"({"inputs": "a", "raw_scores": null, "truncate": "no"})").find("`truncate`"),
            std::string::npos);

  RerankRequest r = parse_rerank_request(R"({"query": "q", "texts": ["a", "b"]})");
  EXPECT_EQ(r.query, "q");
  EXPECT_EQ(r.texts.size(), 2u);
  EXPECT_FALSE(r.raw_scores || r.return_text || r.truncate.has_value());
  r = parse_rerank_request(R"({"query": "q", "texts": [], "raw_scores": true, "return_text": true,
                               "truncate": false, "truncation_direction": "Right"})");
  EXPECT_TRUE(r.texts.empty());  // the route answers 400
  EXPECT_TRUE(r.raw_scores && r.return_text);
  EXPECT_EQ(r.truncate, false);
  auto rerank_error = [](const std::string& body) { return rejection(parse_rerank_request, body); };
  EXPECT_NE(rerank_error(R"({"texts": ["a"]})").find("missing field `query`"), std::string::npos);
  EXPECT_NE(rerank_error(R"({"query": "q"})").find("missing field `texts`"), std::string::npos);
  EXPECT_NE(rerank_error(R"({"query": ["q"], "texts": ["a"]})").find("`query` must be a string"), std::string::npos);
  EXPECT_NE(rerank_error(R"({"query": "q", "texts": [1]})").find("`texts[0]`"), std::string::npos);
  EXPECT_NE(rerank_error(R"({"query": "q", "texts": ["a"], "return_text": "yes"})").find("`return_text`"),
            std::string::npos);
}

TEST(ServeRequest, CountChars) {
  EXPECT_EQ((Input{"h\xC3\xA9llo \xF0\x9F\x98\x80", {}, false}.count_chars()), 7u);
  EXPECT_EQ((Input{"", {1, 2, 3}, true}.count_chars()), 3u);
}

TEST(ServeErrors, ShapesAndStatuses) {
  const ApiError v = validation("batch size 40 > maximum allowed batch size 32");
  EXPECT_EQ(v.status, 413);
  const nlohmann::json tei = nlohmann::json::parse(v.tei_json());
  EXPECT_EQ(tei["error"], "batch size 40 > maximum allowed batch size 32");
  EXPECT_EQ(tei["error_type"], "validation");
  const nlohmann::json oa = nlohmann::json::parse(overloaded().openai_json());
  EXPECT_EQ(oa["code"], 429);
  EXPECT_EQ(oa["type"], "overloaded");
  EXPECT_EQ(oa["message"], "Model is overloaded");
  EXPECT_EQ(empty_input("x").status, 400);
  EXPECT_EQ(tokenizer_error("x").status, 422);
  EXPECT_EQ(backend_error("x").status, 424);
  EXPECT_EQ(invalid_body("x").status, 422);
  // Messages with quotes, control bytes and invalid UTF-8 stay valid JSON.
  EXPECT_NO_THROW(nlohmann::json::parse(invalid_body("a\"b\\c\n\x01\xff").tei_json()));
}

TEST(ServeBase64, KnownVectors) {
  auto b64 = [](const std::string& s) {
    std::string out;
    append_base64(out, s.data(), s.size());
    return out;
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("M"), "TQ==");
  EXPECT_EQ(b64("Ma"), "TWE=");
  EXPECT_EQ(b64("Man"), "TWFu");
  EXPECT_EQ(b64("any carnal pleasure."), "YW55IGNhcm5hbCBwbGVhc3VyZS4=");
  const float one = 1.0f;  // 00 00 80 3f little-endian
  std::string out;
  append_base64(out, &one, sizeof one);
  EXPECT_EQ(out, "AACAPw==");
}

TEST(ServeAuth, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("Bearer abc", "Bearer abc"));
  EXPECT_FALSE(constant_time_equal("Bearer abc", "Bearer abd"));
  EXPECT_FALSE(constant_time_equal("Bearer abc", "Bearer ab"));
  EXPECT_FALSE(constant_time_equal("", "Bearer abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ServeMetrics, PrometheusText) {
  Metrics m;
  m.record_request("/embed", 200, 0.003);
  m.record_request("/embed", 429, 0.0001);
  m.record_inference(0.0002, 0.001, 0.002, 12);
  m.record_batch({4, 40, 0.002, 3});
  const std::string text = m.render(7, 2);
  EXPECT_NE(text.find("encore_http_requests_total{route=\"/embed\",status=\"200\"} 1"), std::string::npos);
  EXPECT_NE(text.find("encore_http_requests_total{route=\"/embed\",status=\"429\"} 1"), std::string::npos);
  EXPECT_NE(text.find("encore_http_request_duration_seconds_bucket{route=\"/embed\",le=\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(text.find("encore_http_request_duration_seconds_count{route=\"/embed\"} 2"), std::string::npos);
  EXPECT_NE(text.find("encore_batch_size_bucket{le=\"4\"} 1"), std::string::npos);
  EXPECT_NE(text.find("encore_batch_tokens_sum 40"), std::string::npos);
  EXPECT_NE(text.find("encore_queue_depth 7"), std::string::npos);
  EXPECT_NE(text.find("encore_requests_in_flight 2"), std::string::npos);
  EXPECT_NE(text.find("# TYPE encore_request_queue_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace encore::serve
