// Extractive QA as transformers pipelines/question_answering.py (fast tokenizer, right
// padding side):
//  - tokenizer(question, context, truncation="only_second", max_length=max_seq_len,
//    stride=doc_stride, return_overflowing_tokens=True): one window per span of the context;
//  - per window: logits of tokens outside the context (p_mask; [CLS] allowed) set to
//    -10000, softmax of start and end separately, [CLS] probability zeroed, span score
//    start[s] * end[e] for s <= e <= s + max_answer_len - 1 (decode_spans), the best
//    top_k * 2 + 10 spans kept (align_to_words);
//  - a span becomes the characters of the whole words it touches (get_indices: word_to_chars);
//  - answers with the same lowercased text add their scores (get_answer); sorted, top_k.
// handle_impossible_answer adds {"score": min over windows of start[0]*end[0], "answer": ""}.
#include "encore/question_answerer.h"

#include <algorithm>
#include <cmath>
#include <utf8proc.h>

#include "encore/tokenizer.h"
#include "pipelines/task_model.h"

namespace encore {

struct QuestionAnswerer::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  QuestionAnswererOptions o;
};

namespace {

std::string lower(const std::string& s) {  // Python str.lower() (simple case mapping)
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t at = 0, n = static_cast<utf8proc_ssize_t>(s.size());
  while (at < n) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(p + at, n - at, &cp);
    if (len <= 0) return s;
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t w = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(w));
    at += len;
  }
  return out;
}

struct Span {
  float score;
  size_t s, e;
};

// select_starts_ends + decode_spans on one window.
std::vector<Span> best_spans(const float* logits, const Encoding& w, int pre_topk, int max_answer_len,
                             float* null_score) {
  const size_t n = w.size();
  std::vector<float> start(n), end(n);
  std::vector<uint8_t> desired(n);
  for (size_t j = 0; j < n; ++j) {
    // p_mask: tokens not of the context (sequence id 1) are masked, except [CLS] (index 0).
    desired[j] = w.sequence_ids[j] == 1 || (j == 0 && w.special_tokens_mask[j]);
    start[j] = desired[j] ? logits[2 * j] : -10000.0f;
    end[j] = desired[j] ? logits[2 * j + 1] : -10000.0f;
  }
  start = pipelines::softmax(start.data(), n);
  end = pipelines::softmax(end.data(), n);
  *null_score = std::min(*null_score, start[0] * end[0]);
  start[0] = end[0] = 0.0f;
  std::vector<Span> spans;
  for (size_t s = 0; s < n; ++s) {
    if (!desired[s]) continue;
    for (size_t e = s; e < n && e < s + static_cast<size_t>(max_answer_len); ++e) {
      const float score = start[s] * end[e];
      if (desired[e] && score > 0.0f) spans.push_back({score, s, e});
    }
  }
  const size_t k = std::min(spans.size(), static_cast<size_t>(pre_topk));
  std::partial_sort(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(k), spans.end(),
                    [](const Span& a, const Span& b) { return a.score > b.score; });
  spans.resize(k);
  return spans;
}

// get_indices(align_to_words=True): the characters of the words holding tokens s and e.
std::pair<size_t, size_t> word_chars(const Encoding& w, size_t s, size_t e) {
  auto span_of = [&](size_t t, bool first) {
    const int32_t word = w.word_ids[t];
    size_t b = w.char_offsets[t].first, f = w.char_offsets[t].second;
    for (size_t j = 0; j < w.size(); ++j) {
      if (w.word_ids[j] != word || w.sequence_ids[j] != 1) continue;
      b = std::min(b, w.char_offsets[j].first);
      f = std::max(f, w.char_offsets[j].second);
    }
    return first ? b : f;
  };
  if (w.word_ids[s] < 0 || w.word_ids[e] < 0) return {w.char_offsets[s].first, w.char_offsets[e].second};
  return {span_of(s, true), span_of(e, false)};
}

// The question and one window of the context, with the model's special tokens, for every
// window: tokenizer(question, context, truncation="only_second", max_length, stride,
// return_overflowing_tokens=True), i.e. the encoding and its overflowing windows.
std::vector<Encoding> question_windows(const Tokenizer& tok, const std::string& question, const std::string& context,
                                       size_t max_len, size_t stride) {
  EncodeOptions plain;
  plain.add_special_tokens = false;
  const size_t q = tok.encode(question, plain).size();
  const size_t specials = tok.num_special_tokens_to_add(true);
  ENCORE_CHECK(q + specials < max_len, "the question has ", q, " tokens: no room for the context in max_seq_len ",
               max_len);
  const size_t W = max_len - q - specials;
  ENCORE_CHECK(stride < W, "doc_stride ", stride, " must be smaller than the ", W, " context tokens per window");
  EncodeOptions o;
  o.truncation.strategy = TruncationStrategy::OnlySecond;
  o.truncation.max_length = max_len;
  o.truncation.stride = stride;
  o.return_overflowing = true;
  Encoding e = tok.encode_pair(question, context, o);
  std::vector<Encoding> out;
  std::vector<Encoding> rest = std::move(e.overflowing);
  e.overflowing.clear();
  out.push_back(std::move(e));
  for (auto& w : rest) out.push_back(std::move(w));
  return out;
}

}  // namespace

QuestionAnswerer QuestionAnswerer::load(const std::string& dir, const QuestionAnswererOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(dir, {TaskHead::QuestionAnswering},
                                                                "question answering", o.batch_size, o.threads, o.dtype));
  impl->o = o;
  if (impl->o.max_seq_len <= 0)
    impl->o.max_seq_len = std::min(384, impl->m.max_length);  // min(model_max_length, 384), within the positions
  if (impl->o.doc_stride <= 0) impl->o.doc_stride = std::min(impl->o.max_seq_len / 2, 128);
  ENCORE_CHECK(impl->o.doc_stride <= impl->o.max_seq_len, "doc_stride (", impl->o.doc_stride,
               ") is larger than max_seq_len (", impl->o.max_seq_len, ")");
  ENCORE_CHECK(impl->o.max_seq_len <= impl->m.model.config().max_length, "max_seq_len ", impl->o.max_seq_len,
               " exceeds the model's longest sequence ", impl->m.model.config().max_length);
  ENCORE_CHECK(o.top_k >= 1 && o.max_answer_len >= 1, "top_k and max_answer_len must be >= 1");
  QuestionAnswerer q;
  q.impl_ = std::move(impl);
  return q;
}

std::vector<AnswerResult> QuestionAnswerer::answer(const std::vector<std::string>& questions,
                                                   const std::vector<std::string>& contexts) const {
  const Impl& m = *impl_;
  ENCORE_CHECK(questions.size() == contexts.size(), "answer: ", questions.size(), " questions but ", contexts.size(),
               " contexts");
  std::vector<AnswerResult> results(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    try {
      ENCORE_CHECK(!questions[i].empty(), "the question is empty");
      ENCORE_CHECK(!contexts[i].empty(), "the context is empty");
      std::vector<Encoding> windows = question_windows(m.m.tokenizer, questions[i], contexts[i],
                                                       static_cast<size_t>(m.o.max_seq_len),
                                                       static_cast<size_t>(m.o.doc_stride));
      float null_score = 1000000.0f;
      std::vector<Answer>& answers = results[i].answers;
      pipelines::run_encoded(m.m, windows, [&](size_t k, const Encoded& e, size_t b) {
        std::vector<int64_t> rows;
        for (size_t j = 0; j < windows[k].size(); ++j) rows.push_back(e.cu[b] + static_cast<int64_t>(j));
        Tensor logits = m.m.model.token_logits(e, rows);
        for (const Span& sp : best_spans(logits.data<float>(), windows[k], m.o.top_k * 2 + 10, m.o.max_answer_len,
                                         &null_score)) {
          auto [b0, e0] = word_chars(windows[k], sp.s, sp.e);
          std::string text = pipelines::utf8_slice(contexts[i], b0, e0);
          auto same = std::find_if(answers.begin(), answers.end(),
                                   [&](const Answer& a) { return lower(a.answer) == lower(text); });
          if (same != answers.end()) same->score += sp.score;
          else answers.push_back({sp.score, b0, e0, text});
        }
      });
      if (m.o.handle_impossible_answer) answers.push_back({null_score, 0, 0, ""});
      std::stable_sort(answers.begin(), answers.end(), [](const Answer& a, const Answer& b) { return a.score > b.score; });
      if (answers.size() > static_cast<size_t>(m.o.top_k)) answers.resize(static_cast<size_t>(m.o.top_k));
    } catch (const Error& err) {
      results[i].answers.clear();
      results[i].error = err.what();
    }
  }
  return results;
}

}  // namespace encore
