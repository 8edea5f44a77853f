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
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/embedder.h"
#include "encore/model.h"
#include "encore/tokenizer.h"
#include "text_fixture_checks.h"
#include "tokenizer/unicode.h"  // tok::py_strip: Python's str.strip(), for the diagnosis below

namespace encore::testing {
namespace {

using nlohmann::json;

constexpr size_t kMaxLength = 48;  // the fixture's max_seq_length and the classifier goldens' max_length
constexpr double kTolerance = 1e-5;

const TextFixture& fx() {
  static const TextFixture f{"modernbert-text", "[modernbert-text]", kMaxLength, kTolerance,
                             {"obligation", "permission", "prohibition"}};
  return f;
}

std::filesystem::path dir(const std::string& sub) { return fx().dir(sub); }
const std::vector<json>& golden() { return fx().golden(); }

// ----------------------------------------------------------------------------- tokenizer

// tokenizers' Tokenizer.from_file(tokenizer.json).encode(text): ids and tokens, every text, from
// tokenizer.json alone and from each model directory (whose tokenizer_config.json differ).
TEST(ModernBertText, TokenizerIdsAndTokens) {
  check_tokenizer_ids_and_tokens(fx(), [](const Tokenizer& tok, const char* sub) {
    // transformers' tokenizer.vocab_size: the BPE model's 960, without the added tokens (len(tokenizer)
    // and config.json's vocab_size are 1024).
    EXPECT_EQ(tok.vocab_size(), 960u) << sub;
    EXPECT_EQ(tok.id_to_token(1023), "[unused32]") << sub;
    EXPECT_EQ(tok.token_to_id("[CLS]"), 987) << sub;
    EXPECT_EQ(tok.token_to_id("[PAD]"), 989) << sub;
  });
}

// tokenizer(text, truncation=True, max_length=48): the first 46 pieces between [CLS] and [SEP].
TEST(ModernBertText, TokenizerTruncation) { check_tokenizer_truncation(fx()); }

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
  const std::vector<std::string> all = fx().texts();
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
TEST(ModernBertText, EmbeddingsDoNotDependOnTheBatch) { check_embeddings_do_not_depend_on_the_batch(fx()); }

// ----------------------------------------------------------------------------- classifier

// The model and its head: Model::sequence_logits on the whole batch (mean over each text's tokens).
TEST(ModernBertText, ClassifierModelLogitsMatchTransformers) { check_classifier_model_logits(fx()); }

// The pipeline's path: TextClassifier::logits (what classify() and encore serve use).
TEST(ModernBertText, ClassifierPipelineLogitsMatchTransformers) { check_classifier_pipeline_logits(fx()); }

// classify() itself on the texts that fit in 48 tokens (there truncation changes nothing): the same
// logits, and the golden label first.
TEST(ModernBertText, ClassifyPipelineOnShortTexts) { check_classify_on_short_texts(fx()); }

}  // namespace
}  // namespace encore::testing
