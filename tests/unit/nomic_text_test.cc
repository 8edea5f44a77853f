// NomicBERT from TEXT: a WordPiece tokenizer.json shaped like bert-base-uncased's (the one
// nomic-ai/nomic-embed-text-v1 ships: BertNormalizer lowercase, BertPreTokenizer, [CLS] $A [SEP],
// [PAD] 0, [UNK] [CLS] [SEP] [MASK] at 100-103) and tiny random NomicBERT models on top (swiglu,
// rotary base 1000, no linear biases, eps 1e-12; the pinned hub code copied into each directory),
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
//     argmax label.
// Values: |encore - reference| <= 1e-5 * max(1, |reference|) element by element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/model.h"
#include "encore/tokenizer.h"
#include "test_util.h"

namespace encore::testing {
namespace {

using nlohmann::json;

constexpr size_t kMaxLength = 48;  // the fixture's max_seq_length and the classifier goldens' max_length
constexpr double kTolerance = 1e-5;

std::filesystem::path dir(const std::string& sub) { return fixture("nomic-text/" + sub); }

const std::vector<json>& golden() {
  static const std::vector<json> lines = read_jsonl(dir("golden.jsonl"));
  return lines;
}

std::vector<std::string> texts() {
  std::vector<std::string> out;
  for (const json& g : golden()) out.push_back(g.at("text").get<std::string>());
  return out;
}

// The text as a C-escaped one-liner for failure messages.
std::string show(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 60)) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  return "\"" + out + (s.size() > 60 ? "...\"" : "\"");
}

// Where two id sequences part, with the reference's tokens there ("" when equal).
std::string id_diff(const std::vector<int32_t>& got, const json& want_ids, const json* want_tokens = nullptr,
                    const std::vector<std::string>* got_tokens = nullptr) {
  const std::vector<int32_t> want = want_ids.get<std::vector<int32_t>>();
  if (got == want) return "";
  size_t k = 0;
  while (k < got.size() && k < want.size() && got[k] == want[k]) ++k;
  std::string out = "lengths " + std::to_string(got.size()) + " vs " + std::to_string(want.size()) +
                    ", first difference at token " + std::to_string(k) + ": encore " +
                    (k < got.size() ? std::to_string(got[k]) : "<end>") + " vs reference " +
                    (k < want.size() ? std::to_string(want[k]) : "<end>");
  if (want_tokens && k < want_tokens->size()) out += " (reference token " + (*want_tokens)[k].dump() + ")";
  if (got_tokens && k < got_tokens->size()) out += " (encore token " + json((*got_tokens)[k]).dump() + ")";
  return out;
}

// max over elements of |got - want| / max(1, |want|), and max |got - want|.
struct Scaled {
  double scaled = 0, abs = 0;
};
Scaled scaled_diff(const std::vector<float>& got, const std::vector<float>& want) {
  Scaled s;
  for (size_t k = 0; k < want.size(); ++k) {
    const double d = std::fabs(static_cast<double>(got[k]) - want[k]);
    s.abs = std::max(s.abs, d);
    s.scaled = std::max(s.scaled, d / std::max(1.0, std::fabs(static_cast<double>(want[k]))));
  }
  return s;
}

// ----------------------------------------------------------------------------- tokenizer

// tokenizers' Tokenizer.from_file(tokenizer.json).encode(text): ids and tokens, every text, from
// tokenizer.json alone and from each model directory (whose tokenizer_config.json differ).
TEST(NomicText, TokenizerIdsAndTokens) {
  for (const char* sub : {"tokenizer", "st", "classifier"}) {
    const Tokenizer tok = Tokenizer::from_dir(dir(sub));
    // transformers' tokenizer.vocab_size: the WordPiece vocabulary's 1000 entries (the five special tokens
    // are among them; config.json's vocab_size is 1024, rounded up to pad_vocab_size_multiple 64).
    EXPECT_EQ(tok.vocab_size(), 1000u) << sub;
    EXPECT_EQ(tok.id_to_token(1), "[unused0]") << sub;
    EXPECT_EQ(tok.token_to_id("[PAD]"), 0) << sub;
    EXPECT_EQ(tok.token_to_id("[UNK]"), 100) << sub;
    EXPECT_EQ(tok.token_to_id("[CLS]"), 101) << sub;
    EXPECT_EQ(tok.token_to_id("[SEP]"), 102) << sub;
    EXPECT_EQ(tok.token_to_id("[MASK]"), 103) << sub;
    size_t same = 0;
    for (const json& g : golden()) {
      const std::string text = g.at("text");
      const Encoding e = tok.encode(text);
      const std::string d = id_diff(e.ids, g.at("ids"), &g.at("tokens"), &e.tokens);
      EXPECT_EQ(d, "") << sub << ": text " << show(text);
      if (d.empty()) {
        EXPECT_EQ(json(e.tokens), g.at("tokens")) << sub << ": text " << show(text);
        ++same;
      }
    }
    std::printf("[nomic-text] %-10s tokenizer: %zu / %zu texts with the reference's ids\n", sub, same,
                golden().size());
  }
  const Tokenizer json_only = Tokenizer::from_tokenizer_json(dir("tokenizer") / "tokenizer.json");
  for (const json& g : golden())
    EXPECT_EQ(id_diff(json_only.encode(g.at("text").get<std::string>()).ids, g.at("ids"), &g.at("tokens")), "")
        << "from_tokenizer_json: text " << show(g.at("text"));
}

// tokenizer(text, truncation=True, max_length=48): the first 46 pieces between [CLS] and [SEP].
TEST(NomicText, TokenizerTruncation) {
  const Tokenizer tok = Tokenizer::from_dir(dir("classifier"));
  EncodeOptions o;
  o.truncation.strategy = TruncationStrategy::LongestFirst;
  o.truncation.max_length = kMaxLength;
  for (const json& g : golden()) {
    const std::string text = g.at("text");
    EXPECT_EQ(id_diff(tok.encode(text, o).ids, g.at("clf_ids")), "") << "text " << show(text);
  }
}

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
  const std::vector<std::string> all = texts();
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
TEST(NomicText, EmbeddingsDoNotDependOnTheBatch) {
  EmbedderOptions one;
  one.batch_size = 1;
  const std::vector<std::string> all = texts();
  const auto a = Embedder::load(dir("st").string(), one).embed(all);
  const auto b = Embedder::load(dir("st").string()).embed(all);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(a[i].embedding, b[i].embedding) << "text " << show(all[i]);
}

// ----------------------------------------------------------------------------- classifier

size_t argmax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());  // the first of equals, as torch
}

// The reference's call: tokenizer(texts, padding=True, truncation=True, max_length=48), then
// model(**batch).logits. encore: TextClassifier::encode(text, nullopt, 48) (classify() itself does
// not truncate: the text-classification pipeline does not), Model::encode of all of them, then
// `logits_of` on that batch.
template <class LogitsOf>
void compare_logits(const char* what, LogitsOf&& logits_of) {
  const TextClassifier clf = TextClassifier::load(dir("classifier").string());
  ASSERT_EQ(clf.labels(), (std::vector<std::string>{"obligation", "permission", "prohibition"}));
  TokenBatch batch;
  for (const json& g : golden()) {
    const Encoding e = clf.encode(g.at("text").get<std::string>(), std::nullopt, kMaxLength);
    EXPECT_EQ(id_diff(e.ids, g.at("clf_ids")), "") << "text " << show(g.at("text"));
    batch.ids.push_back(e.ids);
    batch.type_ids.push_back(e.type_ids);
  }
  const Encoded enc = clf.model().encode(batch);
  Scaled worst;
  size_t worst_at = 0, within = 0, same_label = 0;
  for (size_t i = 0; i < golden().size(); ++i) {
    const json& g = golden()[i];
    const std::vector<float> want = g.at("logits").get<std::vector<float>>();
    const std::vector<float> got = logits_of(clf, enc, i);
    ASSERT_EQ(got.size(), want.size());
    const Scaled s = scaled_diff(got, want);
    EXPECT_LE(s.scaled, kTolerance) << "text " << i << " " << show(g.at("text")) << ": max |diff| " << s.abs;
    EXPECT_EQ(clf.labels()[argmax(got)], g.at("label").get<std::string>()) << "text " << show(g.at("text"));
    within += s.scaled <= kTolerance;
    same_label += clf.labels()[argmax(got)] == g.at("label").get<std::string>();
    if (s.scaled > worst.scaled) worst = s, worst_at = i;
  }
  std::printf("[nomic-text] %s logits: %zu / %zu within 1e-5, %zu same label; worst scaled |diff| %.3g (max "
              "|diff| %.3g) at text %zu %s\n",
              what, within, golden().size(), same_label, worst.scaled, worst.abs, worst_at,
              show(golden()[worst_at].at("text")).c_str());
}

// The model and its head: Model::sequence_logits on the whole batch (tanh pooler on each text's [CLS],
// then the classifier).
TEST(NomicText, ClassifierModelLogitsMatchTransformers) {
  Tensor all;
  compare_logits("Model::sequence_logits", [&](const TextClassifier& clf, const Encoded& enc, size_t i) {
    if (!all.defined()) all = clf.model().sequence_logits(enc);
    const int64_t L = all.size(1);
    return std::vector<float>(all.data<float>() + static_cast<int64_t>(i) * L,
                              all.data<float>() + static_cast<int64_t>(i + 1) * L);
  });
}

// The pipeline's path: TextClassifier::logits (what classify() and encore serve use).
TEST(NomicText, ClassifierPipelineLogitsMatchTransformers) {
  compare_logits("TextClassifier::logits",
                 [](const TextClassifier& clf, const Encoded& enc, size_t i) { return clf.logits(enc, i); });
}

// classify() itself on the texts that fit in 48 tokens (there truncation changes nothing): the same
// logits, and the golden label first.
TEST(NomicText, ClassifyPipelineOnShortTexts) {
  ClassifierOptions o;
  o.top_k = 0;
  const TextClassifier clf = TextClassifier::load(dir("classifier").string(), o);
  std::vector<std::string> short_texts;
  std::vector<const json*> want;
  for (const json& g : golden())
    if (g.at("ids").size() <= kMaxLength) short_texts.push_back(g.at("text")), want.push_back(&g);
  ASSERT_GE(short_texts.size(), 20u);
  const std::vector<ClassifyResult> got = clf.classify(short_texts);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << show(short_texts[i]) << ": " << got[i].error;
    EXPECT_LE(scaled_diff(got[i].logits, want[i]->at("logits").get<std::vector<float>>()).scaled, kTolerance)
        << "text " << show(short_texts[i]);
    ASSERT_EQ(got[i].labels.size(), 3u);
    EXPECT_EQ(got[i].labels[0].label, want[i]->at("label").get<std::string>()) << "text " << show(short_texts[i]);
  }
}

}  // namespace
}  // namespace encore::testing
