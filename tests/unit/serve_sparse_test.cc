// encore serve with a SPLADE model (TEI's embedding model with splade pooling), through
// Service::handle without sockets: /embed_sparse (and "/" and /invocations) answers TEI's
// [[{"index", "value"}, ...], ...] equal to SparseEncoder::encode (bitwise: a sequence's weights
// do not depend on its batch) and to sentence-transformers' goldens; /embed with
// normalize=false gives the weights as a dense vector; what TEI refuses on such a model
// (normalize, /embed_all, OpenAI's always-normalized embeddings) is a 424; /similarity is
// SparseEncoder.similarity; /info says "splade".
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/sparse_encoder.h"
#include "serve/service.h"
#include "serve_test_util.h"
#include "test_util.h"

namespace encore::serve {
namespace {

using nlohmann::json;
using testing::call;
using testing::fixture;

float f32(const json& v) {
  return static_cast<float>(v.get<double>());
}

ServiceOptions small_options() {
  ServiceOptions o;
  o.model_id = "splade";
  o.max_client_batch_size = 64;
  o.tokenization_workers = 2;
  return o;
}

// The weights of one /embed_sparse answer row.
SparseEmbedding parse_sparse(const json& row) {
  SparseEmbedding s;
  for (const json& p : row) {
    EXPECT_EQ(p.size(), 2u) << p.dump();
    s.indices.push_back(p["index"].get<int32_t>());
    s.values.push_back(f32(p["value"]));
  }
  return s;
}

class ServeSparse : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>();
    const auto model = testing::sparse_variant(fixture("heads/masked-lm") / "model", dir_->path / "m", "max", "relu");
    encoder_ = std::make_unique<SparseEncoder>(SparseEncoder::load(model.string()));
    for (const json& c : testing::read_jsonl(fixture("sparse/tiny-max-relu.jsonl"))) goldens_.push_back(c);
  }
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<SparseEncoder> encoder_;
  std::vector<json> goldens_;
};

TEST_F(ServeSparse, EmbedSparseEqualsTheEncoderAndTheReference) {
  Service service(*encoder_, small_options());
  std::vector<std::string> texts;
  json inputs = json::array();
  for (const json& c : goldens_) {
    const std::string text = c["text"].get<std::string>();
    if (text.empty()) continue;  // "" is a 413 on the server, as TEI
    texts.push_back(text);
    inputs.push_back(text);
  }
  const std::vector<SparseEmbedding> want = encoder_->encode(texts);
  // The whole batch, then each input alone (other batches), on each route that answers it.
  for (const char* path : {"/embed_sparse", "/", "/invocations"}) {
    const HttpResponse r = call(service, path, json{{"inputs", inputs}}.dump());
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    const json got = json::parse(r.body);
    ASSERT_EQ(got.size(), texts.size()) << path;
    for (size_t i = 0; i < texts.size(); ++i) {
      const SparseEmbedding s = parse_sparse(got[i]);
      EXPECT_EQ(s.indices, want[i].indices) << path << " #" << i;
      EXPECT_EQ(s.values, want[i].values) << path << " #" << i;
    }
  }
  for (size_t i = 0; i < texts.size(); i += 7) {
    const HttpResponse r = call(service, "/embed_sparse", json{{"inputs", texts[i]}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const json got = json::parse(r.body);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(parse_sparse(got[0]).values, want[i].values) << i;
  }
  // Against sentence-transformers: same indices, values within 1e-5 relative.
  size_t k = 0;
  for (const json& c : goldens_) {
    if (c["text"].get<std::string>().empty()) continue;
    EXPECT_EQ(want[k].indices, c["indices"].get<std::vector<int32_t>>()) << c["text"];
    const auto v = c["values"].get<std::vector<float>>();
    for (size_t j = 0; j < v.size() && j < want[k].values.size(); ++j)
      EXPECT_NEAR(want[k].values[j], v[j], 1e-5 * std::max(1.0f, std::fabs(v[j])));
    ++k;
  }
}

TEST_F(ServeSparse, DenseRoutesAsTei) {
  Service service(*encoder_, small_options());
  const std::string text = goldens_[1]["text"];  // [0] is ""
  const SparseEmbedding want = encoder_->encode({text})[0];
  // /embed: TEI refuses normalize (its default) on a SPLADE model; without it, the weights
  // over the whole vocabulary, cut to `dimensions` when asked.
  HttpResponse r = call(service, "/embed", json{{"inputs", text}}.dump());
  EXPECT_EQ(r.status, 424) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "Backend error: `normalize` is not available for SPLADE models");
  r = call(service, "/embed", json{{"inputs", text}, {"normalize", false}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto dense = json::parse(r.body)[0].get<std::vector<float>>();
  ASSERT_EQ(static_cast<int64_t>(dense.size()), encoder_->dimensions());
  std::vector<float> expect(dense.size(), 0.0f);
  for (size_t k = 0; k < want.indices.size(); ++k) expect[static_cast<size_t>(want.indices[k])] = want.values[k];
  EXPECT_EQ(dense, expect);
  r = call(service, "/embed", json{{"inputs", text}, {"normalize", false}, {"dimensions", 100}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)[0].get<std::vector<float>>(), std::vector<float>(expect.begin(), expect.begin() + 100));
  r = call(service, "/embed",
           json{{"inputs", text}, {"normalize", false}, {"dimensions", encoder_->dimensions() + 1}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;

  r = call(service, "/embed_all", json{{"inputs", text}}.dump());
  EXPECT_EQ(r.status, 424) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "Backend error: `embed_all` is not available for SPLADE models");
  r = call(service, "/v1/embeddings", json{{"input", text}}.dump());
  EXPECT_EQ(r.status, 424) << r.body;

  // /similarity: SparseEncoder.similarity (dot by default) of the source with each sentence.
  const std::string other = goldens_[2]["text"];
  r = call(service, "/similarity", json{{"inputs", {{"source_sentence", text}, {"sentences", {other, text}}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto scores = json::parse(r.body).get<std::vector<float>>();
  const std::vector<SparseEmbedding> pair = encoder_->encode({text, other});
  double dot = 0.0, self = 0.0;
  for (size_t a = 0; a < pair[0].indices.size(); ++a) {
    self += static_cast<double>(pair[0].values[a]) * pair[0].values[a];
    for (size_t b = 0; b < pair[1].indices.size(); ++b)
      if (pair[0].indices[a] == pair[1].indices[b]) dot += static_cast<double>(pair[0].values[a]) * pair[1].values[b];
  }
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0], dot, 1e-6 * std::max(1.0, dot));
  EXPECT_NEAR(scores[1], self, 1e-6 * std::max(1.0, self));
}

TEST_F(ServeSparse, LimitsInfoAndTokenize) {
  ServiceOptions o = small_options();
  o.max_client_batch_size = 2;
  Service service(*encoder_, o);
  // TEI's input checks hold on /embed_sparse too.
  HttpResponse r = call(service, "/embed_sparse", R"({"inputs": ["a", "b", "c"]})");
  EXPECT_EQ(r.status, 413) << r.body;
  r = call(service, "/embed_sparse", R"({"inputs": ""})");
  EXPECT_EQ(r.status, 413) << r.body;
  r = call(service, "/embed_sparse", R"({"inputs": []})");
  EXPECT_EQ(r.status, 400) << r.body;
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  r = call(service, "/embed_sparse", json{{"inputs", long_text}}.dump());
  EXPECT_EQ(r.status, 413) << r.body;
  // Truncated, it equals SparseEncoder::encode, which cuts to max_length as sentence-transformers.
  r = call(service, "/embed_sparse", json{{"inputs", long_text}, {"truncate", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_sparse(json::parse(r.body)[0]).values, encoder_->encode({long_text})[0].values);
  // Token ids as given.
  const std::vector<int32_t> ids = encoder_->tokenizer().encode("hello world").ids;
  r = call(service, "/embed_sparse", json{{"inputs", ids}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_sparse(json::parse(r.body)[0]).values, encoder_->encode({"hello world"})[0].values);

  r = call(service, "/info", "", "", "GET");
  ASSERT_EQ(r.status, 200);
  const json info = json::parse(r.body);
  EXPECT_EQ(info["model_type"], json::parse(R"({"embedding": {"pooling": "splade"}})"));
  EXPECT_EQ(info["dimensions"], encoder_->dimensions());
  EXPECT_EQ(info["max_input_length"], encoder_->max_length());
  r = call(service, "/tokenize", R"({"inputs": "hello world"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = call(service, "/predict", R"({"inputs": "hello"})");
  EXPECT_EQ(r.status, 424) << r.body;
}

}  // namespace
}  // namespace encore::serve
