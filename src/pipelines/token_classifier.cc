// Token classification as transformers pipelines/token_classification.py (4.57):
//  - tokenize with truncation to model_max_length, offsets and special-tokens mask;
//  - scores = softmax per token; special tokens dropped (gather_pre_entities);
//  - word = the vocabulary token of the id; is_subword = len(word) != len(text[start:end])
//    when the model has a continuing-subword prefix (WordPiece's ##), else the pipeline's
//    heuristic: the token does not start the text and no space is next to its start; an
//    unknown token takes the text itself as its word and is never a subword;
//  - none/simple: argmax label per token; first/average/max: tokens merged into words first
//    (aggregate_words: first token's scores / the token with the highest max / the mean);
//  - every strategy but none groups adjacent entities: same tag and not "B-" continue a
//    group (group_entities), the group score is the mean of its members' scores;
//  - entities whose label is in ignore_labels ("O") are dropped at the end.
#include "encore/token_classifier.h"

#include <algorithm>

#include "encore/tokenizer.h"
#include "pipelines/task_model.h"

namespace encore {

Aggregation aggregation_from_name(const std::string& n) {
  if (n == "none") return Aggregation::None;
  if (n == "simple") return Aggregation::Simple;
  if (n == "first") return Aggregation::First;
  if (n == "average") return Aggregation::Average;
  if (n == "max") return Aggregation::Max;
  fail("unknown aggregation strategy '", n, "' (none, simple, first, average, max)");
}

struct TokenClassifier::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  TokenClassifierOptions options;
};

namespace {

struct PreEntity {
  std::string word;
  std::vector<float> scores;
  size_t start = 0, end = 0;
  int64_t index = 0;
  bool is_subword = false;
};

struct Tagged {  // an entity before grouping
  std::string label;
  float score = 0.0f;
  int64_t index = -1;
  std::string word;
  size_t start = 0, end = 0;
};

size_t argmax(const std::vector<float>& v) { return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin()); }

// get_tag(): "B-X" -> (B, X), "I-X" -> (I, X), anything else -> (I, whole label).
std::pair<char, std::string> get_tag(const std::string& label) {
  if (label.rfind("B-", 0) == 0) return {'B', label.substr(2)};
  if (label.rfind("I-", 0) == 0) return {'I', label.substr(2)};
  return {'I', label};
}

Tagged aggregate_word(const std::vector<PreEntity>& group, Aggregation agg, const std::vector<std::string>& labels,
                      const Tokenizer& tok) {
  std::vector<std::string> words;
  for (const auto& e : group) words.push_back(e.word);
  Tagged t;
  t.word = pipelines::tokens_to_string(tok, words);
  t.start = group.front().start, t.end = group.back().end;
  if (agg == Aggregation::First) {
    const size_t i = argmax(group.front().scores);
    t.label = labels[i], t.score = group.front().scores[i];
  } else if (agg == Aggregation::Max) {
    // max(entities, key=scores.max()): the first token with the highest max wins ties.
    const PreEntity* best = &group.front();
    float best_max = *std::max_element(best->scores.begin(), best->scores.end());
    for (const auto& e : group) {
      const float mx = *std::max_element(e.scores.begin(), e.scores.end());
      if (mx > best_max) best = &e, best_max = mx;
    }
    const size_t i = argmax(best->scores);
    t.label = labels[i], t.score = best->scores[i];
  } else {  // Average: np.nanmean over the word's tokens (float32)
    std::vector<float> mean(group.front().scores.size(), 0.0f);
    for (size_t k = 0; k < mean.size(); ++k) {
      double s = 0.0;
      for (const auto& e : group) s += e.scores[k];
      mean[k] = static_cast<float>(s / static_cast<double>(group.size()));
    }
    const size_t i = argmax(mean);
    t.label = labels[i], t.score = mean[i];
  }
  return t;
}

Entity group_sub_entities(const std::vector<Tagged>& g, const Tokenizer& tok) {
  Entity e;
  // entities[0]["entity"].split("-", 1)[-1]
  const size_t dash = g.front().label.find('-');
  e.label = dash == std::string::npos ? g.front().label : g.front().label.substr(dash + 1);
  double s = 0.0;
  std::vector<std::string> words;
  for (const auto& t : g) s += t.score, words.push_back(t.word);
  e.score = static_cast<float>(s / static_cast<double>(g.size()));
  e.word = pipelines::tokens_to_string(tok, words);
  e.start = g.front().start, e.end = g.back().end;
  return e;
}

}  // namespace

TokenClassifier TokenClassifier::load(const std::string& dir, const TokenClassifierOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(dir, {TaskHead::TokenClassification},
                                                                "token classification", o.batch_size, o.threads, o.dtype));
  impl->options = o;
  TokenClassifier c;
  c.impl_ = std::move(impl);
  return c;
}

std::vector<TokenClassifyResult> TokenClassifier::classify(const std::vector<std::string>& texts) const {
  const Impl& m = *impl_;
  const Tokenizer& tok = m.m.tokenizer;
  const std::vector<std::string>& labels = m.m.model.config().head.labels;
  const Aggregation agg = m.options.aggregation;
  const auto unk = tok.token_to_id(tok.config().unk_token);
  const auto prefix = tok.continuing_subword_prefix();
  const bool word_aware = prefix && !prefix->empty();
  std::vector<TokenClassifyResult> results(texts.size());
  std::vector<Encoding> encodings;
  std::vector<size_t> which;
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;  // truncation=True (model_max_length)
  enc.truncation.max_length = static_cast<size_t>(m.m.max_length);
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      encodings.push_back(tok.encode(texts[i], enc));
      which.push_back(i);
    } catch (const Error& err) {
      results[i].error = err.what();
    }
  }
  pipelines::run_encoded(m.m, encodings, [&](size_t k, const Encoded& e, size_t b) {
    const Encoding& en = encodings[k];
    const std::string& text = texts[which[k]];
    std::vector<int64_t> rows;
    for (size_t j = 0; j < en.size(); ++j) rows.push_back(e.cu[b] + static_cast<int64_t>(j));
    Tensor logits = m.m.model.token_logits(e, rows);
    const size_t L = static_cast<size_t>(logits.size(1));
    std::vector<PreEntity> pre;
    for (size_t j = 0; j < en.size(); ++j) {
      if (en.special_tokens_mask[j]) continue;
      PreEntity p;
      p.scores = pipelines::softmax(logits.data<float>() + j * L, L);
      p.word = tok.id_to_token(en.ids[j]).value_or(en.tokens[j]);
      p.start = en.char_offsets[j].first, p.end = en.char_offsets[j].second;
      p.index = static_cast<int64_t>(j);
      const std::string ref = pipelines::utf8_slice(text, p.start, p.end);
      if (word_aware)
        p.is_subword = pipelines::utf8_length(p.word) != pipelines::utf8_length(ref);
      else  // start_ind > 0 and " " not in sentence[start_ind - 1 : start_ind + 1]
        p.is_subword = p.start > 0 && pipelines::utf8_slice(text, p.start - 1, p.start + 1).find(' ') == std::string::npos;
      if (unk && en.ids[j] == *unk) p.word = ref, p.is_subword = false;
      pre.push_back(std::move(p));
    }
    std::vector<Tagged> tagged;
    if (agg == Aggregation::None || agg == Aggregation::Simple) {
      for (const auto& p : pre) {
        const size_t i = argmax(p.scores);
        tagged.push_back({labels[i], p.scores[i], p.index, p.word, p.start, p.end});
      }
    } else {
      std::vector<PreEntity> group;
      for (const auto& p : pre) {
        if (!group.empty() && !p.is_subword) {
          tagged.push_back(aggregate_word(group, agg, labels, tok));
          group.clear();
        }
        group.push_back(p);
      }
      if (!group.empty()) tagged.push_back(aggregate_word(group, agg, labels, tok));
    }
    std::vector<Entity> out;
    if (agg == Aggregation::None) {
      for (const auto& t : tagged) out.push_back({t.label, t.score, t.index, t.word, t.start, t.end});
    } else {
      std::vector<Tagged> group;
      for (const auto& t : tagged) {
        if (!group.empty()) {
          auto [bi, tag] = get_tag(t.label);
          if (!(tag == get_tag(group.back().label).second && bi != 'B')) {
            out.push_back(group_sub_entities(group, tok));
            group.clear();
          }
        }
        group.push_back(t);
      }
      if (!group.empty()) out.push_back(group_sub_entities(group, tok));
    }
    const auto& ignore = m.options.ignore_labels;
    for (auto& ent : out)
      if (std::find(ignore.begin(), ignore.end(), ent.label) == ignore.end())
        results[which[k]].entities.push_back(std::move(ent));
  });
  return results;
}

}  // namespace encore
