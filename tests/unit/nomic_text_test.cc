// NomicBERT from TEXT: a WordPiece tokenizer.json shaped like bert-base-uncased's (the one
// nomic-ai/nomic-embed-text-v1 ships: BertNormalizer lowercase, BertPreTokenizer, [CLS] $A [SEP],
// [PAD] 0, [UNK] [CLS] [SEP] [MASK] at 100-103) and tiny random NomicBERT models on top (swiglu,
// rotary base 1000, no linear biases, eps 1e-12; run by the pinned hub code through trust_remote_code),
// against what the references compute from the same texts (tests/fixtures/nomic-text, written by
// tools/reference/make_nomic_text_fixtures.py: tokenizers 0.22.2, sentence-transformers 5.3.0 and
// transformers 4.57.6 with trust_remote_code):
//   - encore::Tokenizer gives tokenizers' ids and tokens for every text (and the truncated ids);
//   - Embedder on the sentence-transformers directory (Transformer -> Pooling(mean), no Normalize,
//     as nomic-embed-text-v1) gives SentenceTransformer.encode()'s vectors, and feeds the model the
//     ids sentence-transformers feeds it (48 tokens). For this tokenizer str.strip(), which
//     sentence-transformers 5.3 applies and 6.x does not, changes no ids (the generator checks it);
//   - TextClassifier gives NomicBertForSequenceClassification's logits (tanh pooler on token 0, then
//     the classifier) for the ids of tokenizer(texts, truncation=True, max_length=48), and the same
//     argmax label;
//   - with config.json naming a task class the record lacks, the model loads as the base model and
//     says so once.
// Values: |encore - reference| <= 1e-5 * max(1, |reference|) element by element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/explain.h"
#include "encore/model.h"
#include "encore/tokenizer.h"
#include "text_fixture_checks.h"

namespace encore::testing {
namespace {

using nlohmann::json;

constexpr size_t kMaxLength = 48;  // the fixture's max_seq_length and the classifier goldens' max_length
constexpr double kTolerance = 1e-5;

const TextFixture& fx() {
  static const TextFixture f{"nomic-text", "[nomic-text]", kMaxLength, kTolerance,
                             {"obligation", "permission", "prohibition"}};
  return f;
}

std::filesystem::path dir(const std::string& sub) { return fx().dir(sub); }
const std::vector<json>& golden() { return fx().golden(); }

// ----------------------------------------------------------------------------- tokenizer

// tokenizers' Tokenizer.from_file(tokenizer.json).encode(text): ids and tokens, every text, from
// tokenizer.json alone and from each model directory (whose tokenizer_config.json differ).
TEST(NomicText, TokenizerIdsAndTokens) {
  check_tokenizer_ids_and_tokens(fx(), [](const Tokenizer& tok, const char* sub) {
    // transformers' tokenizer.vocab_size: the WordPiece vocabulary's 1000 entries (the five special tokens
    // are among them; config.json's vocab_size is 1024, rounded up to pad_vocab_size_multiple 64).
    EXPECT_EQ(tok.vocab_size(), 1000u) << sub;
    EXPECT_EQ(tok.id_to_token(1), "[unused0]") << sub;
    EXPECT_EQ(tok.token_to_id("[PAD]"), 0) << sub;
    EXPECT_EQ(tok.token_to_id("[UNK]"), 100) << sub;
    EXPECT_EQ(tok.token_to_id("[CLS]"), 101) << sub;
    EXPECT_EQ(tok.token_to_id("[SEP]"), 102) << sub;
    EXPECT_EQ(tok.token_to_id("[MASK]"), 103) << sub;
  });
}

// tokenizer(text, truncation=True, max_length=48): the first 46 pieces between [CLS] and [SEP].
TEST(NomicText, TokenizerTruncation) { check_tokenizer_truncation(fx()); }

// ----------------------------------------------------------------------------- embeddings

// The ids Embedder feeds the model are the ones sentence-transformers feeds it: the text truncated
// to max_seq_length (st_ids; str.strip() changes none of them with this tokenizer).
TEST(NomicText, EmbedderInputIds) {
  const Embedder e = Embedder::load(dir("st").string());
  EXPECT_EQ(e.max_length(), static_cast<int>(kMaxLength));
  EXPECT_EQ(e.describe(), "Transformer(nomic-bert, max_length 48) -> Pooling(mean)");
  for (const json& g : golden()) {
    const std::string text = g.at("text");
    EXPECT_EQ(id_diff(e.prepare(text).encoding.ids, g.at("st_ids")), "") << "text " << show(text);
  }
}

TEST(NomicText, EmbeddingsMatchSentenceTransformers) {
  const Embedder e = Embedder::load(dir("st").string());
  ASSERT_EQ(e.dimensions(), 32);
  const std::vector<std::string> all = fx().texts();
  const std::vector<EmbedResult> got = e.embed(all);
  ASSERT_EQ(got.size(), all.size());
  Scaled worst;
  size_t worst_at = 0, within = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << "text " << show(all[i]) << ": " << got[i].error;
    const json& g = golden()[i];
    const std::vector<float> want = g.at("embedding").get<std::vector<float>>();
    ASSERT_EQ(got[i].embedding.size(), want.size());
    const Scaled s = scaled_diff(got[i].embedding, want);
    // When they differ: whether encore fed the model other ids, to tell a tokenization difference
    // from a numeric one.
    std::string why;
    if (s.scaled > kTolerance) why = "; ids: " + id_diff(e.prepare(all[i]).encoding.ids, g.at("st_ids"));
    EXPECT_LE(s.scaled, kTolerance) << "text " << i << " " << show(all[i]) << ": max |diff| " << s.abs << why;
    within += s.scaled <= kTolerance;
    if (s.scaled > worst.scaled) worst = s, worst_at = i;
    EXPECT_EQ(got[i].truncated, g.at("ids").size() > kMaxLength) << "text " << show(all[i]);
  }
  std::printf("[nomic-text] embeddings: %zu / %zu within 1e-5; worst scaled |diff| %.3g (max |diff| %.3g) at text %zu "
              "%s\n",
              within, all.size(), worst.scaled, worst.abs, worst_at, show(all[worst_at]).c_str());
}

// The model and the pooling alone, on the reference's ids (Embedder::run, then finish()): the
// same vectors, whatever the tokenizer does.
TEST(NomicText, EmbeddingsOfReferenceIds) {
  const Embedder e = Embedder::load(dir("st").string());
  TokenBatch batch;
  for (const json& g : golden()) {
    batch.ids.push_back(g.at("st_ids").get<std::vector<int32_t>>());
    batch.type_ids.push_back(std::vector<int32_t>(batch.ids.back().size(), 0));
  }
  std::vector<std::vector<float>> out = e.run(batch, {});
  ASSERT_EQ(out.size(), golden().size());
  Scaled worst;
  for (size_t i = 0; i < out.size(); ++i) {
    e.finish(out[i]);
    const Scaled s = scaled_diff(out[i], golden()[i].at("embedding").get<std::vector<float>>());
    EXPECT_LE(s.scaled, kTolerance) << "text " << i << " " << show(golden()[i].at("text")) << ": max |diff| " << s.abs;
    worst.scaled = std::max(worst.scaled, s.scaled);
    worst.abs = std::max(worst.abs, s.abs);
  }
  std::printf("[nomic-text] embeddings of the reference's ids (one padded batch of %zu): worst scaled |diff| %.3g "
              "(max |diff| %.3g)\n",
              out.size(), worst.scaled, worst.abs);
}

// The texts one at a time (batch size 1) give the same vectors as one batch.
TEST(NomicText, EmbeddingsDoNotDependOnTheBatch) { check_embeddings_do_not_depend_on_the_batch(fx()); }

// ----------------------------------------------------------------------------- classifier

// The model and its head: Model::sequence_logits on the whole batch (tanh pooler on each text's [CLS],
// then the classifier).
TEST(NomicText, ClassifierModelLogitsMatchTransformers) { check_classifier_model_logits(fx()); }

// The pipeline's path: TextClassifier::logits (what classify() and encore serve use).
TEST(NomicText, ClassifierPipelineLogitsMatchTransformers) { check_classifier_pipeline_logits(fx()); }

// classify() itself on the texts that fit in 48 tokens (there truncation changes nothing): the same
// logits, and the golden label first.
TEST(NomicText, ClassifyPipelineOnShortTexts) { check_classify_on_short_texts(fx()); }

// ----------------------------------------------------------------------------- a head encore lacks

// The classifier's directory with config.json naming a task class the NomicBERT record does not
// offer: it loads as the base model with one warning that names the class; the hidden states are
// the checkpoint's own; the tasks, token_logits and explain name the class.
TEST(NomicText, UnsupportedHeadClassLoadsAsTheBaseModelWithAWarning) {
  namespace fs = std::filesystem;
  const fs::path original = dir("classifier");
  auto with_class = [&](const std::string& class_name, TempDir& copy) {
    for (const auto& e : fs::directory_iterator(original)) fs::copy_file(e.path(), copy.path / e.path().filename());
    json config = json::parse(std::ifstream(original / "config.json"));
    config["architectures"] = {class_name};
    std::ofstream(copy.path / "config.json") << config.dump();
    return copy.path.string();
  };
  TempDir unsupported;
  const std::string path = with_class("NomicBertForTokenClassification", unsupported);
  ::testing::internal::CaptureStderr();
  const Model model = Model::load(path);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(model.config().head.kind, TaskHead::None);
  EXPECT_EQ(model.config().head.unsupported_class, "NomicBertForTokenClassification");
  EXPECT_EQ(std::count(warnings.begin(), warnings.end(), '\n'), 1) << warnings;
  EXPECT_EQ(warnings.rfind("encore: warning: ", 0), 0u) << warnings;
  EXPECT_NE(warnings.find("NomicBertForTokenClassification is a head encore does not compute (it computes "
                          "NomicBertForPreTraining, NomicBertForSequenceClassification); its weights are ignored"),
            std::string::npos)
      << warnings;

  ::testing::internal::CaptureStderr();
  const Model as_trained = Model::load(original.string());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  TokenBatch batch;
  batch.ids = {{101, 200, 300, 400, 500, 102}, {101, 600, 102}};
  const Encoded got = model.encode(batch), want = as_trained.encode(batch);
  ASSERT_EQ(got.states.shape(), want.states.shape());
  EXPECT_EQ(std::memcmp(got.states.raw(), want.states.raw(), want.states.nbytes()), 0);

  auto expect_error = [](const auto& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "no error; expected '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([&] { (void)model.token_logits(got); },
               "config.json names NomicBertForTokenClassification, which encore does not offer; offered: "
               "NomicBertForPreTraining, NomicBertForSequenceClassification) has no per-token head");
  ::testing::internal::CaptureStderr();
  expect_error([&] { (void)TextClassifier::load(path); },
               "this one is NomicBertForTokenClassification, a head encore does not compute");
  ::testing::internal::GetCapturedStderr();
  EXPECT_NE(differences_from_bert(model).find("config.json names NomicBertForTokenClassification, which encore does "
                                              "not compute"),
            std::string::npos)
      << differences_from_bert(model);

  // The base model's own class is no task class: silent.
  TempDir base;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Model::load(with_class("NomicBertModel", base)).config().head.unsupported_class, "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace encore::testing
