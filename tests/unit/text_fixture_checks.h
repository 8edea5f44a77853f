// Checks shared by the from-TEXT fixture tests (nomic_text_test.cc, modernbert_text_test.cc): a
// directory tests/fixtures/<name> with golden.jsonl and tokenizer/, st/ and classifier/ models, and
// what encore must give on it (ids, truncation, batch independence, classifier logits and labels).
// Each test file keeps its own TESTs and the comments on its fixture; the printed lines start with
// the fixture's tag ("[nomic-text]", "[modernbert-text]").
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/model.h"
#include "encore/tokenizer.h"
#include "test_util.h"

namespace encore::testing {

// The text as a C-escaped one-liner for failure messages.
inline std::string show(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 60)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else
      out += static_cast<char>(c);
  }
  return "\"" + out + (s.size() > 60 ? "...\"" : "\"");
}

// Where two id sequences part, with the reference's tokens there ("" when equal).
inline std::string id_diff(const std::vector<int32_t>& got, const nlohmann::json& want_ids,
                           const nlohmann::json* want_tokens = nullptr,
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
  if (got_tokens && k < got_tokens->size()) out += " (encore token " + nlohmann::json((*got_tokens)[k]).dump() + ")";
  return out;
}

// max over elements of |got - want| / max(1, |want|), and max |got - want|.
struct Scaled {
  double scaled = 0, abs = 0;
};
inline Scaled scaled_diff(const std::vector<float>& got, const std::vector<float>& want) {
  Scaled s;
  for (size_t k = 0; k < want.size(); ++k) {
    const double d = std::fabs(static_cast<double>(got[k]) - want[k]);
    s.abs = std::max(s.abs, d);
    s.scaled = std::max(s.scaled, d / std::max(1.0, std::fabs(static_cast<double>(want[k]))));
  }
  return s;
}

inline size_t argmax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());  // the first of equals, as torch
}

// One fixture directory and what its tests hold encore to. golden.jsonl is read on first use.
struct TextFixture {
  std::string name;                 // under tests/fixtures: "nomic-text"
  std::string tag;                  // what the printed lines start with: "[nomic-text]"
  size_t max_length;                // the fixture's max_seq_length and the classifier goldens' max_length
  double tolerance;                 // |encore - reference| <= tolerance * max(1, |reference|)
  std::vector<std::string> labels;  // the classifier's, in id order

  TextFixture(std::string name_, std::string tag_, size_t max_length_, double tolerance_,
              std::vector<std::string> labels_)
      : name(std::move(name_)),
        tag(std::move(tag_)),
        max_length(max_length_),
        tolerance(tolerance_),
        labels(std::move(labels_)) {}

  std::filesystem::path dir(const std::string& sub) const { return fixture(name + "/" + sub); }
  const std::vector<nlohmann::json>& golden() const {
    if (!lines) lines = read_jsonl(dir("golden.jsonl"));
    return *lines;
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const nlohmann::json& g : golden()) out.push_back(g.at("text").get<std::string>());
    return out;
  }
  // The tolerance as the printed lines write it ("1e-5").
  std::string tolerance_text() const {
    char b[32];
    std::snprintf(b, sizeof b, "%g", tolerance);
    std::string s = b;
    for (const char* z : {"e-0", "e+0"}) {
      const size_t at = s.find(z);
      if (at != std::string::npos) s.erase(at + 2, 1);
    }
    return s;
  }

 private:
  mutable std::optional<std::vector<nlohmann::json>> lines;
};

// tokenizers' ids and tokens for every golden text, from `sub`'s tokenizer (prints how many agree);
// `specials` checks the vocabulary size and special tokens first.
template <class Specials>
void check_tokenizer_ids_and_tokens(const TextFixture& fx, Specials&& specials) {
  for (const char* sub : {"tokenizer", "st", "classifier"}) {
    const Tokenizer tok = Tokenizer::from_dir(fx.dir(sub));
    specials(tok, sub);
    size_t same = 0;
    for (const nlohmann::json& g : fx.golden()) {
      const std::string text = g.at("text");
      const Encoding e = tok.encode(text);
      const std::string d = id_diff(e.ids, g.at("ids"), &g.at("tokens"), &e.tokens);
      EXPECT_EQ(d, "") << sub << ": text " << show(text);
      if (d.empty()) {
        EXPECT_EQ(nlohmann::json(e.tokens), g.at("tokens")) << sub << ": text " << show(text);
        ++same;
      }
    }
    std::printf("%s %-10s tokenizer: %zu / %zu texts with the reference's ids\n", fx.tag.c_str(), sub, same,
                fx.golden().size());
  }
  const Tokenizer json_only = Tokenizer::from_tokenizer_json(fx.dir("tokenizer") / "tokenizer.json");
  for (const nlohmann::json& g : fx.golden())
    EXPECT_EQ(id_diff(json_only.encode(g.at("text").get<std::string>()).ids, g.at("ids"), &g.at("tokens")), "")
        << "from_tokenizer_json: text " << show(g.at("text"));
}

// tokenizer(text, truncation=True, max_length=fx.max_length) gives the goldens' clf_ids.
inline void check_tokenizer_truncation(const TextFixture& fx) {
  const Tokenizer tok = Tokenizer::from_dir(fx.dir("classifier"));
  EncodeOptions o;
  o.truncation.strategy = TruncationStrategy::LongestFirst;
  o.truncation.max_length = fx.max_length;
  for (const nlohmann::json& g : fx.golden()) {
    const std::string text = g.at("text");
    EXPECT_EQ(id_diff(tok.encode(text, o).ids, g.at("clf_ids")), "") << "text " << show(text);
  }
}

// The texts one at a time (batch size 1) give the same vectors as one batch.
inline void check_embeddings_do_not_depend_on_the_batch(const TextFixture& fx) {
  EmbedderOptions one;
  one.batch_size = 1;
  const std::vector<std::string> all = fx.texts();
  const auto a = Embedder::load(fx.dir("st").string(), one).embed(all);
  const auto b = Embedder::load(fx.dir("st").string()).embed(all);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(a[i].embedding, b[i].embedding) << "text " << show(all[i]);
}

// The reference's call: tokenizer(texts, padding=True, truncation=True, max_length=fx.max_length),
// then model(**batch).logits. encore: TextClassifier::encode(text, nullopt, fx.max_length) (classify()
// itself does not truncate: the text-classification pipeline does not), Model::encode of all of them,
// then `logits_of` on that batch.
template <class LogitsOf>
void compare_logits(const TextFixture& fx, const char* what, LogitsOf&& logits_of) {
  const TextClassifier clf = TextClassifier::load(fx.dir("classifier").string());
  ASSERT_EQ(clf.labels(), fx.labels);
  const std::vector<nlohmann::json>& golden = fx.golden();
  TokenBatch batch;
  for (const nlohmann::json& g : golden) {
    const Encoding e = clf.encode(g.at("text").get<std::string>(), std::nullopt, fx.max_length);
    EXPECT_EQ(id_diff(e.ids, g.at("clf_ids")), "") << "text " << show(g.at("text"));
    batch.ids.push_back(e.ids);
    batch.type_ids.push_back(e.type_ids);
  }
  const Encoded enc = clf.model().encode(batch);
  Scaled worst;
  size_t worst_at = 0, within = 0, same_label = 0;
  for (size_t i = 0; i < golden.size(); ++i) {
    const nlohmann::json& g = golden[i];
    const std::vector<float> want = g.at("logits").get<std::vector<float>>();
    const std::vector<float> got = logits_of(clf, enc, i);
    ASSERT_EQ(got.size(), want.size());
    const Scaled s = scaled_diff(got, want);
    EXPECT_LE(s.scaled, fx.tolerance) << "text " << i << " " << show(g.at("text")) << ": max |diff| " << s.abs;
    EXPECT_EQ(clf.labels()[argmax(got)], g.at("label").get<std::string>()) << "text " << show(g.at("text"));
    within += s.scaled <= fx.tolerance;
    same_label += clf.labels()[argmax(got)] == g.at("label").get<std::string>();
    if (s.scaled > worst.scaled) worst = s, worst_at = i;
  }
  std::printf(
      "%s %s logits: %zu / %zu within %s, %zu same label; worst scaled |diff| %.3g (max |diff| %.3g) at "
      "text %zu %s\n",
      fx.tag.c_str(), what, within, golden.size(), fx.tolerance_text().c_str(), same_label, worst.scaled, worst.abs,
      worst_at, show(golden[worst_at].at("text")).c_str());
}

// compare_logits on Model::sequence_logits of the whole batch.
inline void check_classifier_model_logits(const TextFixture& fx) {
  Tensor all;
  compare_logits(fx, "Model::sequence_logits", [&](const TextClassifier& clf, const Encoded& enc, size_t i) {
    if (!all.defined()) all = clf.model().sequence_logits(enc);
    const int64_t L = all.size(1);
    return std::vector<float>(all.data<float>() + static_cast<int64_t>(i) * L,
                              all.data<float>() + static_cast<int64_t>(i + 1) * L);
  });
}

// compare_logits on TextClassifier::logits (what classify() and encore serve use).
inline void check_classifier_pipeline_logits(const TextFixture& fx) {
  compare_logits(fx, "TextClassifier::logits",
                 [](const TextClassifier& clf, const Encoded& enc, size_t i) { return clf.logits(enc, i); });
}

// classify() itself on the texts that fit in fx.max_length tokens (there truncation changes nothing):
// the same logits, and the golden label first.
inline void check_classify_on_short_texts(const TextFixture& fx) {
  ClassifierOptions o;
  o.top_k = 0;
  const TextClassifier clf = TextClassifier::load(fx.dir("classifier").string(), o);
  std::vector<std::string> short_texts;
  std::vector<const nlohmann::json*> want;
  for (const nlohmann::json& g : fx.golden())
    if (g.at("ids").size() <= fx.max_length) short_texts.push_back(g.at("text")), want.push_back(&g);
  ASSERT_GE(short_texts.size(), 20u);
  const std::vector<ClassifyResult> got = clf.classify(short_texts);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << show(short_texts[i]) << ": " << got[i].error;
    EXPECT_LE(scaled_diff(got[i].logits, want[i]->at("logits").get<std::vector<float>>()).scaled, fx.tolerance)
        << "text " << show(short_texts[i]);
    ASSERT_EQ(got[i].labels.size(), fx.labels.size());
    EXPECT_EQ(got[i].labels[0].label, want[i]->at("label").get<std::string>()) << "text " << show(short_texts[i]);
  }
}

}  // namespace encore::testing
