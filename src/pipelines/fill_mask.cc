// Fill-mask as transformers pipelines/fill_mask.py: softmax over the vocabulary at each
// mask position, topk, and for each candidate `sequence` = decode(ids with the candidate
// in place, padding dropped), skipping special tokens only when the text has one mask
// (with several, the other masks must stay visible). A text without a mask is an error
// ("No mask_token ([MASK]) found on the input"), as in the pipeline.
#include "encore/fill_mask.h"

#include <algorithm>
#include <numeric>

#include "encore/tokenizer.h"
#include "pipelines/task_model.h"

namespace encore {

struct FillMask::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  int32_t mask_id = 0;
  int top_k = 5;
};

FillMask FillMask::load(const std::string& dir, const FillMaskOptions& o) {
  auto impl = std::make_shared<Impl>(pipelines::load_task_model(dir, {TaskHead::MaskedLM, TaskHead::PreTraining},
                                                                     "fill-mask", o.batch_size, o.threads, o.dtype));
  const std::string& mask = impl->m.tokenizer.config().mask_token;
  auto id = impl->m.tokenizer.token_to_id(mask);
  ENCORE_CHECK(id.has_value(), dir, ": the tokenizer has no mask token '", mask, "'");
  impl->mask_id = *id;
  ENCORE_CHECK(o.top_k >= 1, "top_k must be >= 1");
  impl->top_k = std::min<int>(o.top_k, static_cast<int>(impl->m.model.config().vocab_size));
  FillMask f;
  f.impl_ = std::move(impl);
  return f;
}

const std::string& FillMask::mask_token() const { return impl_->m.tokenizer.config().mask_token; }

std::vector<FillMaskResult> FillMask::fill(const std::vector<std::string>& texts) const {
  const Impl& m = *impl_;
  std::vector<FillMaskResult> results(texts.size());
  std::vector<Encoding> encodings;
  std::vector<size_t> which;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      Encoding e = m.m.tokenizer.encode(texts[i], EncodeOptions{});
      pipelines::check_length(m.m, e);
      ENCORE_CHECK(std::count(e.ids.begin(), e.ids.end(), m.mask_id) > 0, "No mask_token (", mask_token(),
                   ") found on the input");
      encodings.push_back(std::move(e));
      which.push_back(i);
    } catch (const Error& err) {
      results[i].error = err.what();
    }
  }
  const int32_t pad_id = m.m.tokenizer.token_to_id(m.m.tokenizer.config().pad_token).value_or(-1);
  pipelines::run_encoded(m.m, encodings, [&](size_t k, const Encoded& e, size_t b) {
    const Encoding& enc = encodings[k];
    std::vector<int64_t> rows;
    for (size_t j = 0; j < enc.ids.size(); ++j)
      if (enc.ids[j] == m.mask_id) rows.push_back(e.cu[b] + static_cast<int64_t>(j));
    Tensor logits = m.m.model.token_logits(e, rows);  // [masks, V]
    const size_t V = static_cast<size_t>(logits.size(1));
    const bool single = rows.size() == 1;
    FillMaskResult& r = results[which[k]];
    size_t mask_no = 0;
    for (size_t j = 0; j < enc.ids.size(); ++j) {
      if (enc.ids[j] != m.mask_id) continue;
      std::vector<float> p = pipelines::softmax(logits.data<float>() + mask_no * V, V);
      ++mask_no;
      // torch.topk: largest first; equal values keep the lower index first.
      std::vector<int32_t> order(V);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + m.top_k, order.end(),
                        [&](int32_t a, int32_t c) { return p[a] > p[c] || (p[a] == p[c] && a < c); });
      std::vector<MaskPrediction> preds;
      for (int t = 0; t < m.top_k; ++t) {
        MaskPrediction pr;
        pr.token = order[t];
        pr.score = p[order[t]];
        std::vector<int32_t> ids;
        for (size_t q = 0; q < enc.ids.size(); ++q) {
          const int32_t id = q == j ? pr.token : enc.ids[q];
          if (id != pad_id) ids.push_back(id);
        }
        pr.sequence = pipelines::hf_decode(m.m, ids, single);
        pr.token_str = pipelines::hf_decode(m.m, {pr.token}, false);  // tokenizer.decode([p])
        preds.push_back(std::move(pr));
      }
      r.masks.push_back(std::move(preds));
    }
  });
  return results;
}

}  // namespace encore
