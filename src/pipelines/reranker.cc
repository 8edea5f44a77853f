// Cross-encoder reranking as sentence-transformers CrossEncoder (cross_encoder/model.py):
// tokenizer([query, doc] pairs, truncation=True (longest_first), max_length); the
// classifier's logits through activation_fn: config.json sentence_transformers.activation_fn
// when set (Sigmoid or Identity), else Sigmoid for one label and Identity otherwise; rank()
// sorts by the first score, best first, and keeps top_k (a model with several labels is not
// rankable).
#include "encore/reranker.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/tokenizer.h"
#include "pipelines/task_model.h"

namespace encore {

struct Reranker::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  bool sigmoid = true;
  int max_length = 0;
  size_t top_k = 0;
};

Reranker Reranker::load(const std::string& dir, const RerankerOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(dir, {TaskHead::SequenceClassification}, "reranking",
                                                                o.batch_size, o.threads, o.dtype));
  const HeadConfig& h = impl->m.model.config().head;
  ENCORE_CHECK(h.num_labels == 1, dir, ": a cross-encoder for ranking has one label; this model has ", h.num_labels);
  impl->sigmoid = true;
  std::ifstream f(std::filesystem::path(dir) / "config.json");
  if (f.good()) {
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_object() && j.contains("sentence_transformers") && j["sentence_transformers"].is_object()) {
      const std::string fn = j["sentence_transformers"].value("activation_fn", "");
      if (fn.find("Identity") != std::string::npos) impl->sigmoid = false;
    }
  }
  if (o.raw_scores) impl->sigmoid = false;
  ENCORE_CHECK(o.top_k >= 0, "top_k must be >= 0, not ", o.top_k);
  impl->top_k = static_cast<size_t>(o.top_k);
  impl->max_length = o.max_length > 0 ? std::min(o.max_length, static_cast<int>(impl->m.model.config().max_length))
                                      : impl->m.max_length;
  Reranker r;
  r.impl_ = std::move(impl);
  return r;
}

std::vector<float> Reranker::score(const std::vector<std::pair<std::string, std::string>>& pairs, bool raw) const {
  const Impl& m = *impl_;
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = static_cast<size_t>(m.max_length);
  std::vector<Encoding> encodings;
  for (const auto& [first, second] : pairs) encodings.push_back(m.m.tokenizer.encode_pair(first, second, enc));
  std::vector<float> scores(pairs.size());
  pipelines::run_encoded(m.m, encodings, [&](size_t k, const Encoded& e, size_t b) {
    const float logit = pipelines::sequence_logits(m.m, e, b)[0];
    scores[k] = m.sigmoid && !raw ? pipelines::sigmoid(logit) : logit;
  });
  return scores;
}

RerankResult Reranker::rank(const std::string& query, const std::vector<std::string>& documents) const {
  const Impl& m = *impl_;
  RerankResult r;
  try {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& d : documents) pairs.emplace_back(query, d);
    const std::vector<float> scores = score(pairs);
    for (size_t i = 0; i < documents.size(); ++i) r.ranking.push_back({i, scores[i]});
    // rank(): np.argsort(scores)[::-1]-like order; equal scores keep input order here.
    std::stable_sort(r.ranking.begin(), r.ranking.end(),
                     [](const RankedDocument& a, const RankedDocument& b) { return a.score > b.score; });
    if (m.top_k > 0 && r.ranking.size() > m.top_k) r.ranking.resize(m.top_k);
  } catch (const Error& err) {
    r.ranking.clear();
    r.error = err.what();
  }
  return r;
}

}  // namespace encore
