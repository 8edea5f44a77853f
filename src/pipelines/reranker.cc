// Cross-encoder reranking as sentence-transformers CrossEncoder (cross_encoder/model.py):
// tokenizer([query, doc] pairs, truncation=True (longest_first), max_length); the
// classifier's logits through activation_fn: config.json sentence_transformers.activation_fn
// when set (torch's Sigmoid, Identity or Tanh), else Sigmoid for one label and Identity
// otherwise. predict() gives every label's score; rank() sorts by the score, best first, and
// keeps top_k (CrossEncoder.rank refuses a model with several labels, and so does rank()).
#include "encore/reranker.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/tokenizer.h"
#include "pipelines/task_model.h"

namespace encore {

struct Reranker::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  enum class Activation { Sigmoid, Identity, Tanh } activation = Activation::Sigmoid;
  int num_labels = 1;
  int max_length = 0;
  size_t top_k = 0;
};

Reranker Reranker::load(const std::string& dir, const RerankerOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(dir, {TaskHead::SequenceClassification}, "reranking",
                                                                o.batch_size, o.threads, o.dtype));
  impl->num_labels = impl->m.model.config().head.num_labels;
  using Activation = Impl::Activation;
  impl->activation = impl->num_labels == 1 ? Activation::Sigmoid : Activation::Identity;
  std::ifstream f(std::filesystem::path(dir) / "config.json");
  if (f.good()) {
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_object() && j.contains("sentence_transformers") && j["sentence_transformers"].is_object()) {
      const std::string fn = j["sentence_transformers"].value("activation_fn", "");
      const std::string name = fn.substr(fn.rfind('.') + 1);  // torch.nn.modules.activation.Sigmoid
      if (name == "Sigmoid") impl->activation = Activation::Sigmoid;
      else if (name == "Identity") impl->activation = Activation::Identity;
      else if (name == "Tanh") impl->activation = Activation::Tanh;
      else ENCORE_CHECK(fn.empty(), dir, "/config.json: sentence_transformers.activation_fn ", fn,
                        " is not one encore computes (torch.nn Sigmoid, Identity or Tanh)");
    }
  }
  if (o.raw_scores) impl->activation = Activation::Identity;
  ENCORE_CHECK(o.top_k >= 0, "top_k must be >= 0, not ", o.top_k);
  impl->top_k = static_cast<size_t>(o.top_k);
  impl->max_length = o.max_length > 0 ? std::min(o.max_length, static_cast<int>(impl->m.model.config().max_length))
                                      : impl->m.max_length;
  Reranker r;
  r.impl_ = std::move(impl);
  return r;
}

int Reranker::num_labels() const { return impl_->num_labels; }

std::vector<float> Reranker::predict(const std::vector<std::pair<std::string, std::string>>& pairs, bool raw) const {
  const Impl& m = *impl_;
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = static_cast<size_t>(m.max_length);
  std::vector<Encoding> encodings;
  for (const auto& [first, second] : pairs) encodings.push_back(m.m.tokenizer.encode_pair(first, second, enc));
  const size_t labels = static_cast<size_t>(m.num_labels);
  std::vector<float> scores(pairs.size() * labels);
  pipelines::run_encoded(m.m, encodings, [&](size_t k, const Encoded& e, size_t b) {
    const std::vector<float> logits = pipelines::sequence_logits(m.m, e, b);
    for (size_t l = 0; l < labels; ++l) {
      const float x = logits[l];
      float& out = scores[k * labels + l];
      if (raw || m.activation == Impl::Activation::Identity) out = x;
      else if (m.activation == Impl::Activation::Sigmoid) out = pipelines::sigmoid(x);
      else out = std::tanh(x);
    }
  });
  return scores;
}

std::vector<float> Reranker::score(const std::vector<std::pair<std::string, std::string>>& pairs, bool raw) const {
  ENCORE_CHECK(impl_->num_labels == 1, "a cross-encoder ranks with one label; this model has ", impl_->num_labels,
               " (predict() gives every label's score)");
  return predict(pairs, raw);
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
