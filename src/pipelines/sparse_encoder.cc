// SPLADE sparse embeddings as sentence-transformers (5.x) SparseEncoder computes them:
// MLMTransformer (tokenizer(texts, truncation=longest_first, max_length=max_seq_length), the
// model's MLM logits for every token) then SpladePooling.forward: logits * attention_mask,
// relu, log1p (a second log1p for activation_function "log1p_relu"), then max or sum over the
// sequence; SparseEncoder.encode(max_active_dims=k) keeps each row's top k.
// References: sentence_transformers/sparse_encoder/models/SpladePooling.py,
// MLMTransformer.py, SparseEncoder.py (the default modules of a fill-mask checkpoint).
#include "encore/sparse_encoder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "models/json_file.h"
#include "pipelines/task_model.h"

namespace encore {
namespace fs = std::filesystem;
using json = nlohmann::json;

struct SparseEncoder::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  bool sum = false;         // pooling_strategy "sum" (else "max")
  bool double_log = false;  // activation_function "log1p_relu"
  size_t max_active_dims = 0;
  std::string similarity = "dot";  // config_sentence_transformers.json similarity_fn_name
};

namespace {

json read_object(const fs::path& file) {
  json j = read_json(file);
  ENCORE_CHECK(j.is_object(), file.string(), ": expected a JSON object");
  return j;
}

// modules.json, when there is one: exactly MLMTransformer (the model directory itself) and
// SpladePooling; returns SpladePooling's directory (empty without modules.json).
fs::path splade_modules(const fs::path& dir) {
  const fs::path file = dir / "modules.json";
  if (!fs::exists(file)) return {};
  const json modules = read_json(file);
  ENCORE_CHECK(modules.is_array(), file.string(), ": expected a list of modules");
  fs::path pooling;
  std::vector<std::string> types;
  for (const json& m : modules) {
    ENCORE_CHECK(m.is_object() && m.contains("type") && m["type"].is_string(), file.string(),
                 ": each module needs a \"type\"");
    const std::string type = m["type"].get<std::string>();
    const std::string cls = type.substr(type.rfind('.') + 1);
    types.push_back(cls);
    if (cls == "SpladePooling") pooling = dir / m.value("path", "");
    else
      ENCORE_CHECK(cls == "MLMTransformer" && m.value("path", "").empty(), file.string(), ": module type '", type,
                   "' is not one encore's SparseEncoder runs (it runs MLMTransformer + SpladePooling, SPLADE)");
  }
  ENCORE_CHECK(types == std::vector<std::string>({"MLMTransformer", "SpladePooling"}), file.string(),
               ": a SPLADE model is MLMTransformer then SpladePooling");
  return pooling;
}

// One sequence's weights from an encode() batch: SpladePooling on its MLM logits, then the
// top `keep` (0: all).
SparseEmbedding pool(const SparseEncoder::Impl& m, const Encoded& e, size_t b, size_t keep) {
  // One sequence's logits at a time: [tokens, vocab] (a batch's would be its tokens × 30k
  // floats), and a sequence's weights do not depend on the rest of the batch.
  std::vector<int64_t> rows(static_cast<size_t>(e.cu[b + 1] - e.cu[b]));
  std::iota(rows.begin(), rows.end(), e.cu[b]);
  const Tensor logits = m.m.model.token_logits(e, rows);
  const int64_t n = logits.size(0), V = logits.size(1);
  const float* x = logits.data<float>();
  // log1p(relu(.)) (and its square, log1p twice) is monotone non-decreasing, so for max
  // pooling the max of the raw logits goes through it once per vocabulary entry instead of
  // once per token and entry: the same float, as f(max) = max(f) for a monotone f.
  auto weight = [&](float logit) {
    const float w = std::log1p(std::max(logit, 0.0f));
    return m.double_log ? std::log1p(w) : w;
  };
  std::vector<float> pooled(static_cast<size_t>(V), m.sum ? 0.0f : -INFINITY);
  for (int64_t t = 0; t < n; ++t) {
    const float* row = x + t * V;
    if (m.sum)
      for (int64_t v = 0; v < V; ++v) pooled[static_cast<size_t>(v)] += weight(row[v]);
    else
      for (int64_t v = 0; v < V; ++v) pooled[static_cast<size_t>(v)] = std::max(pooled[static_cast<size_t>(v)], row[v]);
  }
  if (!m.sum)
    for (float& p : pooled) p = p > 0.0f ? weight(p) : 0.0f;
  SparseEmbedding s;
  for (int64_t v = 0; v < V; ++v)
    if (pooled[static_cast<size_t>(v)] != 0.0f) {
      s.indices.push_back(static_cast<int32_t>(v));
      s.values.push_back(pooled[static_cast<size_t>(v)]);
    }
  if (keep > 0 && s.indices.size() > keep) {
    // torch.topk keeps the largest values; the kept ones go back in index order.
    std::vector<size_t> order(s.indices.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) { return s.values[a] > s.values[c]; });
    order.resize(keep);
    std::sort(order.begin(), order.end());
    SparseEmbedding kept;
    for (size_t i : order) kept.indices.push_back(s.indices[i]), kept.values.push_back(s.values[i]);
    s = std::move(kept);
  }
  return s;
}

}  // namespace

SparseEncoder SparseEncoder::load(const std::string& dir, const SparseEncoderOptions& o) {
  const fs::path root(dir);
  const fs::path pooling_dir = splade_modules(root);
  auto impl = std::make_shared<Impl>(
      pipelines::load_task_model(dir, {TaskHead::MaskedLM}, "sparse embedding", o.batch_size, o.threads, o.dtype));
  if (!pooling_dir.empty() && fs::exists(pooling_dir / "config.json")) {
    const json c = read_object(pooling_dir / "config.json");
    const std::string strategy = c.value("pooling_strategy", "max");
    const std::string activation = c.value("activation_function", "relu");
    ENCORE_CHECK(strategy == "max" || strategy == "sum", (pooling_dir / "config.json").string(),
                 ": pooling_strategy must be max or sum, not ", strategy);
    ENCORE_CHECK(activation == "relu" || activation == "log1p_relu", (pooling_dir / "config.json").string(),
                 ": activation_function must be relu or log1p_relu, not ", activation);
    impl->sum = strategy == "sum";
    impl->double_log = activation == "log1p_relu";
  }
  // MLMTransformer's max_seq_length: sentence_bert_config.json, else the tokenizer's limit
  // (load_task_model: min(model_max_length, max_position_embeddings)).
  int max_length = impl->m.max_length;
  if (fs::exists(root / "sentence_bert_config.json")) {
    const json c = read_object(root / "sentence_bert_config.json");
    if (c.contains("max_seq_length") && c["max_seq_length"].is_number_integer())
      max_length = std::min(max_length, c["max_seq_length"].get<int>());
  }
  ENCORE_CHECK(o.max_length >= 0, "max_length must be >= 0, not ", o.max_length);
  if (o.max_length > 0) max_length = std::min(o.max_length, static_cast<int>(impl->m.model.config().max_length));
  impl->m.max_length = max_length;
  if (fs::exists(root / "config_sentence_transformers.json")) {
    const json c = read_object(root / "config_sentence_transformers.json");
    if (c.contains("similarity_fn_name") && c["similarity_fn_name"].is_string())
      impl->similarity = c["similarity_fn_name"].get<std::string>();
    ENCORE_CHECK(impl->similarity == "dot" || impl->similarity == "cosine",
                 (root / "config_sentence_transformers.json").string(), ": similarity_fn_name '", impl->similarity,
                 "' is not one encore's SparseEncoder computes (dot, cosine)");
  }
  ENCORE_CHECK(o.max_active_dims >= 0, "max_active_dims must be >= 0, not ", o.max_active_dims);
  impl->max_active_dims = static_cast<size_t>(o.max_active_dims);
  SparseEncoder s;
  s.impl_ = std::move(impl);
  return s;
}

std::vector<SparseEmbedding> SparseEncoder::encode(const std::vector<std::string>& texts) const {
  return encode(texts, static_cast<int>(impl_->max_active_dims));
}

std::vector<SparseEmbedding> SparseEncoder::encode(const std::vector<std::string>& texts, int max_active_dims) const {
  const Impl& m = *impl_;
  ENCORE_CHECK(max_active_dims >= 0, "max_active_dims must be >= 0, not ", max_active_dims);
  const size_t keep = static_cast<size_t>(max_active_dims);
  std::vector<SparseEmbedding> out(texts.size());
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = static_cast<size_t>(m.m.max_length);
  std::vector<Encoding> encodings;
  std::vector<size_t> which;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      encodings.push_back(m.m.tokenizer.encode(texts[i], enc));
      which.push_back(i);
    } catch (const Error& e) {
      out[i].error = e.what();
    }
  }
  pipelines::run_encoded(m.m, encodings,
                         [&](size_t k, const Encoded& e, size_t b) { out[which[k]] = pool(m, e, b, keep); });
  return out;
}

std::vector<SparseEmbedding> SparseEncoder::run(const TokenBatch& batch, int max_active_dims) const {
  ENCORE_CHECK(max_active_dims >= 0, "max_active_dims must be >= 0, not ", max_active_dims);
  const ThreadScope threads(impl_->m.threads);
  const Encoded e = impl_->m.model.encode(batch);
  std::vector<SparseEmbedding> out;
  out.reserve(batch.ids.size());
  for (size_t b = 0; b < batch.ids.size(); ++b) out.push_back(pool(*impl_, e, b, static_cast<size_t>(max_active_dims)));
  return out;
}

float SparseEncoder::similarity(const SparseEmbedding& a, const SparseEmbedding& b) const {
  double dot = 0.0;
  for (size_t i = 0, j = 0; i < a.indices.size() && j < b.indices.size();) {
    if (a.indices[i] < b.indices[j])
      ++i;
    else if (a.indices[i] > b.indices[j])
      ++j;
    else
      dot += static_cast<double>(a.values[i++]) * b.values[j++];
  }
  if (impl_->similarity == "cosine") {  // util.cos_sim: each norm clamped at 1e-12 (as l2_normalize)
    double aa = 0.0, bb = 0.0;
    for (float v : a.values) aa += static_cast<double>(v) * v;
    for (float v : b.values) bb += static_cast<double>(v) * v;
    dot /= std::max(std::sqrt(aa), 1e-12) * std::max(std::sqrt(bb), 1e-12);
  }
  return static_cast<float>(dot);
}

const std::string& SparseEncoder::similarity_fn_name() const {
  return impl_->similarity;
}

int64_t SparseEncoder::dimensions() const {
  return impl_->m.model.config().vocab_size;
}
int SparseEncoder::max_length() const {
  return impl_->m.max_length;
}
const Tokenizer& SparseEncoder::tokenizer() const {
  return impl_->m.tokenizer;
}
const Model& SparseEncoder::model() const {
  return impl_->m.model;
}

std::string SparseEncoder::describe() const {
  return std::string("SpladePooling(") + (impl_->sum ? "sum" : "max") + ", " +
         (impl_->double_log ? "log1p_relu" : "relu") + "), max_seq_length " + std::to_string(impl_->m.max_length);
}

}  // namespace encore
