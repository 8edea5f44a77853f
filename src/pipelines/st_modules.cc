#include "pipelines/st_modules.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>

#include "kernels/kernels.h"
#include "models/json_file.h"
#include "models/weight_source.h"

namespace encore::st {

namespace fs = std::filesystem;
using nlohmann::json;

ModuleKind module_kind(const std::string& type, const std::string& where) {
  const std::string cls = type.substr(type.rfind('.') + 1);
  static const std::pair<const char*, ModuleKind> known[] = {
      {"Transformer", ModuleKind::Transformer},
      {"StaticEmbedding", ModuleKind::StaticEmbedding},
      {"Pooling", ModuleKind::Pooling},
      {"Dense", ModuleKind::Dense},
      {"Normalize", ModuleKind::Normalize},
      {"LayerNorm", ModuleKind::LayerNorm},
      {"Dropout", ModuleKind::Dropout},
      {"Router", ModuleKind::Router},
      {"Asym", ModuleKind::Router},  // 2.x-4.x; Router since 5.0, which loads Asym's files
  };
  if (type.rfind("sentence_transformers.", 0) == 0)
    for (const auto& [name, kind] : known)
      if (cls == name) return kind;
  fail(where, ": module type '", type, "' is not one encore runs (it runs sentence-transformers' Transformer, ",
       "StaticEmbedding, Pooling, Dense, Normalize, LayerNorm, Dropout and Router/Asym)");
}

json read_module_config(const fs::path& dir, const char* name) {
  const fs::path file = dir / name;
  if (!fs::exists(file)) return json::object();
  json j = read_json(file);
  ENCORE_CHECK(j.is_object(), file.string(), ": expected a JSON object");
  return j;
}

PoolingConfig read_pooling(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  json j = read_json(file);
  ENCORE_CHECK(j.is_object(), file.string(), ": expected a JSON object");
  PoolingConfig c;
  // 5.4 on: "pooling_mode", one name or a list. Before: one boolean per mode, concatenated in
  // this order (Pooling.forward), and "mean" when none is set (_convert_legacy_pooling_kwargs).
  if (j.contains("pooling_mode")) {
    const json& m = j["pooling_mode"];
    std::vector<std::string> names;
    if (m.is_string())
      names.push_back(m.get<std::string>());
    else if (m.is_array())
      for (const json& e : m) {
        ENCORE_CHECK(e.is_string(), file.string(), ": 'pooling_mode' must be a name or a list of names");
        names.push_back(e.get<std::string>());
      }
    else
      fail(file.string(), ": 'pooling_mode' must be a name or a list of names");
    ENCORE_CHECK(!names.empty(), file.string(), ": 'pooling_mode' is an empty list");
    for (const std::string& name : names) {
      try {
        c.modes.push_back(pooling_from_name(name));
      } catch (const Error& e) {
        fail(file.string(), ": ", e.what());
      }
    }
  } else {
    static const std::pair<const char*, Pooling> legacy[] = {
        {"pooling_mode_cls_token", Pooling::Cls},
        {"pooling_mode_max_tokens", Pooling::Max},
        {"pooling_mode_mean_tokens", Pooling::Mean},
        {"pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen},
        {"pooling_mode_weightedmean_tokens", Pooling::WeightedMean},
        {"pooling_mode_lasttoken", Pooling::LastToken}};
    for (const auto& [key, mode] : legacy)
      if (j.contains(key) && j[key].is_boolean() && j[key].get<bool>()) c.modes.push_back(mode);
    if (c.modes.empty()) c.modes.push_back(Pooling::Mean);
  }
  if (j.contains("include_prompt")) {
    ENCORE_CHECK(j["include_prompt"].is_boolean(), file.string(), ": 'include_prompt' must be true or false");
    c.include_prompt = j["include_prompt"].get<bool>();
  }
  return c;
}

void pool(float* out, const float* x, int64_t n, int64_t H, const PoolingConfig& config, int64_t prompt) {
  // Tokens [first, n) take part; position weights (weightedmean) stay t + 1 for token t.
  const int64_t first = config.include_prompt ? 0 : std::min(prompt, n);
  const int64_t count = n - first;
  for (Pooling mode : config.modes) {
    switch (mode) {
      case Pooling::Cls: {  // the first unmasked token; token 0 when all are masked (argmax of zeros)
        const int64_t t = count > 0 ? first : 0;
        std::copy(x + t * H, x + (t + 1) * H, out);
        break;
      }
      case Pooling::LastToken:
        if (count > 0)
          std::copy(x + (n - 1) * H, x + n * H, out);
        else
          std::fill(out, out + H, 0.0f);
        break;
      case Pooling::Max:
        std::fill(out, out + H, -std::numeric_limits<float>::infinity());
        for (int64_t t = first; t < n; ++t)
          for (int64_t k = 0; k < H; ++k) out[k] = std::max(out[k], x[t * H + k]);
        break;
      case Pooling::Mean:
      case Pooling::MeanSqrtLen: {
        std::fill(out, out + H, 0.0f);
        for (int64_t t = first; t < n; ++t)
          for (int64_t k = 0; k < H; ++k) out[k] += x[t * H + k];
        const float c = std::max(static_cast<float>(count), 1e-9f);  // torch.clamp(min=1e-9)
        const float d = mode == Pooling::Mean ? c : std::sqrt(c);
        for (int64_t k = 0; k < H; ++k) out[k] /= d;
        break;
      }
      case Pooling::WeightedMean: {
        std::fill(out, out + H, 0.0f);
        float wsum = 0.0f;
        for (int64_t t = first; t < n; ++t) {
          const float w = static_cast<float>(t + 1);
          wsum += w;
          for (int64_t k = 0; k < H; ++k) out[k] += x[t * H + k] * w;
        }
        wsum = std::max(wsum, 1e-9f);
        for (int64_t k = 0; k < H; ++k) out[k] /= wsum;
        break;
      }
    }
    out += H;
  }
}

void normalize_rows(float* x, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * dim;
    double sq = 0.0;
    for (int64_t k = 0; k < dim; ++k) sq += static_cast<double>(v[k]) * v[k];
    const float norm = std::max(static_cast<float>(std::sqrt(sq)), 1e-12f);
    for (int64_t k = 0; k < dim; ++k) v[k] /= norm;
  }
}

namespace {

Feature feature_of(const json& config, const fs::path& dir) {
  const std::string in = config.value("module_input_name", std::string("sentence_embedding"));
  const std::string out = config.contains("module_output_name") && config["module_output_name"].is_string()
                              ? config["module_output_name"].get<std::string>()
                              : in;
  ENCORE_CHECK(in == out, dir.string(), ": a module that writes '", out, "' from '", in,
               "' is not supported (encore runs modules that transform one feature in place)");
  if (in == "sentence_embedding") return Feature::Sentence;
  if (in == "token_embeddings") return Feature::Tokens;
  fail(dir.string(), ": module_input_name '", in, "' is not supported (sentence_embedding or token_embeddings)");
}

// A weight of a module's state dict as float32, shape-checked.
std::vector<float> module_weight(const WeightSource& src, const std::string& name, const Shape& shape,
                                 const fs::path& dir) {
  const Tensor* t = src.find(name);
  ENCORE_CHECK(t, dir.string(), ": missing tensor '", name, "'");
  ENCORE_CHECK(t->shape() == shape, dir.string(), ": tensor '", name, "' has shape ", shape_string(t->shape()),
               ", expected ", shape_string(shape));
  const Tensor f = t->to_f32();
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}

// The activations Dense can name: every torch.nn module that builds without arguments and
// maps a row of features to a row (torch/nn/modules/activation.py and linear.py's Identity).
enum class TorchActivation {
  Identity,
  Tanh,
  ReLU,
  ReLU6,
  LeakyReLU,
  RReLU,
  PReLU,
  ELU,
  CELU,
  SELU,
  GELU,
  Sigmoid,
  SiLU,
  Mish,
  Hardswish,
  Hardsigmoid,
  Hardtanh,
  LogSigmoid,
  Softplus,
  Softshrink,
  Hardshrink,
  Softsign,
  Tanhshrink,
  GLU,
  Softmax,
  LogSoftmax,
  Softmin
};

TorchActivation torch_activation(const std::string& path, const fs::path& dir) {
  static const std::pair<const char*, TorchActivation> known[] = {{"Identity", TorchActivation::Identity},
                                                                  {"Tanh", TorchActivation::Tanh},
                                                                  {"ReLU", TorchActivation::ReLU},
                                                                  {"ReLU6", TorchActivation::ReLU6},
                                                                  {"LeakyReLU", TorchActivation::LeakyReLU},
                                                                  {"RReLU", TorchActivation::RReLU},
                                                                  {"PReLU", TorchActivation::PReLU},
                                                                  {"ELU", TorchActivation::ELU},
                                                                  {"CELU", TorchActivation::CELU},
                                                                  {"SELU", TorchActivation::SELU},
                                                                  {"GELU", TorchActivation::GELU},
                                                                  {"Sigmoid", TorchActivation::Sigmoid},
                                                                  {"SiLU", TorchActivation::SiLU},
                                                                  {"Mish", TorchActivation::Mish},
                                                                  {"Hardswish", TorchActivation::Hardswish},
                                                                  {"Hardsigmoid", TorchActivation::Hardsigmoid},
                                                                  {"Hardtanh", TorchActivation::Hardtanh},
                                                                  {"LogSigmoid", TorchActivation::LogSigmoid},
                                                                  {"Softplus", TorchActivation::Softplus},
                                                                  {"Softshrink", TorchActivation::Softshrink},
                                                                  {"Hardshrink", TorchActivation::Hardshrink},
                                                                  {"Softsign", TorchActivation::Softsign},
                                                                  {"Tanhshrink", TorchActivation::Tanhshrink},
                                                                  {"GLU", TorchActivation::GLU},
                                                                  {"Softmax", TorchActivation::Softmax},
                                                                  {"LogSoftmax", TorchActivation::LogSoftmax},
                                                                  {"Softmin", TorchActivation::Softmin}};
  const std::string cls = path.substr(path.rfind('.') + 1);
  for (const auto& [name, act] : known)
    if (cls == name) return act;
  fail(dir.string(), ": activation_function '", path, "' is not supported (encore runs the torch.nn activations ",
       "that take no arguments: Tanh, ReLU, GELU, Sigmoid, Identity, ...)");
}

float sigmoid(float v) {
  return 1.0f / (1.0f + std::exp(-v));
}
float softplus(float v) {
  return v > 20.0f ? v : std::log1p(std::exp(v));
}  // beta 1, threshold 20

// x [rows, dim] -> act(x) [rows, dim / 2 for GLU, else dim]; PReLU's slope in `prelu`.
std::vector<float> activate(TorchActivation act, std::vector<float> x, int64_t rows, int64_t dim, float prelu) {
  constexpr float kSeluAlpha = 1.6732632423543772848170429916717f, kSeluScale = 1.0507009873554804934193349852946f;
  constexpr float kRReluSlope = (1.0f / 8.0f + 1.0f / 3.0f) / 2.0f;  // eval mode: the mean of lower and upper
  auto each = [&](auto f) {
    for (float& v : x) v = f(v);
    return std::move(x);
  };
  switch (act) {
    case TorchActivation::Identity:
      return x;
    case TorchActivation::Tanh:
      return each([](float v) { return std::tanh(v); });
    case TorchActivation::ReLU:
      return each([](float v) { return v > 0.0f ? v : 0.0f; });
    case TorchActivation::ReLU6:
      return each([](float v) { return std::min(std::max(v, 0.0f), 6.0f); });
    case TorchActivation::LeakyReLU:
      return each([](float v) { return v > 0.0f ? v : v * 0.01f; });
    case TorchActivation::RReLU:
      return each([&](float v) { return v >= 0.0f ? v : v * kRReluSlope; });
    case TorchActivation::PReLU:
      return each([&](float v) { return v > 0.0f ? v : v * prelu; });
    case TorchActivation::ELU:
      return each([](float v) { return v > 0.0f ? v : std::expm1(v); });
    case TorchActivation::CELU:
      return each([](float v) { return std::max(v, 0.0f) + std::min(0.0f, std::expm1(v)); });
    case TorchActivation::SELU:
      return each([&](float v) { return kSeluScale * (v > 0.0f ? v : kSeluAlpha * std::expm1(v)); });
    case TorchActivation::GELU:
      return each([](float v) { return 0.5f * v * (1.0f + std::erf(v * static_cast<float>(M_SQRT1_2))); });
    case TorchActivation::Sigmoid:
      return each(sigmoid);
    case TorchActivation::SiLU:
      return each([](float v) { return v * sigmoid(v); });
    case TorchActivation::Mish:
      return each([](float v) { return v * std::tanh(softplus(v)); });
    case TorchActivation::Hardswish:
      return each([](float v) { return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f; });
    case TorchActivation::Hardsigmoid:
      return each([](float v) { return std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f; });
    case TorchActivation::Hardtanh:
      return each([](float v) { return std::min(std::max(v, -1.0f), 1.0f); });
    case TorchActivation::LogSigmoid:
      return each([](float v) { return -softplus(-v); });
    case TorchActivation::Softplus:
      return each(softplus);
    case TorchActivation::Softshrink:
      return each([](float v) { return v > 0.5f ? v - 0.5f : v < -0.5f ? v + 0.5f : 0.0f; });
    case TorchActivation::Hardshrink:
      return each([](float v) { return std::fabs(v) > 0.5f ? v : 0.0f; });
    case TorchActivation::Softsign:
      return each([](float v) { return v / (1.0f + std::fabs(v)); });
    case TorchActivation::Tanhshrink:
      return each([](float v) { return v - std::tanh(v); });
    case TorchActivation::GLU: {  // first half * sigmoid(second half), along the last dimension
      const int64_t h = dim / 2;
      std::vector<float> y(static_cast<size_t>(rows * h));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < h; ++k) y[r * h + k] = x[r * dim + k] * sigmoid(x[r * dim + h + k]);
      return y;
    }
    case TorchActivation::Softmax:
    case TorchActivation::LogSoftmax:
    case TorchActivation::Softmin:  // dim=None on [batch, features]: the legacy implicit dim 1
      for (int64_t r = 0; r < rows; ++r) {
        float* v = x.data() + r * dim;
        if (act == TorchActivation::Softmin)
          for (int64_t k = 0; k < dim; ++k) v[k] = -v[k];
        const float m = *std::max_element(v, v + dim);
        double sum = 0.0;
        for (int64_t k = 0; k < dim; ++k) sum += std::exp(v[k] - m);
        const float log_sum = static_cast<float>(std::log(sum));
        for (int64_t k = 0; k < dim; ++k)
          v[k] = act == TorchActivation::LogSoftmax ? v[k] - m - log_sum : std::exp(v[k] - m - log_sum);
      }
      return x;
  }
  return x;
}

// Dense: act(x Wᵀ + b) (+ x, or + x Rᵀ when the widths differ, with use_residual).
class Dense : public RowModule {
 public:
  explicit Dense(const fs::path& dir) {
    const json c = read_module_config(dir, "config.json");
    const std::string file = (dir / "config.json").string();
    ENCORE_CHECK(c.contains("in_features") && c["in_features"].is_number_integer() && c.contains("out_features") &&
                     c["out_features"].is_number_integer(),
                 file, ": Dense needs integer 'in_features' and 'out_features'");
    in_ = c["in_features"].get<int64_t>(), out_ = c["out_features"].get<int64_t>();
    ENCORE_CHECK(in_ > 0 && out_ > 0 && in_ <= (1 << 20) && out_ <= (1 << 20), file, ": bad Dense size ", in_, "x",
                 out_);
    const bool bias = c.value("bias", true);
    residual_ = c.value("use_residual", false);
    feature_ = feature_of(c, dir);
    // Dense.load: a torch.* path names the class; any other path falls back to Tanh (with a
    // warning) unless the model is loaded with trust_remote_code.
    activation_path_ = c.value("activation_function", std::string("torch.nn.modules.activation.Tanh"));
    if (activation_path_.rfind("torch.", 0) != 0) {
      std::cerr << "encore: warning: " << file << ": activation_function '" << activation_path_
                << "' is not a torch class; Tanh is used, as sentence-transformers does without trust_remote_code\n";
      activation_path_ = "torch.nn.modules.activation.Tanh";
    }
    activation_ = torch_activation(activation_path_, dir);
    if (activation_ == TorchActivation::GLU)
      ENCORE_CHECK(out_ % 2 == 0, file, ": GLU needs an even out_features, got ", out_);
    ENCORE_CHECK(!(feature_ == Feature::Tokens &&
                   (activation_ == TorchActivation::Softmax || activation_ == TorchActivation::LogSoftmax ||
                    activation_ == TorchActivation::Softmin)),
                 file, ": a softmax activation over token embeddings runs over the batch dimension in PyTorch ",
                 "(dim=None on a 3-D input); encore does not reproduce that");
    WeightSource src(dir);
    weight_ = module_weight(src, "linear.weight", {out_, in_}, dir);
    if (bias) bias_ = module_weight(src, "linear.bias", {out_}, dir);
    if (residual_ && in_ != out_) residual_weight_ = module_weight(src, "residual.weight", {out_, in_}, dir);
    if (activation_ == TorchActivation::PReLU) prelu_ = module_weight(src, "activation_function.weight", {1}, dir)[0];
  }

  Feature feature() const override { return feature_; }
  int64_t out_dim(int64_t in) const override {
    ENCORE_CHECK(in == in_, "Dense(", in_, "->", out_, ") receives ", in, "-dimensional embeddings");
    return activation_ == TorchActivation::GLU ? out_ / 2 : out_;
  }
  std::vector<float> run(std::vector<float> x, int64_t rows, int64_t in) const override {
    const int64_t out_width = out_dim(in);
    std::vector<float> y(static_cast<size_t>(rows * out_));
    kernels::linear(y.data(), x.data(), weight_.data(), bias_.empty() ? nullptr : bias_.data(), rows, in_, out_);
    y = activate(activation_, std::move(y), rows, out_, prelu_);
    if (residual_) {
      std::vector<float> r = x;
      if (in_ != out_) {
        r.assign(static_cast<size_t>(rows * out_), 0.0f);
        kernels::linear(r.data(), x.data(), residual_weight_.data(), nullptr, rows, in_, out_);
      }
      ENCORE_CHECK(out_width == out_, "Dense: use_residual with GLU changes the width; not supported");
      for (size_t i = 0; i < y.size(); ++i) y[i] += r[i];
    }
    return y;
  }
  std::string describe() const override {
    std::string s = "Dense(" + std::to_string(in_) + "->" + std::to_string(out_) + ", " +
                    activation_path_.substr(activation_path_.rfind('.') + 1);
    if (bias_.empty()) s += ", no bias";
    if (residual_) s += ", residual";
    if (feature_ == Feature::Tokens) s += ", on tokens";
    return s + ")";
  }

 private:
  int64_t in_ = 0, out_ = 0;
  bool residual_ = false;
  Feature feature_ = Feature::Sentence;
  std::string activation_path_;
  TorchActivation activation_ = TorchActivation::Tanh;
  float prelu_ = 0.25f;
  std::vector<float> weight_, bias_, residual_weight_;
};

class Normalize : public RowModule {
 public:
  explicit Normalize(const fs::path& dir) : feature_(feature_of(read_module_config(dir, "config.json"), dir)) {}
  Feature feature() const override { return feature_; }
  int64_t out_dim(int64_t in) const override { return in; }
  std::vector<float> run(std::vector<float> x, int64_t rows, int64_t in) const override {
    normalize_rows(x.data(), rows, in);
    return x;
  }
  bool normalizes() const override { return feature_ == Feature::Sentence; }
  std::string describe() const override { return feature_ == Feature::Tokens ? "Normalize(tokens)" : "Normalize"; }

 private:
  Feature feature_;
};

// sentence_transformers LayerNorm: nn.LayerNorm(dimension), eps 1e-5, on sentence_embedding.
class LayerNorm : public RowModule {
 public:
  explicit LayerNorm(const fs::path& dir) {
    const json c = read_module_config(dir, "config.json");
    ENCORE_CHECK(c.contains("dimension") && c["dimension"].is_number_integer() && c["dimension"].get<int64_t>() > 0,
                 (dir / "config.json").string(), ": LayerNorm needs a positive integer 'dimension'");
    dim_ = c["dimension"].get<int64_t>();
    WeightSource src(dir);
    gamma_ = module_weight(src, "norm.weight", {dim_}, dir);
    beta_ = module_weight(src, "norm.bias", {dim_}, dir);
  }
  Feature feature() const override { return Feature::Sentence; }
  int64_t out_dim(int64_t in) const override {
    ENCORE_CHECK(in == dim_, "LayerNorm(", dim_, ") receives ", in, "-dimensional embeddings");
    return dim_;
  }
  std::vector<float> run(std::vector<float> x, int64_t rows, int64_t in) const override {
    kernels::layer_norm(x.data(), x.data(), gamma_.data(), beta_.data(), rows, in, 1e-5f);
    return x;
  }
  std::string describe() const override { return "LayerNorm(" + std::to_string(dim_) + ")"; }

 private:
  int64_t dim_ = 0;
  std::vector<float> gamma_, beta_;
};

class Dropout : public RowModule {
 public:
  Feature feature() const override { return Feature::Sentence; }
  int64_t out_dim(int64_t in) const override { return in; }
  std::vector<float> run(std::vector<float> x, int64_t, int64_t) const override { return x; }
  std::string describe() const override { return "Dropout"; }
};

}  // namespace

std::shared_ptr<const RowModule> load_row_module(ModuleKind kind, const fs::path& dir) {
  switch (kind) {
    case ModuleKind::Dense:
      return std::make_shared<Dense>(dir);
    case ModuleKind::Normalize:
      return std::make_shared<Normalize>(dir);
    case ModuleKind::LayerNorm:
      return std::make_shared<LayerNorm>(dir);
    case ModuleKind::Dropout:
      return std::make_shared<Dropout>();
    default:
      fail(dir.string(), ": not a module that acts on embeddings");
  }
}

}  // namespace encore::st
