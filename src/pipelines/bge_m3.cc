// bge-m3 as FlagEmbedding 1.4.2 BGEM3FlagModel (M3Embedder) computes it at inference, per text
// from the body's last_hidden_state h (references under FlagEmbedding/: m3.py is
// inference/embedder/encoder_only/m3.py, modeling.py is finetune/embedder/encoder_only/m3/
// modeling.py, runner.py the same folder's runner.py):
//   dense:   h[0] (pooling "cls"), F.normalize'd (modeling.py _dense_embedding, encode);
//   sparse:  relu(sparse_linear(h[t])) per token, then m3.py _process_token_weights: the ids of
//            the cls, eos, pad and unk tokens left out, weights > 0 only, the max per id;
//   colbert: colbert_linear(h[1:]) (every token after <s>, the final </s> included), each row
//            F.normalize'd (modeling.py _colbert_embedding, m3.py _process_colbert_vecs).
// FlagEmbedding pads a length-sorted batch on the right and masks the padding; every output is
// per sequence, so encore runs each text unpadded and gets the same values.
#include "encore/bge_m3.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <set>

#include "core/convert.h"
#include "encore/checkpoint.h"
#include "encore/error.h"
#include "encore/model_path.h"
#include "kernels/kernels.h"
#include "models/json_file.h"
#include "pipelines/st_modules.h"
#include "pipelines/task_model.h"

namespace encore {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A torch.nn.Linear read from a torch.save(state_dict) file (runner.py get_model: <dir>/
// colbert_linear.pt and <dir>/sparse_linear.pt, load_state_dict: exactly `weight` [out, in]
// and `bias` [out]). BAAI's files hold float16; load_state_dict copies into float32.
struct Linear {
  std::vector<float> weight, bias;
  int64_t out = 0;
};

Linear read_linear(const fs::path& file, int64_t hidden, int64_t out /* 0: any */, bool half) {
  // runner.py loads the heads only when both files exist and otherwise keeps randomly
  // initialised ones without a warning: its sparse and ColBERT outputs are then noise.
  if (!fs::exists(file))
    fail_path(false, file.string(), ": missing; bge-m3 needs colbert_linear.pt and sparse_linear.pt beside the model ",
              "(FlagEmbedding would silently use randomly initialised heads instead)");
  const TensorFile f = read_torch_checkpoint(file.string());
  ENCORE_CHECK(f.tensors.size() == 2 && f.tensors.count("weight") && f.tensors.count("bias"), file.string(),
               ": expected a state_dict of exactly 'weight' and 'bias' (a torch.nn.Linear)");
  const Tensor& w = f.tensors.at("weight");
  const Tensor& b = f.tensors.at("bias");
  ENCORE_CHECK(w.shape().size() == 2 && w.shape()[1] == hidden && w.shape()[0] > 0 && (out == 0 || w.shape()[0] == out),
               file.string(), ": 'weight' has shape ", shape_string(w.shape()), ", expected [",
               out == 0 ? std::string("out") : std::to_string(out), ", ", hidden, "]");
  ENCORE_CHECK(b.shape() == Shape{w.shape()[0]}, file.string(), ": 'bias' has shape ", shape_string(b.shape()),
               ", expected [", w.shape()[0], "]");
  Linear l;
  l.out = w.shape()[0];
  const Tensor w32 = w.to_f32(), b32 = b.to_f32();
  l.weight.assign(w32.data<float>(), w32.data<float>() + w32.numel());
  l.bias.assign(b32.data<float>(), b32.data<float>() + b32.numel());
  if (half)  // runner.py: the heads are made in float16 and load_state_dict copies into them
    for (std::vector<float>* v : {&l.weight, &l.bias})
      for (float& x : *v) x = round_to_half(x);
  return l;
}

// The string of a special token in tokenizer_config.json or special_tokens_map.json (the
// latter wins, as in transformers' from_pretrained): a string or an AddedToken object.
std::string special_token(const fs::path& dir, const char* key, const std::string& fallback) {
  std::string token = fallback;
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    if (!fs::exists(dir / name)) continue;
    const json j = read_json(dir / name);
    if (!j.is_object() || !j.contains(key)) continue;
    const json& v = j[key];
    if (v.is_string())
      token = v.get<std::string>();
    else if (v.is_object() && v.contains("content") && v["content"].is_string())
      token = v["content"].get<std::string>();
  }
  return token;
}

}  // namespace

struct BgeM3::Impl {
  explicit Impl(pipelines::TaskModel t) : m(std::move(t)) {}
  pipelines::TaskModel m;
  Linear colbert, sparse;
  std::set<int32_t> unused;  // m3.py _process_token_weights' unused_tokens
  bool normalize = true;
  int64_t limit = 0;         // the longest input the positions allow
  bool fp16_weights = false;

  BgeM3Embedding run(const std::vector<int32_t>& ids, const Encoded& e, size_t b) const;
};

BgeM3Embedding BgeM3::Impl::run(const std::vector<int32_t>& ids, const Encoded& e, size_t b) const {
  const int64_t H = m.model.config().hidden, n = e.cu[b + 1] - e.cu[b];
  ENCORE_CHECK(n == static_cast<int64_t>(ids.size()) && n >= 1, "bge-m3: ", n, " hidden states for ", ids.size(),
               " tokens");
  const float* h = e.states.data<float>() + e.cu[b] * H;
  BgeM3Embedding out;
  out.dense.assign(h, h + H);
  if (normalize) st::normalize_rows(out.dense.data(), 1, H);
  // Sparse: one weight per token, dot product and bias in double, rounded once.
  std::map<int32_t, float> weights;
  for (int64_t t = 0; t < n; ++t) {
    const int32_t id = ids[static_cast<size_t>(t)];
    if (unused.count(id)) continue;
    double s = sparse.bias[0];
    for (int64_t k = 0; k < H; ++k) s += static_cast<double>(sparse.weight[static_cast<size_t>(k)]) * h[t * H + k];
    const float w = static_cast<float>(s);
    if (w > 0.0f) {
      auto [it, fresh] = weights.emplace(id, w);
      if (!fresh) it->second = std::max(it->second, w);
    }
  }
  for (const auto& [id, w] : weights) out.sparse.indices.push_back(id), out.sparse.values.push_back(w);
  // ColBERT: the sequence's own rows through one GEMM (its rounding then does not depend on
  // the rest of the batch).
  MultiVector& c = out.colbert;
  c.rows = n - 1, c.dim = colbert.out;
  c.values.assign(static_cast<size_t>(c.rows * c.dim), 0.0f);
  kernels::linear(c.values.data(), h + H, colbert.weight.data(), colbert.bias.data(), c.rows, H, c.dim);
  if (normalize) st::normalize_rows(c.values.data(), c.rows, c.dim);
  c.token_ids.assign(ids.begin() + 1, ids.end());
  return out;
}

BgeM3 BgeM3::load(const std::string& dir, const BgeM3Options& o) {
  const fs::path path = resolve_model_path(dir);
  // AutoModel: the plain body (bge-m3's XLMRobertaModel); no task head.
  auto impl = std::make_shared<Impl>(
      pipelines::load_task_model(path.string(), {TaskHead::None}, "bge-m3", o.batch_size, o.threads, o.dtype,
                                 o.fp16_weights));
  const ModelConfig& config = impl->m.model.config();
  // m3.py encode: max_length = passage_max_length = 512 unless the call passes another; the
  // tokenizer's model_max_length is never used.
  const int64_t limit = config.max_length > 0 ? config.max_length : INT_MAX;  // 0: positions without a limit
  ENCORE_CHECK(o.max_length >= 0, "max_length must be >= 0, not ", o.max_length);
  ENCORE_CHECK(o.max_length <= limit, dir, ": max_length ", o.max_length, " exceeds the ", limit,
               " tokens the model's positions allow (max_position_embeddings ", config.max_positions, ")");
  impl->limit = limit;
  const int max_length = o.max_length > 0 ? o.max_length : static_cast<int>(std::min<int64_t>(512, limit));
  ENCORE_CHECK(max_length >= 2, "max_length ", max_length, " leaves no room for <s> and </s>");
  impl->m.max_length = max_length;
  impl->normalize = o.normalize;
  impl->colbert = read_linear(path / "colbert_linear.pt", config.hidden, 0, o.fp16_weights);
  impl->sparse = read_linear(path / "sparse_linear.pt", config.hidden, 1, o.fp16_weights);
  impl->fp16_weights = o.fp16_weights;
  // convert_tokens_to_ids of special_tokens_map's cls, eos, pad and unk tokens
  // (XLMRobertaTokenizer's defaults when the files do not name them).
  for (const auto& [key, fallback] :
       {std::pair{"cls_token", "<s>"}, {"eos_token", "</s>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}})
    if (auto id = impl->m.tokenizer.token_to_id(special_token(path, key, fallback))) impl->unused.insert(*id);
  BgeM3 m;
  m.impl_ = std::move(impl);
  return m;
}

std::vector<BgeM3Embedding> BgeM3::encode(const std::vector<std::string>& texts) const { return encode(texts, 0); }

std::vector<BgeM3Embedding> BgeM3::encode(const std::vector<std::string>& texts, int max_length) const {
  const Impl& m = *impl_;
  ENCORE_CHECK(max_length >= 0 && max_length <= m.limit, "max_length ", max_length, " is not within 0..", m.limit,
               " (the model's positions)");
  ENCORE_CHECK(max_length == 0 || max_length >= 2, "max_length ", max_length, " leaves no room for <s> and </s>");
  std::vector<BgeM3Embedding> out(texts.size());
  // m3.py: tokenizer(texts, truncation=True, max_length=max_length): [<s>] + the first
  // max_length - 2 pieces + [</s>]; no token_type_ids (type 0 everywhere).
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = static_cast<size_t>(max_length > 0 ? max_length : m.m.max_length);
  std::vector<Encoding> encodings;
  std::vector<size_t> which;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      encodings.push_back(m.m.tokenizer.encode(texts[i], enc));
      encodings.back().type_ids.assign(encodings.back().ids.size(), 0);
      which.push_back(i);
    } catch (const Error& e) {
      out[i].error = e.what();
    }
  }
  pipelines::run_encoded(m.m, encodings,
                         [&](size_t k, const Encoded& e, size_t b) { out[which[k]] = m.run(encodings[k].ids, e, b); });
  return out;
}

std::vector<BgeM3Embedding> BgeM3::run(const TokenBatch& batch) const {
  const Impl& m = *impl_;
  const ThreadScope threads(m.m.threads);
  TokenBatch typed = batch;
  typed.type_ids.clear();  // no token_type_ids: type 0 everywhere, as FlagEmbedding feeds XLM-R
  const Encoded e = m.m.model.encode(typed);
  std::vector<BgeM3Embedding> out;
  for (size_t b = 0; b < batch.ids.size(); ++b) out.push_back(m.run(batch.ids[b], e, b));
  return out;
}

float BgeM3::lexical_score(const SparseEmbedding& a, const SparseEmbedding& b) {
  double score = 0.0;
  for (size_t i = 0, j = 0; i < a.indices.size() && j < b.indices.size();) {
    if (a.indices[i] < b.indices[j])
      ++i;
    else if (a.indices[i] > b.indices[j])
      ++j;
    else
      score += static_cast<double>(a.values[i++]) * b.values[j++];
  }
  return static_cast<float>(score);
}

float BgeM3::colbert_score(const MultiVector& query, const MultiVector& passage) {
  // m3.py colbert_score: sum_i max_j q_i . p_j / len(q) (a query from encode() has >= 1 row).
  ENCORE_CHECK(query.rows > 0, "colbert_score of a query with no vectors");
  return static_cast<float>(static_cast<double>(maxsim(query, passage)) / static_cast<double>(query.rows));
}

int64_t BgeM3::dimensions() const {
  return impl_->m.model.config().hidden;
}
int64_t BgeM3::colbert_dimensions() const {
  return impl_->colbert.out;
}
int BgeM3::max_length() const {
  return impl_->m.max_length;
}
const Tokenizer& BgeM3::tokenizer() const {
  return impl_->m.tokenizer;
}
const Model& BgeM3::model() const {
  return impl_->m.model;
}

std::string BgeM3::describe() const {
  return std::string("bge-m3(") + dialect_name(impl_->m.model.config().dialect) + ", dense " +
         std::to_string(dimensions()) + ", sparse, colbert " + std::to_string(colbert_dimensions()) + ", max_length " +
         std::to_string(impl_->m.max_length) + (impl_->normalize ? "" : ", not normalized") +
         (impl_->fp16_weights ? ", float16 weights" : "") + ")";
}

}  // namespace encore
