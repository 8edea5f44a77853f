// Model directories: detection, config parsing and placing named weights into the layer
// structs through the dialect's name map. Every tensor's shape is checked against the
// config before use; errors name the file and the tensor.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include "core/convert.h"
#include "encore/safetensors.h"
#include "models/dialects.h"
#include "models/model_impl.h"
#include "models/json_file.h"
#include "models/weight_binder.h"
#include "models/heads.h"
#include "models/weight_source.h"

namespace encore {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed config lookups with defaults and range checks.
struct ConfigReader {
  const json& j;
  std::string file;
  int64_t integer(const char* key, std::optional<int64_t> fallback, int64_t min_value = 1) const {
    if (!j.contains(key) || j[key].is_null()) {
      ENCORE_CHECK(fallback.has_value(), file, ": missing required key '", key, "'");
      return *fallback;
    }
    ENCORE_CHECK(j[key].is_number_integer(), file, ": '", key, "' must be an integer");
    int64_t v = j[key].get<int64_t>();
    ENCORE_CHECK(v >= min_value && v <= (int64_t{1} << 31), file, ": '", key, "' = ", v, " is out of range");
    return v;
  }
  double number(const char* key, double fallback) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    ENCORE_CHECK(j[key].is_number(), file, ": '", key, "' must be a number");
    return j[key].get<double>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    ENCORE_CHECK(j[key].is_string(), file, ": '", key, "' must be a string");
    return j[key].get<std::string>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    ENCORE_CHECK(j[key].is_boolean(), file, ": '", key, "' must be true or false");
    return j[key].get<bool>();
  }
};

float probability(const ConfigReader& r, const char* key, double fallback) {
  double p = r.number(key, fallback);
  ENCORE_CHECK(p >= 0.0 && p <= 1.0, r.file, ": '", key, "' = ", p, " is not a probability");
  return static_cast<float>(p);
}

Activation config_activation(const ConfigReader& r, const std::string& name) {
  try {
    return activation_from_name(name);
  } catch (const Error& e) {
    fail(r.file, ": ", e.what());
  }
}

ModelConfig parse_bert_config(const fs::path& path, Dialect dialect) {
  json j = read_json(path);
  ENCORE_CHECK(j.is_object(), path.string(), ": expected a JSON object");
  ConfigReader r{j, path.string()};
  // Written by `encore convert --encoder-only` from a PyTorch encoder, which has no embeddings.
  ENCORE_CHECK(!r.boolean("encore_encoder_only", false), path.string(),
               ": encoder layers only (encore convert --encoder-only), no embeddings: not a model that loads");
  ModelConfig c;
  c.dialect = dialect;
  if (dialect == Dialect::BertHF) {
    std::string type = r.string("model_type", "bert");
    ENCORE_CHECK(type == "bert", path.string(), ": model_type '", type, "' is not a BERT model");
  }
  c.vocab_size = r.integer("vocab_size", dialect == Dialect::BertHF ? std::optional<int64_t>(30522) : std::nullopt);
  c.hidden = r.integer("hidden_size", dialect == Dialect::BertHF ? std::optional<int64_t>(768) : std::nullopt);
  c.layers = r.integer("num_hidden_layers", dialect == Dialect::BertHF ? std::optional<int64_t>(12) : std::nullopt, 0);
  c.heads = r.integer("num_attention_heads", dialect == Dialect::BertHF ? std::optional<int64_t>(12) : std::nullopt);
  c.intermediate = r.integer("intermediate_size", dialect == Dialect::BertHF ? std::optional<int64_t>(3072) : std::nullopt);
  c.max_positions = r.integer("max_position_embeddings", 512);
  c.type_vocab_size = r.integer("type_vocab_size", dialect == Dialect::BertHF ? 2 : 16);
  ENCORE_CHECK(c.hidden % c.heads == 0, path.string(), ": hidden_size ", c.hidden,
               " is not a multiple of num_attention_heads ", c.heads);
  c.layer = default_spec(dialect);
  std::string act = r.string("hidden_act", "gelu");
  if (dialect == Dialect::BertGoogle) {
    // modeling.py get_activation(): "gelu" is its tanh approximation; "relu"; "linear" unsupported.
    ENCORE_CHECK(act == "gelu" || act == "relu", path.string(), ": hidden_act '", act,
                 "' is not supported for Google BERT (gelu, relu)");
    if (act == "relu")
      c.layer.feed_forward.activation = Activation::Relu, c.layer.feed_forward.activation_label = "relu";
  } else {
    c.layer.feed_forward.activation = config_activation(r, act);
    c.layer.feed_forward.activation_label = act;
  }
  c.layer.layer_norm_eps = static_cast<float>(r.number("layer_norm_eps", 1e-12));
  c.layer.hidden_dropout = probability(r, "hidden_dropout_prob", 0.1);
  c.layer.attention.dropout = probability(r, "attention_probs_dropout_prob", 0.1);
  c.embedding_dropout = c.layer.hidden_dropout;
  std::string pos = dialect == Dialect::BertHF ? r.string("position_embedding_type", "absolute") : "absolute";
  if (pos == "relative_key")
    c.layer.attention.relative = RelativePositions::Key;
  else if (pos == "relative_key_query")
    c.layer.attention.relative = RelativePositions::KeyQuery;
  else ENCORE_CHECK(pos == "absolute", path.string(), ": unknown position_embedding_type '", pos, "'");
  c.absolute_positions = pos == "absolute";
  c.layer.attention.max_relative = static_cast<int>(c.max_positions);
  return c;
}

ModelConfig parse_torch_sidecar(const fs::path& path) {
  json j = read_json(path);
  ENCORE_CHECK(j.is_object(), path.string(), ": expected a JSON object");
  ConfigReader r{j, path.string()};
  std::string format = r.string("encore_format", "");
  ENCORE_CHECK(format == "torch.nn.TransformerEncoder", path.string(),
               ": encore_format must be \"torch.nn.TransformerEncoder\"");
  ModelConfig c;
  c.dialect = Dialect::Torch;
  c.layers = r.integer("num_layers", std::nullopt, 0);
  c.hidden = r.integer("d_model", std::nullopt);
  c.heads = r.integer("nhead", std::nullopt);
  c.intermediate = r.integer("dim_feedforward", 2048);
  ENCORE_CHECK(c.hidden % c.heads == 0, path.string(), ": d_model ", c.hidden, " is not a multiple of nhead ",
               c.heads);
  c.layer = default_spec(Dialect::Torch);
  std::string act = r.string("activation", "relu");
  ENCORE_CHECK(act == "relu" || act == "gelu", path.string(), ": activation '", act,
               "' is not supported (relu or gelu)");
  c.layer.feed_forward.activation = act == "relu" ? Activation::Relu : Activation::GeluErf;
  c.layer.feed_forward.activation_label = act;
  c.layer.layer_norm_eps = static_cast<float>(r.number("layer_norm_eps", 1e-5));
  c.layer.norm_first = r.boolean("norm_first", false);
  c.layer.bias = r.boolean("bias", true);
  float p = probability(r, "dropout", 0.1);
  c.layer.attention.dropout = c.layer.hidden_dropout = c.layer.feed_forward.dropout = p;
  c.batch_first = r.boolean("batch_first", false);
  c.final_norm = r.boolean("final_norm", false);
  return c;
}

// Concatenates the [H] Q, K, V biases into one [3H] tensor (the weights are packed from
// their three blocks directly).
Tensor stack3(const Tensor& a, const Tensor& b, const Tensor& c) {
  Shape s = a.shape();
  s[0] *= 3;
  Tensor out = Tensor::zeros(DType::F32, s);
  float* d = out.data<float>();
  for (const Tensor* t : {&a, &b, &c}) {
    std::copy(t->data<float>(), t->data<float>() + t->numel(), d);
    d += t->numel();
  }
  return out;
}

Dialect detect_dialect(const fs::path& dir) {
  if (fs::exists(dir / "transformer_encoder.json")) return Dialect::Torch;
  if (fs::exists(dir / "config.json")) return Dialect::BertHF;
  if (fs::exists(dir / "bert_config.json")) return Dialect::BertGoogle;
  fail(dir.string(), ": not a model directory (no config.json, bert_config.json or transformer_encoder.json)");
}

}  // namespace

std::shared_ptr<Model::Impl> load_model(const std::string& dir_name, const LoadOptions& options) {
  fs::path dir(dir_name);
  ENCORE_CHECK(fs::is_directory(dir), dir_name, ": not a directory");
  auto m = std::make_shared<Model::Impl>();
  m->dir = dir_name;
  m->options = options;
  Dialect dialect = options.dialect ? *options.dialect : detect_dialect(dir);
  ModelConfig& c = m->config;
  switch (dialect) {
    case Dialect::BertHF: c = parse_bert_config(dir / "config.json", dialect); break;
    case Dialect::BertGoogle: c = parse_bert_config(dir / "bert_config.json", dialect); break;
    case Dialect::Torch: c = parse_torch_sidecar(dir / "transformer_encoder.json"); break;
  }
  if (!options.activation.empty()) {
    c.layer.feed_forward.activation = activation_from_name(options.activation);
    c.layer.feed_forward.activation_label = options.activation + " (override)";
  }

  WeightSource src(dir);
  m->weights_description = src.description();
  const WeightNames& n = weight_names(dialect);
  WeightBinder w(src, n, dir_name);
  const int64_t H = c.hidden, I = c.intermediate, d = H / c.heads;
  const bool bias = c.layer.bias;

  if (dialect != Dialect::Torch) {
    m->word_embeddings = w.get(n.word, 0, {c.vocab_size, H});
    if (c.absolute_positions) m->position_embeddings = w.get(n.position, 0, {c.max_positions, H});
    m->token_type_embeddings = w.get(n.token_type, 0, {c.type_vocab_size, H});
    m->embedding_norm = {w.get(n.emb_gamma, 0, {H}), w.get(n.emb_beta, 0, {H})};
    c.has_pooler = w.has(n.pooler_w, 0);
    if (c.has_pooler) m->pooler = {w.linear_weight(n.pooler_w, 0, H, H), w.get(n.pooler_b, 0, {H})};
  }
  // The encoder Linears: looked up and checked here, packed below.
  struct Pending {
    nn::Linear* linear;
    std::vector<WeightBinder::StoredLinear> blocks;  // row blocks of [out, in] (Q, K, V: three)
    int64_t rows, in;
  };
  std::vector<Pending> pending;
  m->layers.resize(static_cast<size_t>(c.layers));  // stable addresses for `pending`
  using Names = std::initializer_list<const std::string*>;
  auto linear = [&](nn::Linear& l, Names weights, Names biases, int64_t rows, int64_t in, int64_t i) {
    Pending p{&l, {}, rows, in};
    for (const std::string* name : weights) p.blocks.push_back(w.linear_stored(*name, i, rows, in));
    if (biases.size() == 1) l.bias = w.get(**biases.begin(), i, {rows});
    if (biases.size() == 3) {
      auto b = biases.begin();
      l.bias = stack3(w.get(*b[0], i, {rows}), w.get(*b[1], i, {rows}), w.get(*b[2], i, {rows}));
    }
    pending.push_back(std::move(p));
  };
  for (int64_t i = 0; i < c.layers; ++i) {
    nn::EncoderLayerWeights& L = m->layers[static_cast<size_t>(i)];
    if (!n.qkv_w.empty())
      linear(L.attention.qkv, {&n.qkv_w}, bias ? Names{&n.qkv_b} : Names{}, 3 * H, H, i);
    else
      linear(L.attention.qkv, {&n.q_w, &n.k_w, &n.v_w}, {&n.q_b, &n.k_b, &n.v_b}, H, H, i);
    linear(L.attention.out, {&n.out_w}, bias ? Names{&n.out_b} : Names{}, H, H, i);
    L.ln1.gamma = w.get(n.ln1_g, i, {H});
    linear(L.feed_forward.in, {&n.ffn_in_w}, bias ? Names{&n.ffn_in_b} : Names{}, I, H, i);
    linear(L.feed_forward.out, {&n.ffn_out_w}, bias ? Names{&n.ffn_out_b} : Names{}, H, I, i);
    L.ln2.gamma = w.get(n.ln2_g, i, {H});
    if (bias) {
      L.ln1.beta = w.get(n.ln1_b, i, {H});
      L.ln2.beta = w.get(n.ln2_b, i, {H});
    }
    if (c.layer.attention.relative != RelativePositions::None)
      L.attention.distance = w.get(n.distance, i, {2 * c.max_positions - 1, d});
  }
  // Pack every Linear straight from its stored tensors (Q, K and V as three row blocks,
  // Google kernels [in, out] as stored: no stacked or transposed copy; F16 / BF16 through
  // one F32 copy each), then let go of them: their file pages leave memory, so that the
  // packed copy is the only one resident (nn::dense_weight gets the values back). One
  // parallel loop over the Linears, each packed by one thread: a single barrier, not one per
  // reorder (barriers are what a loaded machine makes slow).
  std::exception_ptr failed;
  const int64_t count = static_cast<int64_t>(pending.size());
  const ComputeType packed_type = options.dtype == ComputeType::Int8 ? ComputeType::F32 : options.dtype;
#pragma omp parallel
  {
  std::vector<float> converted;  // this thread's F16 / BF16 / F64 blocks as F32, reused
#pragma omp for schedule(dynamic, 1)
  for (int64_t k = 0; k < count; ++k) {
    try {
      Pending& p = pending[static_cast<size_t>(k)];
      converted.resize(std::max(converted.size(), static_cast<size_t>(p.rows * p.in) * p.blocks.size()));
      std::vector<kernels::PackedLinear::Rows> blocks;
      for (const auto& b : p.blocks) {
        const Tensor& t = b.stored.tensor;
        src.populate(b.stored.key);
        const float* data = t.dtype() == DType::F32 ? t.data<float>() : nullptr;
        if (!data) {
          float* into = converted.data() + static_cast<size_t>(p.rows * p.in) * blocks.size();
          to_f32_into(t, into);
          data = into;
        }
        blocks.push_back({data, p.rows, b.in_out});
      }
      const nn::Linear& l = *p.linear;
      p.linear->packed = std::make_shared<kernels::PackedLinear>(
          blocks, l.bias.defined() ? l.bias.data<float>() : nullptr, p.in, packed_type);
      for (const auto& b : p.blocks) src.release(b.stored.key);
    } catch (...) {
#pragma omp critical(encore_load_error)
      if (!failed) failed = std::current_exception();
    }
  }
  }
  if (failed) std::rethrow_exception(failed);
  if (dialect == Dialect::Torch && c.final_norm) {
    m->final_norm.gamma = w.get(n.final_g, 0, {H});
    if (bias) m->final_norm.beta = w.get(n.final_b, 0, {H});
  }
  // Task heads: names without the encoder's "bert." prefix, so a binder of their own.
  WeightNames head_names;
  head_names.kernels_in_out = n.kernels_in_out;
  WeightBinder hw(src, head_names, dir_name);
  if (dialect != Dialect::Torch)
    c.head = load_heads(dialect == Dialect::BertHF ? dir / "config.json" : fs::path(), c, m->word_embeddings, hw,
                        m->heads);
  m->parameters = w.parameters() + hw.parameters();
  // Int8: the layers were packed as F32 above; find the outlier channels that stay in
  // float32 by running that model once (src/models/calibrate.cc), then quantize each Linear
  // from its exact F32 weights (reordered back from the packed copy).
  if (options.dtype == ComputeType::Int8) {
    const OutlierChannels outliers = int8_outlier_channels(*m);
    for (size_t i = 0; i < m->layers.size(); ++i) {
      nn::EncoderLayerWeights& L = m->layers[i];
      nn::Linear* gemms[nn::kGemmSites] = {&L.attention.qkv, &L.attention.out, &L.feed_forward.in,
                                           &L.feed_forward.out};  // GemmSite order
      for (int s = 0; s < nn::kGemmSites; ++s) {
        nn::Linear& l = *gemms[s];
        const Tensor dense = nn::dense_weight(l);
        l.packed = std::make_shared<kernels::PackedLinear>(dense.data<float>(),
                                                           l.bias.defined() ? l.bias.data<float>() : nullptr, l.out(),
                                                           l.in(), ComputeType::Int8, outliers[i][static_cast<size_t>(s)]);
      }
    }
  }

  // Tensors the model does not use: buffers and task heads are expected; anything else is
  // worth a warning (a wrong dialect or a truncated config).
  std::vector<std::string> unused;
  const std::vector<std::string> head_unused = hw.unused();
  const std::set<std::string> unused_by_heads(head_unused.begin(), head_unused.end());
  for (const auto& name : w.unused()) {
    if (!unused_by_heads.count(name)) continue;  // a head weight
    bool known = name.find("position_ids") != std::string::npos || name.rfind("cls.", 0) == 0 ||
                 name.rfind("classifier.", 0) == 0 || name.rfind("qa_outputs.", 0) == 0 ||
                 name.rfind("cls/", 0) == 0 || name.rfind("output_", 0) == 0;
    if (!known) unused.push_back(name);
  }
  if (!unused.empty()) {
    std::cerr << "encore: warning: " << dir_name << ": " << unused.size() << " unused tensor(s), e.g. '"
              << unused.front() << "'\n";
  }
#ifdef __GLIBC__
  // Converted (F16, BF16) copies freed after packing: glibc keeps freed heap memory for reuse
  // unless asked; give it back so that the model's RSS is its weights.
  malloc_trim(0);
#endif
  return m;
}

}  // namespace encore
