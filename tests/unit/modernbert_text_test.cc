// ModernBERT from TEXT: a byte-level BPE tokenizer.json shaped like answerdotai/ModernBERT-base's
// (NFC, ByteLevel without prefix space, [CLS] $A [SEP], whitespace-run and PII added tokens,
// [UNK]..[MASK] at the end of the vocabulary) and tiny random ModernBERT models on top, against
// what the references compute from the same texts (tests/fixtures/modernbert-text, written by
// tools/reference/make_modernbert_text_fixtures.py: tokenizers 0.22.2, sentence-transformers
// 5.3.0, transformers 4.57.6):
//   - encore::Tokenizer gives tokenizers' ids and tokens for every text (and the truncated ids);
//   - Embedder on the sentence-transformers directory gives SentenceTransformer.encode()'s
//     vectors, and feeds the model the ids sentence-transformers feeds it (48 tokens). encore
//     follows sentence-transformers 6.x, the reference of tests/fixtures/st, which tokenizes the
//     text as given; 5.3 (which wrote these goldens) strips it first. The three texts with outer
//     whitespace carry 6.x's ids and vector too (nostrip_ids, nostrip_embedding: what
//     sentence-transformers 6.2 gives, bit for bit), and those are what encore is held to;
//   - TextClassifier gives ModernBertForSequenceClassification's logits for the ids of
//     tokenizer(texts, truncation=True, max_length=48), and the same argmax label.
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
#include "tokenizer/unicode.h"  // tok::py_strip: Python's str.strip(), for the diagnosis below

namespace encore::testing {
namespace {

using nlohmann::json;

constexpr size_t kMaxLength = 48;  // the fixture's max_seq_length and the classifier goldens' max_length
constexpr double kTolerance = 1e-5;

std::filesystem::path dir(const std::string& sub) { return fixture("modernbert-text/" + sub); }

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
TEST(ModernBertText, TokenizerIdsAndTokens) {
  for (const char* sub : {"tokenizer", "st", "classifier"}) {
    const Tokenizer tok = Tokenizer::from_dir(dir(sub));
    // transformers' tokenizer.vocab_size: the BPE model's 960, without the added tokens (len(tokenizer)
    // and config.json's vocab_size are 1024).
    EXPECT_EQ(tok.vocab_size(), 960u) << sub;
    EXPECT_EQ(tok.id_to_token(1023), "[unused32]") << sub;
    EXPECT_EQ(tok.token_to_id("[CLS]"), 987) << sub;
    EXPECT_EQ(tok.token_to_id("[PAD]"), 989) << sub;
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
    std::printf("[modernbert-text] %-10s tokenizer: %zu / %zu texts with the reference's ids\n", sub, same,
                golden().size());
  }
  const Tokenizer json_only = Tokenizer::from_tokenizer_json(dir("tokenizer") / "tokenizer.json");
  for (const json& g : golden())
    EXPECT_EQ(id_diff(json_only.encode(g.at("text").get<std::string>()).ids, g.at("ids"), &g.at("tokens")), "")
        << "from_tokenizer_json: text " << show(g.at("text"));
}

// tokenizer(text, truncation=True, max_length=48): the first 46 pieces between [CLS] and [SEP].
TEST(ModernBertText, TokenizerTruncation) {
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

// sentence-transformers 6.x's ids for a golden text (see the top of this file).
const json& st6_ids(const json& g) { return g.contains("nostrip_ids") ? g.at("nostrip_ids") : g.at("st_ids"); }
std::vector<float> st6_embedding(const json& g) {
  return (g.contains("nostrip_embedding") ? g.at("nostrip_embedding") : g.at("embedding")).get<std::vector<float>>();
}

// The ids Embedder feeds the model are the ones sentence-transformers feeds it: the text as given,
// truncated to max_seq_length.
TEST(ModernBertText, EmbedderInputIds) {
  const Embedder e = Embedder::load(dir("st").string());
  EXPECT_EQ(e.max_length(), static_cast<int>(kMaxLength));
  EXPECT_EQ(e.describe(), "Transformer(modernbert, max_length 48) -> Pooling(mean) -> Normalize");
  for (const json& g : golden()) {
    const std::string text = g.at("text");
    EXPECT_EQ(id_diff(e.prepare(text).encoding.ids, st6_ids(g)), "") << "text " << show(text);
  }
}

TEST(ModernBertText, EmbeddingsMatchSentenceTransformers) {
  const Embedder e = Embedder::load(dir("st").string());
  ASSERT_EQ(e.dimensions(), 48);
  const std::vector<std::string> all = texts();
  const std::vector<EmbedResult> got = e.embed(all);
  ASSERT_EQ(got.size(), all.size());
  Scaled worst, worst_same_ids;
  size_t worst_at = 0, within = 0, same_ids = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << "text " << show(all[i]) << ": " << got[i].error;
    const json& g = golden()[i];
    const std::vector<float> want = st6_embedding(g);
    ASSERT_EQ(got[i].embedding.size(), want.size());
    const Scaled s = scaled_diff(got[i].embedding, want);
    // When they differ: the vector of the text as sentence-transformers tokenizes it (str.strip()),
    // to tell a tokenization difference from a numeric one.
    std::string why;
    if (s.scaled > kTolerance) {
      const std::string stripped = tok::py_strip(all[i]);
      const Scaled t = scaled_diff(e.embed({stripped})[0].embedding, want);
      char b[200];
      std::snprintf(b, sizeof b, "; embedding str.strip() of the text instead: scaled |diff| %.3g", t.scaled);
      why = b;
      if (g.contains("nostrip_embedding")) {
        const Scaled u = scaled_diff(got[i].embedding, g.at("nostrip_embedding").get<std::vector<float>>());
        std::snprintf(b, sizeof b, "; against the unstripped text's reference (sentence-transformers 6): %.3g",
                      u.scaled);
        why += b;
      }
    }
    EXPECT_LE(s.scaled, kTolerance) << "text " << i << " " << show(all[i]) << ": max |diff| " << s.abs << why;
    within += s.scaled <= kTolerance;
    if (s.scaled > worst.scaled) worst = s, worst_at = i;
    if (e.prepare(all[i]).encoding.ids == st6_ids(g).get<std::vector<int32_t>>()) {
      ++same_ids;
      worst_same_ids.scaled = std::max(worst_same_ids.scaled, s.scaled);
      worst_same_ids.abs = std::max(worst_same_ids.abs, s.abs);
    }
    EXPECT_EQ(got[i].truncated, g.at("ids").size() > kMaxLength) << "text " << show(all[i]);
  }
  std::printf("[modernbert-text] embeddings: %zu / %zu within 1e-5; worst scaled |diff| %.3g (max |diff| %.3g) at "
              "text %zu %s; over the %zu texts fed sentence-transformers' ids: %.3g (max |diff| %.3g)\n",
              within, all.size(), worst.scaled, worst.abs, worst_at, show(all[worst_at]).c_str(), same_ids,
              worst_same_ids.scaled, worst_same_ids.abs);
}

// sentence-transformers 5.3 strips each text before tokenizing it (Transformer.tokenize); 6.x does
// not. Whatever encore's policy, the model must compute the reference's vector on the ids of the
// unstripped text (nostrip_ids: "   " is one added token, leading spaces are "  " or byte tokens):
// Embedder::run on those ids, then finish().
TEST(ModernBertText, EmbeddingsOfUnstrippedIds) {
  const Embedder e = Embedder::load(dir("st").string());
  size_t n = 0;
  for (const json& g : golden()) {
    if (!g.contains("nostrip_ids")) continue;
    ++n;
    TokenBatch batch;
    batch.ids.push_back(g.at("nostrip_ids").get<std::vector<int32_t>>());
    std::vector<std::vector<float>> out = e.run(batch, {});
    ASSERT_EQ(out.size(), 1u);
    e.finish(out[0]);
    const Scaled s = scaled_diff(out[0], g.at("nostrip_embedding").get<std::vector<float>>());
    EXPECT_LE(s.scaled, kTolerance) << "text " << show(g.at("text")) << ": max |diff| " << s.abs;
    // What encore's own tokenization of the unstripped text gives (no strip): the same ids.
    EXPECT_EQ(id_diff(e.prepare(g.at("text").get<std::string>()).encoding.ids, g.at("nostrip_ids")), "")
        << "text " << show(g.at("text"));
  }
  EXPECT_EQ(n, 3u);
}

// The texts one at a time (batch size 1) give the same vectors as one batch.
TEST(ModernBertText, EmbeddingsDoNotDependOnTheBatch) {
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
  std::printf("[modernbert-text] %s logits: %zu / %zu within 1e-5, %zu same label; worst scaled |diff| %.3g (max "
              "|diff| %.3g) at text %zu %s\n",
              what, within, golden().size(), same_label, worst.scaled, worst.abs, worst_at,
              show(golden()[worst_at].at("text")).c_str());
}

// The model and its head: Model::sequence_logits on the whole batch (mean over each text's tokens).
TEST(ModernBertText, ClassifierModelLogitsMatchTransformers) {
  Tensor all;
  compare_logits("Model::sequence_logits", [&](const TextClassifier& clf, const Encoded& enc, size_t i) {
    if (!all.defined()) all = clf.model().sequence_logits(enc);
    const int64_t L = all.size(1);
    return std::vector<float>(all.data<float>() + static_cast<int64_t>(i) * L,
                              all.data<float>() + static_cast<int64_t>(i + 1) * L);
  });
}

// The pipeline's path: TextClassifier::logits (what classify() and encore serve use).
TEST(ModernBertText, ClassifierPipelineLogitsMatchTransformers) {
  compare_logits("TextClassifier::logits",
                 [](const TextClassifier& clf, const Encoded& enc, size_t i) { return clf.logits(enc, i); });
}

// classify() itself on the texts that fit in 48 tokens (there truncation changes nothing): the same
// logits, and the golden label first.
TEST(ModernBertText, ClassifyPipelineOnShortTexts) {
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
