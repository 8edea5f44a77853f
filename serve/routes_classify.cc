// /predict and /rerank (text-embeddings-inference router/src/http/server.rs predict, rerank;
// core/src/infer.rs predict): a sequence classifier's scores, TEI's way. Without raw_scores
// a model with several labels gets the softmax of its logits and a one-label model their
// sigmoid (TEI does not read problem_type); the math is TextClassifier's. Answers are
// sorted as TEI sorts them: ascending (stable), then reversed, so equal scores come out in
// reverse input order.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "serve/json_text.h"
#include "serve/service.h"

namespace encore::serve {

namespace {

void append_score(std::string& out, float v) {
  if (!std::isfinite(v)) {  // JSON has no infinities (NaN is refused before)
    out += "null";
    return;
  }
  char buf[32];
  const int len = std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  out.append(buf, static_cast<size_t>(len));
}

// TEI: a NaN score fails the request ("score is NaN", 424) instead of being sorted.
void check_scores(const std::vector<float>& scores) {
  for (float s : scores)
    if (std::isnan(s)) raise(ApiError{424, ErrorType::Backend, "score is NaN"});
}

// Indices of `scores`, best first, as TEI orders them: sort_by ascending, then reverse.
std::vector<size_t> tei_order(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::reverse(order.begin(), order.end());
  return order;
}

// /rerank's answer: [{"index", "text" (when asked), "score"}, ...] best first.
HttpResponse rerank_answer(const std::vector<float>& scores, const std::vector<std::string>* texts) {
  check_scores(scores);
  std::string body = "[";
  const std::vector<size_t> order = tei_order(scores);
  for (size_t k = 0; k < order.size(); ++k) {
    body += k ? ",{\"index\":" : "{\"index\":";
    body += std::to_string(order[k]);
    if (texts) body += ",\"text\":" + json_string((*texts)[order[k]]);
    body += ",\"score\":";
    append_score(body, scores[order[k]]);
    body += '}';
  }
  body += ']';
  return HttpResponse{200, std::move(body), "application/json", {}};
}

}  // namespace

void Service::predict(Call& call) {
  PredictRequest req = parse_predict_request(call.request.body);
  if (req.batch) check_batch_size(req.inputs.size(), "inputs");
  if (!classifier_) raise(backend_error("Model is not a classifier model"));
  const bool truncate = req.truncate.value_or(options_.auto_truncate);
  std::vector<Sequence> sequences;
  sequences.reserve(req.inputs.size());
  size_t chars = 0;
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    sequences.push_back(encode_predict_input(req.inputs[i], truncate, req.truncation_direction, i));
    chars += req.inputs[i].count_chars();
  }
  const ScoreFunction function = req.raw_scores                        ? ScoreFunction::None
                                 : classifier_->labels().size() > 1 ? ScoreFunction::Softmax
                                                                      : ScoreFunction::Sigmoid;
  infer(call, std::move(sequences), chars, [this, function, batch = req.batch](Job& job) {
    const std::vector<std::string>& labels = classifier_->labels();
    std::string body = batch ? "[" : "";
    for (size_t i = 0; i < job.results.size(); ++i) {
      const std::vector<float> scores = classifier_->scores(job.results[i].logits, function);
      check_scores(scores);
      if (i) body += ',';
      body += '[';
      const std::vector<size_t> order = tei_order(scores);
      for (size_t k = 0; k < order.size(); ++k) {
        body += k ? ",{\"score\":" : "{\"score\":";
        append_score(body, scores[order[k]]);
        body += ",\"label\":" + json_string(labels[order[k]]) + "}";
      }
      body += ']';
    }
    if (batch) body += ']';
    return HttpResponse{200, std::move(body), "application/json", {}};
  });
}

void Service::rerank(Call& call) {
  RerankRequest req = parse_rerank_request(call.request.body);
  if (req.texts.empty()) raise(empty_input("`texts` cannot be empty"));
  if (colbert_) return rerank_maxsim(call, std::move(req));
  if (kind_ != ModelKind::Reranker) raise(backend_error("model is not a re-ranker model"));
  check_batch_size(req.texts.size(), "texts");
  const bool truncate = req.truncate.value_or(options_.auto_truncate);
  std::vector<Sequence> sequences;
  sequences.reserve(req.texts.size());
  size_t chars = 0;
  PredictInput pair{req.query, std::string()};
  for (size_t i = 0; i < req.texts.size(); ++i) {
    pair.pair = req.texts[i];
    sequences.push_back(encode_predict_input(pair, truncate, req.truncation_direction, i));
    chars += pair.count_chars();  // TEI: the query counts once per text
  }
  const ScoreFunction function = req.raw_scores ? ScoreFunction::None : ScoreFunction::Sigmoid;
  infer(call, std::move(sequences), chars,
        [this, function, return_text = req.return_text, texts = std::move(req.texts)](Job& job) {
          std::vector<float> scores(job.results.size());
          for (size_t i = 0; i < job.results.size(); ++i) scores[i] = classifier_->scores(job.results[i].logits, function)[0];
          return rerank_answer(scores, return_text ? &texts : nullptr);
        });
}

// /rerank on a ColBERT model: the query (as a query) and the texts (as documents) in one job,
// each text's score MaxSim with the query (pylate.scores.colbert_scores of the pair). TEI's
// truncate and raw_scores do not apply: PyLate always cuts to its lengths, MaxSim is a raw score.
void Service::rerank_maxsim(Call& call, RerankRequest req) {
  check_batch_size(req.texts.size() + 1, "texts");  // + 1: the query
  std::vector<Sequence> sequences;
  sequences.push_back(encode_colbert_input(Input{req.query, {}, false}, true, 0, "query"));
  size_t chars = Input{req.query, {}, false}.count_chars();
  for (size_t i = 0; i < req.texts.size(); ++i) {
    const Input text{req.texts[i], {}, false};
    sequences.push_back(encode_colbert_input(text, false, i + 1, "texts"));
    chars += text.count_chars();
  }
  infer(call, std::move(sequences), chars,
        [dim = colbert_->dimensions(), return_text = req.return_text, texts = std::move(req.texts)](Job& job) {
          auto vectors = [dim](std::vector<float>& v) {
            MultiVector m;
            m.rows = static_cast<int64_t>(v.size()) / dim, m.dim = dim;
            m.values = std::move(v);
            return m;
          };
          const MultiVector query = vectors(job.results[0].tokens);
          std::vector<float> scores;
          for (size_t i = 1; i < job.results.size(); ++i) scores.push_back(maxsim(query, vectors(job.results[i].tokens)));
          return rerank_answer(scores, return_text ? &texts : nullptr);
        });
}

}  // namespace encore::serve
