// ColBERT multi-vector embeddings as PyLate (1.6) computes them, from the directory PyLate's
// ColBERT.save writes. References (pylate/models/colbert.py, pylate/models/Dense.py,
// sentence_transformers/models/Transformer.py 5.3):
//   tokenize: text.strip(), the tokenizer with truncation to L - 1 (L = query_length or
//     document_length) when there is a prefix, then the prefix token's id inserted at
//     position 1 (after [CLS]); queries with do_query_expansion are first padded to L - 1 with
//     the [MASK] id (PyLate sets pad_token_id = mask_token_id), attention 0 unless
//     attend_to_expansion_tokens;
//   forward: the transformer's last hidden state at every position, then each Dense module
//     in modules.json order;
//   keep: documents drop padding and the skip-list's ids (after the forward: those tokens
//     are attended to); queries with expansion keep all L positions, without it the real
//     ones; then each kept vector is L2-normalized (v / max(|v|, 1e-12)).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "encore/checkpoint.h"
#include "encore/error.h"
#include "encore/multi_vector.h"
#include "encore/safetensors.h"
#include "kernels/kernels.h"
#include "models/json_file.h"
#include "pipelines/st_modules.h"
#include "tokenizer/unicode.h"

namespace encore {
namespace fs = std::filesystem;
using json = nlohmann::json;

struct ColBERT::Impl {
  Impl(Model m, Tokenizer t) : model(std::move(m)), tokenizer(std::move(t)) {}
  Model model;
  Tokenizer tokenizer;
  std::vector<std::shared_ptr<const st::RowModule>> dense;  // the projections, in order
  std::optional<int32_t> query_prefix, document_prefix;     // the prefix tokens' ids ("" prefix: none)
  int query_length = 32, document_length = 180;
  bool expansion = true;          // do_query_expansion
  bool attend_expansion = false;  // attend_to_expansion_tokens
  std::vector<int32_t> skiplist;  // ids dropped from documents' outputs
  int32_t mask_id = 0;            // the expansion (and padding) token
  int64_t dim = 0;
  int batch_size = 32, threads = 0;
  std::string description;
};

namespace {

json read_object(const fs::path& file) {
  json j = read_json(file);
  ENCORE_CHECK(j.is_object(), file.string(), ": expected a JSON object");
  return j;
}

// convert_tokens_to_ids: the exact string among the added tokens and the vocabulary, else the
// unknown token's id (PyLate looks prefixes and skip-list words up this way, not by tokenizing).
int32_t token_id(const Tokenizer& t, const std::string& token, const fs::path& where) {
  if (auto id = t.token_to_id(token)) return *id;
  auto unk = t.token_to_id(t.config().unk_token);
  ENCORE_CHECK(unk.has_value(), where.string(), ": '", token, "' is not a token and the tokenizer has no unknown token");
  return *unk;
}

// A Stanford ColBERT checkpoint (colbert-ai's HF_ColBERT, as colbert-ir/colbertv2.0): no
// modules.json, config.json's architectures[0] "HF_ColBERT".
bool is_stanford(const fs::path& root) {
  if (fs::exists(root / "modules.json") || !fs::exists(root / "config.json")) return false;
  const json c = read_json(root / "config.json");
  return c.is_object() && c.contains("architectures") && c["architectures"].is_array() &&
         !c["architectures"].empty() && c["architectures"][0] == "HF_ColBERT";
}

// A PyLate directory: model_type "ColBERT", or one of PyLate's modules in modules.json.
bool is_pylate(const fs::path& root) {
  if (fs::exists(root / "config_sentence_transformers.json")) {
    const json c = read_json(root / "config_sentence_transformers.json");
    if (c.is_object() && c.contains("model_type") && c["model_type"] == "ColBERT") return true;
  }
  if (!fs::exists(root / "modules.json")) return false;
  const json modules = read_json(root / "modules.json");
  if (!modules.is_array()) return false;
  for (const json& m : modules)
    if (m.is_object() && m.contains("type") && m["type"].is_string() &&
        m["type"].get<std::string>().rfind("pylate.", 0) == 0)
      return true;
  return false;
}

// Its projection: Dense.from_stanford_weights, `linear.weight` [out, in] of the model's own
// checkpoint (model.safetensors, else pytorch_model.bin), no bias, no activation.
class StanfordProjection : public st::RowModule {
 public:
  explicit StanfordProjection(const fs::path& root) {
    const fs::path st = root / "model.safetensors", bin = root / "pytorch_model.bin";
    const bool safetensors = fs::exists(st);
    const TensorFile f = safetensors ? read_safetensors(st.string()) : read_torch_checkpoint(bin.string());
    const std::string file = (safetensors ? st : bin).string();
    ENCORE_CHECK(f.tensors.count("linear.weight"), file, ": a Stanford ColBERT checkpoint holds its projection ",
                 "'linear.weight'; this one has none");
    const Tensor& w = f.tensors.at("linear.weight");
    ENCORE_CHECK(w.shape().size() == 2 && w.shape()[0] > 0 && w.shape()[1] > 0, file, ": 'linear.weight' has shape ",
                 shape_string(w.shape()), ", expected [out, in]");
    out_ = w.shape()[0], in_ = w.shape()[1];
    const Tensor w32 = w.to_f32();
    weight_.assign(w32.data<float>(), w32.data<float>() + w32.numel());
  }
  st::Feature feature() const override { return st::Feature::Tokens; }
  int64_t out_dim(int64_t in) const override {
    ENCORE_CHECK(in == in_, "linear.weight [", out_, ", ", in_, "] receives ", in, "-dimensional states");
    return out_;
  }
  std::vector<float> run(std::vector<float> x, int64_t rows, int64_t in) const override {
    std::vector<float> y(static_cast<size_t>(rows * out_dim(in)));
    kernels::linear(y.data(), x.data(), weight_.data(), nullptr, rows, in_, out_);
    return y;
  }
  std::string describe() const override {
    return "linear.weight(" + std::to_string(in_) + "->" + std::to_string(out_) + ", no bias)";
  }

 private:
  int64_t in_ = 0, out_ = 0;
  std::vector<float> weight_;
};

// artifact.metadata's settings under PyLate's names (ColBERT.__init__ for HF_ColBERT): the
// prefixes default to [unused0] / [unused1]; absent lengths take PyLate's defaults.
json stanford_settings(const fs::path& root) {
  json c = {{"query_prefix", "[unused0]"}, {"document_prefix", "[unused1]"}};
  const fs::path file = root / "artifact.metadata";
  if (!fs::exists(file)) return c;
  const json m = read_json(file);
  ENCORE_CHECK(m.is_object(), file.string(), ": expected a JSON object");
  for (const auto& [from, to] : {std::pair{"query_token_id", "query_prefix"}, {"doc_token_id", "document_prefix"},
                                 {"query_maxlen", "query_length"}, {"doc_maxlen", "document_length"},
                                 {"attend_to_mask_tokens", "attend_to_expansion_tokens"}})
    if (m.contains(from) && !m[from].is_null()) c[to] = m[from];
  return c;
}

int length_setting(const json& c, const char* key, int fallback, const fs::path& file) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  ENCORE_CHECK(c[key].is_number_integer() && c[key].get<int64_t>() > 0 && c[key].get<int64_t>() < (1 << 20),
               file.string(), ": '", key, "' must be a positive integer");
  return c[key].get<int>();
}

}  // namespace

ColBERT ColBERT::load(const std::string& dir, const ColBERTOptions& o) {
  const fs::path root(dir);
  const fs::path modules_file = root / "modules.json";
  const bool stanford = is_stanford(root);
  std::vector<fs::path> dense_dirs;
  if (!stanford) {
    ENCORE_CHECK(fs::exists(modules_file), dir,
                 ": no modules.json; a PyLate ColBERT directory has one (Transformer, Dense), a Stanford ColBERT ",
                 "checkpoint says HF_ColBERT in config.json");
    const json modules = read_json(modules_file);
    ENCORE_CHECK(modules.is_array() && !modules.empty(), modules_file.string(), ": expected a list of modules");
    for (size_t i = 0; i < modules.size(); ++i) {
      const json& m = modules[i];
      ENCORE_CHECK(m.is_object() && m.contains("type") && m["type"].is_string(), modules_file.string(),
                   ": each module needs a \"type\"");
      const std::string type = m["type"].get<std::string>();
      // PyLate's own Dense (pylate.models.Dense.Dense) is sentence-transformers' Dense with
      // use_residual, which st::Dense reads.
      const st::ModuleKind kind =
          type == "pylate.models.Dense.Dense" ? st::ModuleKind::Dense : st::module_kind(type, modules_file.string());
      if (i == 0) {
        ENCORE_CHECK(kind == st::ModuleKind::Transformer && m.value("path", "").empty(), modules_file.string(),
                     ": a ColBERT model starts with its Transformer at the directory's root");
        continue;
      }
      // PyLate keeps only Transformer and Dense modules and drops the rest without a word
      // (ColBERT._load_sbert_model); encore refuses what it would not run.
      ENCORE_CHECK(kind == st::ModuleKind::Dense, modules_file.string(), ": module type '", type,
                   "' is not one a ColBERT model runs (a Transformer, then Dense projections)");
      dense_dirs.push_back(root / m.value("path", ""));
    }
    ENCORE_CHECK(!dense_dirs.empty(), modules_file.string(),
                 ": no Dense projection (PyLate would add a randomly initialized one)");
  }

  bool lower = false;
  if (fs::exists(root / "sentence_bert_config.json"))
    lower = read_object(root / "sentence_bert_config.json").value("do_lower_case", false);
  LoadOptions lo;
  lo.dtype = o.dtype;
  if (stanford) lo.caller_tensors = {"linear.weight"};
  auto impl = std::make_shared<Impl>(Model::load(dir, lo), Tokenizer::from_dir(dir, std::nullopt, [lower](TokenizerConfig& tc) {
    if (lower) tc.lowercase_input();
  }));
  if (stanford) impl->dense.push_back(std::make_shared<StanfordProjection>(root));
  for (const fs::path& d : dense_dirs) impl->dense.push_back(st::load_row_module(st::ModuleKind::Dense, d));
  int64_t width = impl->model.config().hidden;
  std::string chain;
  for (const auto& d : impl->dense) {
    width = d->out_dim(width);
    chain += ", " + d->describe();
  }
  impl->dim = width;

  // config_sentence_transformers.json: PyLate's settings, each with its default when absent.
  // (A Stanford checkpoint: artifact.metadata's, as PyLate maps them.)
  const fs::path cfg_file = root / (stanford ? "artifact.metadata" : "config_sentence_transformers.json");
  const json c = stanford ? stanford_settings(root) : fs::exists(cfg_file) ? read_object(cfg_file) : json::object();
  auto prefix = [&](const char* key, const char* fallback) -> std::optional<int32_t> {
    std::string p = fallback;
    if (c.contains(key) && !c[key].is_null()) {
      ENCORE_CHECK(c[key].is_string(), cfg_file.string(), ": '", key, "' must be a string");
      p = c[key].get<std::string>();
    }
    if (p.empty()) return std::nullopt;
    // PyLate adds a prefix the tokenizer lacks as a new token with a freshly (randomly)
    // initialized embedding; a saved model has it. Without it there is nothing exact to run.
    const std::optional<int32_t> id = impl->tokenizer.token_to_id(p);
    ENCORE_CHECK(id.has_value(), cfg_file.string(), ": the ", key, " '", p, "' is not a token of the tokenizer ",
                 "(PyLate would add it with a randomly initialized embedding)");
    return *id;
  };
  impl->query_prefix = prefix("query_prefix", "[Q] ");
  impl->document_prefix = prefix("document_prefix", "[D] ");
  impl->query_length = o.query_length > 0 ? o.query_length : length_setting(c, "query_length", 32, cfg_file);
  impl->document_length =
      o.document_length > 0 ? o.document_length : length_setting(c, "document_length", 180, cfg_file);
  impl->expansion = c.value("do_query_expansion", true);
  impl->attend_expansion = impl->expansion && c.value("attend_to_expansion_tokens", false);
  std::vector<std::string> skip;
  if (c.contains("skiplist_words") && !c["skiplist_words"].is_null()) {
    ENCORE_CHECK(c["skiplist_words"].is_array(), cfg_file.string(), ": 'skiplist_words' must be a list of strings");
    for (const json& w : c["skiplist_words"]) {
      ENCORE_CHECK(w.is_string(), cfg_file.string(), ": 'skiplist_words' must be a list of strings");
      skip.push_back(w.get<std::string>());
    }
  } else {
    for (char ch : std::string("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) skip.push_back(std::string(1, ch));  // string.punctuation
  }
  for (const std::string& w : skip) impl->skiplist.push_back(token_id(impl->tokenizer, w, cfg_file));
  std::sort(impl->skiplist.begin(), impl->skiplist.end());
  // PyLate pads with [MASK] (pad_token_id = mask_token_id; without a mask token, the end token).
  auto mask = impl->tokenizer.token_to_id(impl->tokenizer.config().mask_token);
  ENCORE_CHECK(mask.has_value() || !impl->expansion, dir, ": query expansion needs a mask token");
  impl->mask_id = mask.value_or(0);
  const int64_t positions = impl->model.config().max_length;
  for (int length : {impl->query_length, impl->document_length}) {
    ENCORE_CHECK(positions == 0 || length <= positions, dir, ": query_length / document_length ", length,
                 " exceeds the model's ", positions, " positions");
    ENCORE_CHECK(length >= 3, dir, ": query_length / document_length ", length, " leaves no room for text");
  }
  impl->batch_size = std::max(1, o.batch_size);
  impl->threads = o.threads;
  impl->description = "ColBERT(query_length " + std::to_string(impl->query_length) + (impl->expansion ? " expanded" : "") +
                      (impl->attend_expansion ? " attended" : "") + ", document_length " +
                      std::to_string(impl->document_length) + chain + ")";
  ColBERT m;
  m.impl_ = std::move(impl);
  return m;
}

ColBERT::Input ColBERT::prepare(const std::string& text, bool is_query) const {
  const Impl& m = *impl_;
  const std::optional<int32_t> prefix = is_query ? m.query_prefix : m.document_prefix;
  const size_t L = static_cast<size_t>(is_query ? m.query_length : m.document_length);
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = prefix ? L - 1 : L;
  Input in;
  in.is_query = is_query;
  in.ids = m.tokenizer.encode(tok::py_strip(text), enc).ids;
  in.attended = in.ids.size() + (prefix ? 1 : 0);
  if (is_query && m.expansion) {
    in.ids.resize(enc.truncation.max_length, m.mask_id);
    if (m.attend_expansion) in.attended = enc.truncation.max_length + (prefix ? 1 : 0);
  }
  if (prefix) in.ids.insert(in.ids.begin() + std::min<size_t>(1, in.ids.size()), *prefix);
  return in;
}

std::vector<MultiVector> ColBERT::run(const std::vector<Input>& inputs) const {
  const Impl& m = *impl_;
  const ThreadScope threads(m.threads);
  const int64_t H = m.model.config().hidden;
  std::vector<MultiVector> out(inputs.size());
  // The projections on each input's own rows (a GEMM's rounding may depend on its row count,
  // and a text's vectors must not depend on the rest of the batch), then its kept rows,
  // normalized. `states` holds the hidden states of the inputs of `group`, in order.
  auto finish = [&](const std::vector<size_t>& group, const float* states) {
    for (size_t i : group) {
      const Input& in = inputs[i];
      const int64_t n = static_cast<int64_t>(in.ids.size());
      std::vector<float> x(states, states + n * H);
      states += n * H;
      int64_t width = H;
      for (const auto& d : m.dense) {
        const int64_t next = d->out_dim(width);
        x = d->run(std::move(x), n, width);
        width = next;
      }
      MultiVector& v = out[i];
      v.dim = width;
      for (int64_t p = 0; p < n; ++p) {
        // Queries keep every position (a query without expansion has no padding here);
        // documents drop the skip-list's tokens.
        const int32_t id = in.ids[static_cast<size_t>(p)];
        if (!in.is_query && std::binary_search(m.skiplist.begin(), m.skiplist.end(), id)) continue;
        v.values.insert(v.values.end(), x.data() + p * width, x.data() + (p + 1) * width);
        v.token_ids.push_back(id);
        ++v.rows;
      }
      st::normalize_rows(v.values.data(), v.rows, v.dim);
    }
  };
  // Inputs with positions no token attends to (a query's [MASK] expansion without
  // attend_to_expansion_tokens) need a key mask: forward() with a [1, S, S] attention mask,
  // as the reference's extended mask. Everything else is a plain ragged batch.
  std::vector<size_t> ragged, masked;
  for (size_t i = 0; i < inputs.size(); ++i) (inputs[i].attended < inputs[i].ids.size() ? masked : ragged).push_back(i);
  if (!ragged.empty()) {
    TokenBatch batch;
    for (size_t i : ragged) batch.ids.push_back(inputs[i].ids);
    const Encoded e = m.model.encode(batch);
    finish(ragged, e.states.data<float>());
  }
  // One forward per such query: a padded batch's GEMMs may round differently with its row
  // count, and a text's vectors must not depend on what else is in the batch.
  for (size_t i : masked) {
    const Input& in = inputs[i];
    const int64_t S = static_cast<int64_t>(in.ids.size());
    TensorMap t;
    t["input_ids"] = Tensor::zeros(DType::I64, {1, S});
    t["attention_mask"] = Tensor::zeros(DType::I64, {1, S, S});
    if (m.model.config().type_vocab_size > 0) t["token_type_ids"] = Tensor::zeros(DType::I64, {1, S});
    for (int64_t s = 0; s < S; ++s) {
      t["input_ids"].data<int64_t>()[s] = in.ids[static_cast<size_t>(s)];
      for (size_t k = 0; k < in.attended; ++k)  // every position sees the attended keys
        t["attention_mask"].data<int64_t>()[s * S + static_cast<int64_t>(k)] = 1;
    }
    const Tensor h = m.model.forward(t).at("last_hidden_state");
    finish({i}, h.data<float>());
  }
  return out;
}

std::vector<MultiVector> ColBERT::encode(const std::vector<std::string>& texts, bool is_query) const {
  std::vector<MultiVector> out(texts.size());
  std::vector<Input> inputs;
  std::vector<size_t> which;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      inputs.push_back(prepare(texts[i], is_query));
      which.push_back(i);
    } catch (const Error& e) {
      out[i].error = e.what();
    }
  }
  const size_t step = static_cast<size_t>(impl_->batch_size);
  for (size_t start = 0; start < inputs.size(); start += step) {
    const size_t end = std::min(inputs.size(), start + step);
    std::vector<MultiVector> done = run(std::vector<Input>(inputs.begin() + static_cast<std::ptrdiff_t>(start),
                                                           inputs.begin() + static_cast<std::ptrdiff_t>(end)));
    for (size_t k = start; k < end; ++k) out[which[k]] = std::move(done[k - start]);
  }
  return out;
}

bool ColBERT::is_colbert_directory(const std::string& dir) {
  const fs::path root(dir);
  return is_stanford(root) || is_pylate(root);
}

int64_t ColBERT::dimensions() const { return impl_->dim; }
int ColBERT::query_length() const { return impl_->query_length; }
int ColBERT::document_length() const { return impl_->document_length; }
std::string ColBERT::describe() const { return impl_->description; }
const Tokenizer& ColBERT::tokenizer() const { return impl_->tokenizer; }
const Model& ColBERT::model() const { return impl_->model; }

}  // namespace encore
