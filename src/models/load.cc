// Model directories: the record (detected, or named by LoadOptions::dialect), its config,
// and the weights placed through the record's names into the embeddings, the layer plan and
// the heads. Every tensor's shape is checked against the config before use; errors name the
// file and the tensor.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include "core/convert.h"
#include "kernels/kernels.h"
#include "kernels/linear.h"
#include "models/architecture.h"
#include "models/heads.h"
#include "models/json_file.h"
#include "models/model_impl.h"
#include "models/weight_binder.h"
#include "models/weight_source.h"

namespace encore {

namespace fs = std::filesystem;

namespace {

// The config file as the record reads it: the ModelConfig, the layer plan, and the names and
// heads this config has.
struct ReadConfig {
  ModelConfig config;
  LayerPlan plan;
  BodyNames names;
  std::vector<HeadSpec> heads;
};

ReadConfig read_config(const Architecture& arch, const fs::path& dir, const LoadOptions& options) {
  const fs::path path = dir / arch.config_file;
  const nlohmann::json j = read_json(path);
  ENCORE_CHECK(j.is_object(), path.string(), ": expected a JSON object");
  const ConfigReader r{j, path.string()};
  if (!arch.model_types.empty()) {  // a record named by --dialect still has to claim the config
    const std::string type = r.string("model_type", "");
    ENCORE_CHECK(std::find(arch.model_types.begin(), arch.model_types.end(), type) != arch.model_types.end(),
                 path.string(), ": model_type '", type, "' is not a ", arch.name, " model");
  }
  ModelConfig c = arch.parse_config(r);
  c.dialect = arch.dialect();
  if (!options.activation.empty()) {
    c.layer.feed_forward.activation = activation_from_name(options.activation);
    c.layer.feed_forward.activation_label = options.activation + " (override)";
  }
  LayerPlan plan = arch.plan ? arch.plan(r, c) : one_layer_per_depth(c.layers);
  if (plan.specs.empty()) plan.specs = {c.layer};
  BodyNames names = arch.names;
  std::vector<HeadSpec> heads = arch.heads;
  if (arch.configure) arch.configure(r, names, heads);
  return {std::move(c), std::move(plan), std::move(names), std::move(heads)};
}

void bind_embeddings(Model::Impl& m, const BodyNames& n, WeightBinder& w) {
  ModelConfig& c = m.config;
  const int64_t E = c.embedding_size, H = c.hidden;
  Embeddings& e = m.embeddings;
  e.word = w.get(n.word, {c.vocab_size, E});
  if (c.absolute_positions) e.position = w.get(n.position, {c.max_positions, E});
  if (c.type_vocab_size > 0) e.token_type = w.get(n.token_type, {c.type_vocab_size, E});
  const int64_t norm_width = c.embedding_norm_after_projection ? H : E;
  e.norm.gamma = w.get(n.embedding_norm.gamma, {norm_width});
  if (!n.embedding_norm.beta.empty()) e.norm.beta = w.get(n.embedding_norm.beta, {norm_width});
  if (!n.embedding_projection.empty() && w.has(n.embedding_projection.weight))
    e.projection = w.linear(n.embedding_projection, "", H, E);
  ENCORE_CHECK(e.projection.defined() || E == H, m.dir, ": embedding_size ", E, " differs from hidden_size ", H,
               " but the checkpoint has no '", w.prefix() + n.embedding_projection.weight, "'");
  c.has_pooler = !n.pooler.empty() && w.has(n.pooler.weight);
  if (c.has_pooler) m.pooler = w.linear(n.pooler, "", H, H);
}

// A Linear looked up and checked at bind time, packed later (in parallel).
struct Pending {
  nn::Linear* linear;
  std::vector<WeightBinder::StoredLinear> blocks;  // row blocks of [out, in] (Q, K, V: three)
  int64_t rows, in;
  int64_t first_row = 0;  // where the rows start in each stored block (a half of ModernBERT's Wi)
};

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

// The Linears and norms of the stored layers, through the record's names with each layer's key.
std::vector<Pending> bind_layers(Model::Impl& m, const BodyNames& n, const LayerPlan& plan, WeightBinder& w) {
  const ModelConfig& c = m.config;
  const int64_t H = c.hidden, I = c.intermediate, d = H / c.heads;
  const bool bias = c.layer.bias;
  std::vector<Pending> pending;
  m.layers.resize(plan.weight_keys.size());  // stable addresses for `pending`
  // Whether each stored layer has its attention LayerNorm (not when a pre-norm spec reads x as is).
  std::vector<bool> attention_norm(plan.weight_keys.size(), true);
  for (const PlanStep& s : plan.steps)
    attention_norm[static_cast<size_t>(s.step.weights)] = plan.specs[static_cast<size_t>(s.spec)].attention_norm;
  auto linear = [&](nn::Linear& l, std::initializer_list<const LinearNames*> parts, int64_t rows, int64_t in,
                    const std::string& key) {
    Pending p{&l, {}, rows, in};  // `rows` per block
    std::vector<Tensor> biases;
    for (const LinearNames* part : parts) {
      p.blocks.push_back(w.linear_stored(expand(part->weight, key), part->in_out, rows, in));
      if (bias && !part->bias.empty()) biases.push_back(w.get(expand(part->bias, key), {rows}));
    }
    if (biases.size() == 1) l.bias = biases[0];
    if (biases.size() == 3) l.bias = stack3(biases[0], biases[1], biases[2]);
    pending.push_back(std::move(p));
  };
  for (size_t i = 0; i < plan.weight_keys.size(); ++i) {
    const std::string& key = plan.weight_keys[i];
    nn::EncoderLayerWeights& L = m.layers[i];
    if (!n.qkv.empty())
      linear(L.attention.qkv, {&n.qkv}, 3 * H, H, key);
    else
      linear(L.attention.qkv, {&n.query, &n.key, &n.value}, H, H, key);
    linear(L.attention.out, {&n.attention_out}, H, H, key);
    const bool gated = plan.specs.front().feed_forward.kind == FeedForwardKind::Glu;
    if (gated && n.ffn_gate.weight.empty()) {
      // [a; g] stored as one [2I, H] weight (and [2I] bias): two Linears over its halves.
      linear(L.feed_forward.in, {&n.ffn_in}, 2 * I, H, key);
      Pending whole = pending.back();
      pending.back().rows = I;
      Pending gate = whole;
      gate.linear = &L.feed_forward.gate, gate.rows = I, gate.first_row = I;
      ENCORE_CHECK(!whole.blocks.front().in_out, m.dir, ": a gated weight stored [in, out] is not supported");
      pending.push_back(gate);
      if (L.feed_forward.in.bias.defined()) {
        const Tensor b = L.feed_forward.in.bias;
        L.feed_forward.in.bias = Tensor::empty(DType::F32, {I});
        L.feed_forward.gate.bias = Tensor::empty(DType::F32, {I});
        std::copy(b.data<float>(), b.data<float>() + I, L.feed_forward.in.bias.data<float>());
        std::copy(b.data<float>() + I, b.data<float>() + 2 * I, L.feed_forward.gate.bias.data<float>());
      }
    } else {
      linear(L.feed_forward.in, {&n.ffn_in}, I, H, key);
      if (gated) linear(L.feed_forward.gate, {&n.ffn_gate}, I, H, key);
    }
    linear(L.feed_forward.out, {&n.ffn_out}, H, I, key);
    auto norm = [&](nn::LayerNorm& ln, const NormNames& names) {
      ln.gamma = w.get(expand(names.gamma, key), {H});
      if (bias && !names.beta.empty()) ln.beta = w.get(expand(names.beta, key), {H});
    };
    if (attention_norm[i]) norm(L.ln1, n.attention_norm);
    norm(L.ln2, n.ffn_norm);
    const RelativePositions rel = c.layer.attention.relative;
    if (rel == RelativePositions::Key || rel == RelativePositions::KeyQuery)
      L.attention.distance = w.get(expand(n.distance, key), {2 * c.max_positions - 1, d});
  }
  return pending;
}

// Packs every Linear straight from its stored tensors (Q, K and V as three row blocks,
// Google kernels [in, out] as stored: no stacked or transposed copy; F16 / BF16 through one
// F32 copy each), then lets go of them: their file pages leave memory, so that the packed
// copy is the only one resident (nn::dense_weight gets the values back). One parallel loop
// over the Linears, each packed by one thread: a single barrier, not one per reorder
// (barriers are what a loaded machine makes slow).
void pack_all(std::vector<Pending>& pending, const WeightSource& src, ComputeType dtype) {
  std::exception_ptr failed;
  const int64_t count = static_cast<int64_t>(pending.size());
  const ComputeType packed_type = dtype == ComputeType::Int8 ? ComputeType::F32 : dtype;
#pragma omp parallel
  {
    std::vector<float> converted;  // this thread's F16 / BF16 / F64 blocks as F32, reused
#pragma omp for schedule(dynamic, 1)
    for (int64_t k = 0; k < count; ++k) {
      try {
        Pending& p = pending[static_cast<size_t>(k)];
        size_t stored_floats = 0;
        for (const auto& b : p.blocks) stored_floats += static_cast<size_t>(b.stored.tensor.numel());
        converted.resize(std::max(converted.size(), stored_floats));
        std::vector<kernels::PackedLinear::Rows> blocks;
        size_t used = 0;
        for (const auto& b : p.blocks) {
          const Tensor& t = b.stored.tensor;
          src.populate(b.stored.key);
          const float* data = t.dtype() == DType::F32 ? t.data<float>() : nullptr;
          if (!data) {
            float* into = converted.data() + used;
            to_f32_into(t, into);
            used += static_cast<size_t>(t.numel());
            data = into;
          }
          blocks.push_back({data + p.first_row * p.in, p.rows, b.in_out});
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
}

// DeBERTa-v2's disentangled attention: the shared relative embeddings (after their LayerNorm,
// norm_rel_ebd "layer_norm": constant, so normalized once here) projected by each layer's query
// and key Linears (share_att_key: the packed Q and K rows of its QKV projection, bias included)
// or by its own pos_query_proj / pos_key_proj.
void bind_disentangled(Model::Impl& m, const BodyNames& n, const LayerPlan& plan, WeightBinder& w) {
  const ModelConfig& c = m.config;
  const AttentionSpec& a = c.layer.attention;
  const int64_t H = c.hidden, span = a.position_buckets > 0 ? a.position_buckets : a.max_relative, R = 2 * span;
  Tensor rel = w.get(n.relative_embeddings, {R, H});
  if (!n.relative_embeddings_norm.empty()) {
    nn::LayerNorm norm{w.get(n.relative_embeddings_norm.gamma, {H}), w.get(n.relative_embeddings_norm.beta, {H})};
    Tensor normed = Tensor::empty(DType::F32, {R, H});
    nn::layer_norm(normed.data<float>(), rel.data<float>(), norm, R, H, c.layer.layer_norm_eps);
    rel = normed;
  }
  const bool shared = n.pos_key.empty() && n.pos_query.empty();
  for (size_t i = 0; i < plan.weight_keys.size(); ++i) {
    nn::AttentionWeights& L = m.layers[i].attention;
    const std::string& key = plan.weight_keys[i];
    if (shared) {
      Tensor qkv = Tensor::empty(DType::F32, {R, 3 * H});
      kernels::linear_forward(qkv.data<float>(), rel.data<float>(), nn::gemm_ref(L.qkv), R);
      for (auto [t, at] : {std::pair{&L.pos_query, int64_t{0}}, std::pair{&L.pos_key, H}}) {
        *t = Tensor::empty(DType::F32, {R, H});
        for (int64_t r = 0; r < R; ++r)
          std::copy(qkv.data<float>() + r * 3 * H + at, qkv.data<float>() + r * 3 * H + at + H, t->data<float>() + r * H);
      }
      continue;
    }
    for (auto [t, names, used] : {std::tuple{&L.pos_key, &n.pos_key, a.c2p}, std::tuple{&L.pos_query, &n.pos_query, a.p2c}}) {
      if (!used) continue;
      const nn::Linear proj = w.linear({expand(names->weight, key), expand(names->bias, key)}, "", H, H);
      *t = Tensor::empty(DType::F32, {R, H});
      kernels::linear(t->data<float>(), rel.data<float>(), proj.weight.data<float>(), nn::data_or_null(proj.bias), R, H,
                      H);
    }
  }
}

// DeBERTa-v2's ConvLayer: the Conv1d weight [out, in, k] as [out, k * in] (tap-major, for
// conv_layer's one GEMM), its bias and LayerNorm.
void bind_conv(Model::Impl& m, const BodyNames& n, WeightBinder& w) {
  const int64_t H = m.config.hidden, k = m.config.conv_kernel;
  const Tensor weight = w.get(n.conv.weight, {H, H, k});  // Conv1d [out, in, k]
  m.conv_weight = Tensor::empty(DType::F32, {H, k * H});
  for (int64_t o = 0; o < H; ++o)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t t = 0; t < k; ++t)
        m.conv_weight.data<float>()[o * k * H + t * H + i] = weight.data<float>()[(o * H + i) * k + t];
  m.conv_bias = w.get(n.conv.bias, {H});
  m.conv_norm = {w.get(n.conv_norm.gamma, {H}), w.get(n.conv_norm.beta, {H})};
}

// Int8: the layers were packed as F32; find the outlier channels that stay in float32 by
// running that model once (src/models/calibrate.cc), then quantize each Linear from its exact
// F32 weights (reordered back from the packed copy).
void quantize_int8(Model::Impl& m) {
  const OutlierChannels outliers = int8_outlier_channels(m);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    nn::EncoderLayerWeights& L = m.layers[i];
    // A gated feed-forward's gate reads FfnIn's input, so it keeps FfnIn's channels.
    using nn::GemmSite;
    const std::pair<nn::Linear*, GemmSite> gemms[] = {{&L.attention.qkv, GemmSite::Qkv},
                                                      {&L.attention.out, GemmSite::AttnOut},
                                                      {&L.feed_forward.in, GemmSite::FfnIn},
                                                      {&L.feed_forward.gate, GemmSite::FfnIn},
                                                      {&L.feed_forward.out, GemmSite::FfnOut}};
    for (const auto& [linear, site] : gemms) {
      if (!linear->defined()) continue;
      nn::Linear& l = *linear;
      const Tensor dense = nn::dense_weight(l);
      l.packed = std::make_shared<kernels::PackedLinear>(
          dense.data<float>(), l.bias.defined() ? l.bias.data<float>() : nullptr, l.in(), l.out(), ComputeType::Int8,
          outliers[i][static_cast<size_t>(site)]);
    }
  }
}

// Tensors the model does not use: buffers and the record's other heads are expected;
// anything else is worth a warning (a wrong dialect or a truncated config).
void warn_unused(const std::vector<HeadSpec>& specs, const WeightBinder& body, const WeightBinder& heads,
                 const std::string& dir, const std::vector<std::string>& caller_tensors) {
  std::set<std::string> head_names;
  for (const HeadSpec& h : specs)
    for (const auto* part : {&h.token, &h.sequence})
      if (*part)
        for (const std::string* n :
             {&(*part)->dense.weight, &(*part)->dense.bias, &(*part)->norm.gamma, &(*part)->norm.beta,
              &(*part)->out.weight, &(*part)->out.bias, &(*part)->out_bias_copy})
          if (!n->empty()) head_names.insert(*n);
  const std::vector<std::string> head_unused = heads.unused();
  const std::set<std::string> unused_by_heads(head_unused.begin(), head_unused.end());
  std::vector<std::string> unused;
  for (const auto& name : body.unused()) {
    if (!unused_by_heads.count(name)) continue;  // a head weight in use
    const bool known = name.find("position_ids") != std::string::npos || head_names.count(name) ||
                       std::find(caller_tensors.begin(), caller_tensors.end(), name) != caller_tensors.end();
    if (!known) unused.push_back(name);
  }
  if (!unused.empty())
    std::cerr << "encore: warning: " << dir << ": " << unused.size() << " unused tensor(s), e.g. '" << unused.front()
              << "'\n";
}

}  // namespace

std::shared_ptr<Model::Impl> load_model(const std::string& dir_name, const LoadOptions& options) {
  const fs::path dir(dir_name);
  if (!fs::is_directory(dir)) fail_path(fs::exists(dir), dir_name, ": not a directory");
  auto m = std::make_shared<Model::Impl>();
  m->dir = dir_name;
  m->options = options;
  m->arch = options.dialect ? &architecture(*options.dialect) : &detect_architecture(dir);
  const Architecture& arch = *m->arch;
  ReadConfig read = read_config(arch, dir, options);
  const BodyNames& n = read.names;
  ModelConfig& c = m->config;
  c = std::move(read.config);
  const LayerPlan& plan = read.plan;

  WeightSource src(dir);
  if (options.half_weights) src.round_to_half();
  m->weights_description = src.description();
  WeightBinder w(src, dir_name, n.prefix, n.word);
  if (arch.embeddings == EmbeddingsKind::Tokens) bind_embeddings(*m, n, w);
  if (c.layer.attention.relative == RelativePositions::Bucket)  // one table for every layer
    m->relative_attention_bias = w.get(n.relative_attention_bias, {c.layer.attention.max_relative, c.heads});
  m->specs = plan.specs;
  m->plan = plan.steps;
  std::vector<Pending> pending = bind_layers(*m, n, plan, w);
  pack_all(pending, src, options.dtype);
  if (c.layer.attention.relative == RelativePositions::Disentangled) bind_disentangled(*m, n, plan, w);
  if (c.conv_kernel > 0) bind_conv(*m, n, w);
  if (c.final_norm) {
    m->final_norm.gamma = w.get(n.final_norm.gamma, {c.hidden});
    if (c.layer.bias && !n.final_norm.beta.empty()) m->final_norm.beta = w.get(n.final_norm.beta, {c.hidden});
  }
  // Task heads: names without the body's prefix, so a binder of their own.
  WeightBinder hw(src, dir_name);
  if (!read.heads.empty()) c.head = load_heads(read.heads, dir / arch.config_file, c, m->embeddings, hw, m->heads);
  m->parameters = w.parameters() + hw.parameters();
  if (options.dtype == ComputeType::Int8) quantize_int8(*m);
  warn_unused(read.heads, w, hw, dir_name, options.caller_tensors);
#ifdef __GLIBC__
  // Converted (F16, BF16) copies freed after packing: glibc keeps freed heap memory for reuse
  // unless asked; give it back so that the model's RSS is its weights.
  malloc_trim(0);
#endif
  return m;
}

}  // namespace encore
