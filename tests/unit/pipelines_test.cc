// Task pipelines against the transformers pipelines / sentence-transformers CrossEncoder
// on the random-weight head models of tests/fixtures/heads (pipeline.jsonl, written by
// tools/reference/make_head_fixtures.py on real sentences from /usr/share/common-licenses):
// identical labels, tokens, entity spans, answer spans and order; scores within 1e-4.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/classifier.h"
#include "encore/fill_mask.h"
#include "encore/question_answerer.h"
#include "encore/reranker.h"
#include "encore/token_classifier.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path heads(const std::string& name) { return fixture("heads/" + name); }

std::vector<json> golden(const std::string& name) { return read_jsonl(heads(name) / "pipeline.jsonl"); }

double worst = 0.0;
void expect_score(double got, const json& want, const std::string& where) {
  const double w = want.get<double>();
  EXPECT_NEAR(got, w, 1e-4) << where;
  worst = std::max(worst, std::fabs(got - w));
}

TEST(FillMaskPipeline, MatchesTransformers) {
  FillMask fm = FillMask::load((heads("masked-lm") / "model").string());
  worst = 0.0;
  for (const json& g : golden("masked-lm")) {
    const std::string text = g["text"];
    auto r = fm.fill({text})[0];
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.masks.size(), g["masks"].size()) << text;
    for (size_t m = 0; m < r.masks.size(); ++m) {
      ASSERT_EQ(r.masks[m].size(), g["masks"][m].size());
      for (size_t k = 0; k < r.masks[m].size(); ++k) {
        const json& w = g["masks"][m][k];
        EXPECT_EQ(r.masks[m][k].token, w["token"].get<int>()) << text;
        EXPECT_EQ(r.masks[m][k].token_str, w["token_str"].get<std::string>()) << text;
        EXPECT_EQ(r.masks[m][k].sequence, w["sequence"].get<std::string>()) << text;
        expect_score(r.masks[m][k].score, w["score"], text);
      }
    }
  }
  std::printf("[pipelines] fill-mask worst |score diff| %.2e\n", worst);
  auto none = fm.fill({"no mask here", "the [MASK]"});
  EXPECT_NE(none[0].error.find("No mask_token"), std::string::npos);
  EXPECT_TRUE(none[1].error.empty());
}

TEST(TextClassificationPipeline, MatchesTransformersForEachProblemType) {
  worst = 0.0;
  TempDir tmp;
  for (const char* variant : {"default", "multi_label_classification", "regression"}) {
    fs::path dir = heads("sequence-classification") / "model";
    if (std::string(variant) != "default") {
      fs::path copy = tmp.path / variant;
      fs::create_directories(copy);
      for (const auto& e : fs::directory_iterator(dir)) fs::copy(e.path(), copy / e.path().filename());
      json cfg = json::parse(std::ifstream(copy / "config.json"));
      cfg["problem_type"] = variant;
      std::ofstream(copy / "config.json") << cfg.dump();
      dir = copy;
    }
    for (int top_k : {0, 1}) {
      ClassifierOptions o;
      o.top_k = top_k;
      TextClassifier clf = TextClassifier::load(dir.string(), o);
      for (const json& g : golden("sequence-classification")) {
        if (g["variant"] != variant || g["top_k"].is_null() != (top_k == 0)) continue;
        auto r = clf.classify({g["text"].get<std::string>()})[0];
        ASSERT_TRUE(r.error.empty()) << r.error;
        ASSERT_EQ(r.labels.size(), g["result"].size());
        for (size_t k = 0; k < r.labels.size(); ++k) {
          EXPECT_EQ(r.labels[k].label, g["result"][k]["label"].get<std::string>()) << variant;
          expect_score(r.labels[k].score, g["result"][k]["score"], variant);
        }
      }
    }
  }
  std::printf("[pipelines] text-classification worst |score diff| %.2e\n", worst);
}

TEST(NextSentencePipeline, MatchesTheSoftmaxOfTheReferenceLogits) {
  worst = 0.0;
  ClassifierOptions o;
  o.top_k = 0;
  TextClassifier clf = TextClassifier::load((heads("next-sentence") / "model").string(), o);
  for (const json& g : golden("next-sentence")) {
    auto r = clf.classify({g["first"].get<std::string>()}, {g["second"].get<std::string>()})[0];
    ASSERT_TRUE(r.error.empty()) << r.error;
    for (const auto& l : r.labels)
      if (l.label == "is_next") expect_score(l.score, g["is_next"], "is_next");
    expect_score(r.logits[0], g["logits"][0], "logit 0");
    expect_score(r.logits[1], g["logits"][1], "logit 1");
  }
  std::printf("[pipelines] next-sentence worst |diff| %.2e\n", worst);
}

TEST(TokenClassificationPipeline, MatchesTransformersForEachAggregation) {
  worst = 0.0;
  for (const char* agg : {"none", "simple", "first", "average", "max"}) {
    TokenClassifierOptions o;
    o.aggregation = aggregation_from_name(agg);
    TokenClassifier ner = TokenClassifier::load((heads("token-classification") / "model").string(), o);
    for (const json& g : golden("token-classification")) {
      if (g["aggregation"] != agg) continue;
      const std::string text = g["text"];
      auto r = ner.classify({text})[0];
      ASSERT_TRUE(r.error.empty()) << r.error;
      ASSERT_EQ(r.entities.size(), g["entities"].size()) << agg << ": " << text;
      for (size_t k = 0; k < r.entities.size(); ++k) {
        const json& w = g["entities"][k];
        const Entity& e = r.entities[k];
        EXPECT_EQ(e.label, w.contains("entity") ? w["entity"] : w["entity_group"]) << agg << " " << k << ": " << text;
        EXPECT_EQ(e.word, w["word"].get<std::string>()) << agg << " " << k << ": " << text;
        EXPECT_EQ(e.start, w["start"].get<size_t>()) << agg << " " << k << ": " << text;
        EXPECT_EQ(e.end, w["end"].get<size_t>()) << agg << " " << k << ": " << text;
        if (w.contains("index")) {
          EXPECT_EQ(e.index, w["index"].get<int64_t>());
        }
        expect_score(e.score, w["score"], std::string(agg) + ": " + text);
      }
    }
  }
  std::printf("[pipelines] token-classification worst |score diff| %.2e\n", worst);
}

TEST(QuestionAnsweringPipeline, MatchesTransformersWithAndWithoutWindows) {
  worst = 0.0;
  for (const json& g : golden("question-answering")) {
    QuestionAnswererOptions o;
    o.top_k = g["options"]["top_k"];
    o.max_answer_len = g["options"]["max_answer_len"];
    o.max_seq_len = g["options"]["max_seq_len"];
    o.doc_stride = g["options"]["doc_stride"];
    QuestionAnswerer qa = QuestionAnswerer::load((heads("question-answering") / "model").string(), o);
    auto r = qa.answer({g["question"].get<std::string>()}, {g["context"].get<std::string>()})[0];
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.answers.size(), g["answers"].size()) << g["question"];
    for (size_t k = 0; k < r.answers.size(); ++k) {
      const json& w = g["answers"][k];
      EXPECT_EQ(r.answers[k].answer, w["answer"].get<std::string>()) << g["question"] << " #" << k;
      EXPECT_EQ(r.answers[k].start, w["start"].get<size_t>());
      EXPECT_EQ(r.answers[k].end, w["end"].get<size_t>());
      expect_score(r.answers[k].score, w["score"], g["question"].get<std::string>());
    }
  }
  std::printf("[pipelines] question-answering worst |score diff| %.2e\n", worst);
}

TEST(RerankPipeline, MatchesSentenceTransformersCrossEncoder) {
  worst = 0.0;
  Reranker rr = Reranker::load((heads("cross-encoder") / "model").string());
  for (const json& g : golden("cross-encoder")) {
    auto r = rr.rank(g["query"], g["documents"].get<std::vector<std::string>>());
    ASSERT_TRUE(r.error.empty()) << r.error;
    ASSERT_EQ(r.ranking.size(), g["ranking"].size());
    for (size_t k = 0; k < r.ranking.size(); ++k) {
      EXPECT_EQ(r.ranking[k].index, g["ranking"][k]["corpus_id"].get<size_t>());
      expect_score(r.ranking[k].score, g["ranking"][k]["score"], g["query"]);
    }
  }
  std::printf("[pipelines] rerank worst |score diff| %.2e\n", worst);
}

// CrossEncoder.rank(top_k=N): the N best of the full ranking, in its order.
TEST(RerankPipeline, TopKKeepsTheBestDocuments) {
  const std::string dir = (heads("cross-encoder") / "model").string();
  const std::vector<std::string> docs = {"The GPL is free.", "It rains.", "Free software.", "A cat."};
  const RerankResult all = Reranker::load(dir).rank("free software", docs);
  ASSERT_TRUE(all.error.empty()) << all.error;
  ASSERT_EQ(all.ranking.size(), docs.size());
  RerankerOptions o;
  o.top_k = 2;
  const RerankResult top = Reranker::load(dir, o).rank("free software", docs);
  ASSERT_EQ(top.ranking.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(top.ranking[k].index, all.ranking[k].index);
    EXPECT_EQ(top.ranking[k].score, all.ranking[k].score);
  }
  o.top_k = 10;  // more than there are: all of them
  EXPECT_EQ(Reranker::load(dir, o).rank("free software", docs).ranking.size(), docs.size());
  o.top_k = -1;
  EXPECT_THROW(Reranker::load(dir, o), Error);
}

TEST(Pipelines, RefuseAModelWithTheWrongHead) {
  EXPECT_THROW(FillMask::load((heads("sequence-classification") / "model").string()), Error);
  EXPECT_THROW(TokenClassifier::load((heads("masked-lm") / "model").string()), Error);
}

// A cross-encoder with several labels (an NLI model): predict() gives every label's score, as
// CrossEncoder.predict does (Identity by default); ranking needs one label, as CrossEncoder.rank.
TEST(RerankPipeline, SeveralLabelsPredictButDoNotRank) {
  const Reranker nli = Reranker::load((heads("sequence-classification") / "model").string());
  ASSERT_EQ(nli.num_labels(), 3);
  const std::vector<std::pair<std::string, std::string>> pairs = {{"free software", "The GPL is free."},
                                                                  {"a cat", "It rains."}};
  const std::vector<float> scores = nli.predict(pairs);
  ASSERT_EQ(scores.size(), 6u);
  EXPECT_EQ(scores, nli.predict(pairs, /*raw=*/true));  // no activation_fn in config.json: Identity
  EXPECT_THROW(nli.score(pairs), Error);
  const RerankResult r = nli.rank("free software", {"The GPL is free."});
  EXPECT_NE(r.error.find("one label"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace encore::testing
