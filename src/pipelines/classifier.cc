// Text classification as transformers pipelines/text_classification.py postprocess():
// the score function chosen from problem_type / num_labels, labels from id2label, sorted
// best first and cut to top_k. Inputs are tokenized without truncation, as the pipeline does.
#include "encore/classifier.h"

#include <algorithm>

#include "pipelines/task_model.h"

namespace encore {

struct TextClassifier::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  ScoreFunction function = ScoreFunction::Softmax;
  std::vector<std::string> labels;
  int top_k = 1;
  bool nsp = false;
};

TextClassifier TextClassifier::load(const std::string& dir, const ClassifierOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(
      dir, {TaskHead::SequenceClassification, TaskHead::NextSentence, TaskHead::PreTraining}, "classification",
      o.batch_size, o.threads, o.dtype));
  const HeadConfig& h = impl->m.model.config().head;
  impl->nsp = h.kind != TaskHead::SequenceClassification;
  if (impl->nsp) {
    impl->labels = {"is_next", "not_next"};
    impl->function = ScoreFunction::Softmax;
  } else {
    impl->labels = h.labels;
    if (h.problem_type == "regression") impl->function = ScoreFunction::None;
    else if (h.problem_type == "multi_label_classification" || h.num_labels == 1) impl->function = ScoreFunction::Sigmoid;
    else impl->function = ScoreFunction::Softmax;
  }
  if (o.function != ScoreFunction::Default) impl->function = o.function;
  ENCORE_CHECK(o.top_k >= 0, "top_k must be >= 0");
  impl->top_k = o.top_k;
  TextClassifier c;
  c.impl_ = std::move(impl);
  return c;
}

std::vector<ClassifyResult> TextClassifier::classify(const std::vector<std::string>& texts,
                                                     const std::vector<std::string>& pairs) const {
  const Impl& m = *impl_;
  std::vector<ClassifyResult> results(texts.size());
  std::vector<Encoding> encodings;
  std::vector<size_t> which;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      const bool pair = i < pairs.size() && !pairs[i].empty();
      Encoding e = encode(texts[i], pair ? std::optional<std::string_view>(pairs[i]) : std::nullopt);
      pipelines::check_length(m.m, e);
      ENCORE_CHECK(e.size() > 0, "the text has no tokens");
      encodings.push_back(std::move(e));
      which.push_back(i);
    } catch (const Error& err) {
      results[i].error = err.what();
    }
  }
  pipelines::run_encoded(m.m, encodings, [&](size_t k, const Encoded& e, size_t b) {
    ClassifyResult& r = results[which[k]];
    r.logits = logits(e, b);
    const std::vector<float> s = scores(r.logits);
    for (size_t j = 0; j < s.size(); ++j) r.labels.push_back({m.labels[j], s[j]});
    // Python's sort is stable: equal scores keep label order.
    std::stable_sort(r.labels.begin(), r.labels.end(), [](const auto& a, const auto& c) { return a.score > c.score; });
    if (m.top_k > 0 && r.labels.size() > static_cast<size_t>(m.top_k)) r.labels.resize(static_cast<size_t>(m.top_k));
  });
  return results;
}

Encoding TextClassifier::encode(std::string_view text, std::optional<std::string_view> pair, size_t truncate_to,
                                TruncationSide side) const {
  const Tokenizer& tokenizer = impl_->m.tokenizer;
  EncodeOptions enc;  // the pipeline's default: no truncation
  if (truncate_to > 0) {
    enc.truncation.strategy = TruncationStrategy::LongestFirst;
    enc.truncation.max_length = truncate_to;
    enc.truncation.side = side;
  }
  return pair ? tokenizer.encode_pair(text, *pair, enc) : tokenizer.encode(text, enc);
}

std::vector<float> TextClassifier::logits(const Encoded& encoded, size_t index) const {
  return pipelines::sequence_logits(impl_->m, encoded, index);
}

std::vector<float> TextClassifier::scores(const std::vector<float>& logits, ScoreFunction function) const {
  if (function == ScoreFunction::Default) function = impl_->function;
  if (function == ScoreFunction::Softmax && !logits.empty()) return pipelines::softmax(logits.data(), logits.size());
  std::vector<float> s = logits;
  if (function == ScoreFunction::Sigmoid)
    for (float& v : s) v = pipelines::sigmoid(v);
  return s;
}

int TextClassifier::max_length() const { return impl_->m.max_length; }
const Model& TextClassifier::model() const { return impl_->m.model; }
const Tokenizer& TextClassifier::tokenizer() const { return impl_->m.tokenizer; }

ScoreFunction TextClassifier::function() const { return impl_->function; }
const std::vector<std::string>& TextClassifier::labels() const { return impl_->labels; }

}  // namespace encore
