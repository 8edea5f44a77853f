// BERT layers as a PyTorch TransformerEncoder: the same block under other names.
//   attention.self.{query,key,value}  -> self_attn.in_proj_weight / in_proj_bias (stacked q, k, v)
//   attention.output.dense            -> self_attn.out_proj
//   attention.output.LayerNorm        -> norm1
//   intermediate.dense / output.dense -> linear1 / linear2
//   output.LayerNorm                  -> norm2
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/safetensors.h"
#include "models/model_impl.h"

namespace encore {

namespace {

// The double whose shortest decimal is the float's (1e-12f -> 1e-12, not 9.99999996e-13), so
// that the JSON reads back to the same float and looks like what the user wrote.
double shortest(float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, f);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

}  // namespace

void export_torch_encoder(const Model& bert, int64_t first, int64_t count, const std::string& dir) {
  const Model::Impl& m = impl_of(bert);
  const ModelConfig& c = m.config;
  ENCORE_CHECK(m.arch->layout != ConvertTarget::Torch, "export_torch_encoder: the model is already a PyTorch encoder");
  const int64_t steps = static_cast<int64_t>(m.plan.size());
  ENCORE_CHECK(first >= 0 && count >= 1 && first + count <= steps, "layers [", first, ", ", first + count,
               ") are not within the model's ", steps);
  ENCORE_CHECK(c.layer.attention.relative == RelativePositions::None,
               "relative position scores have no nn.TransformerEncoderLayer equivalent");
  ENCORE_CHECK(c.layer.feed_forward.kind == FeedForwardKind::Mlp,
               "a gated feed-forward (act(W1 x) * Wg x) has no nn.TransformerEncoderLayer equivalent");
  ENCORE_CHECK(c.layer.attention.scale_factor == 1.0f && c.conv_kernel == 0,
               "DeBERTa's attention scale and ConvLayer have no nn.TransformerEncoderLayer equivalent");
  for (const LayerSpec& s : m.specs) {
    ENCORE_CHECK(s.attention.rotary_theta == 0.0f, "rotary positions have no nn.TransformerEncoderLayer equivalent");
    ENCORE_CHECK(s.attention.window == 0, "sliding-window attention has no nn.TransformerEncoderLayer equivalent");
    ENCORE_CHECK(s.attention_norm, "a layer without its attention norm has no nn.TransformerEncoderLayer equivalent");
  }
  const char* act = c.layer.feed_forward.activation == Activation::GeluErf ? "gelu"
                    : c.layer.feed_forward.activation == Activation::Relu  ? "relu"
                                                                           : nullptr;
  ENCORE_CHECK(act, "activation ", activation_name(c.layer.feed_forward.activation),
               " has no nn.TransformerEncoderLayer spelling (relu or gelu = erf)");
  if (m.options.dtype != ComputeType::F32) {
    // bf16 / int8 packing rounded the weights and the model keeps no F32 copy: the
    // checkpoint is read again, so that the export holds its values, not rounded ones.
    LoadOptions f32 = m.options;
    f32.dtype = ComputeType::F32;
    export_torch_encoder(Model::load(m.dir, f32), first, count, dir);
    return;
  }
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (int64_t i = 0; i < count; ++i) {
    const nn::EncoderLayerWeights& L =
        m.layers[static_cast<size_t>(m.plan[static_cast<size_t>(first + i)].step.weights)];
    const std::string p = "layers." + std::to_string(i) + ".";
    // The packed F32 weights reordered back to [out, in]: bit-identical to the checkpoint's.
    tensors.emplace_back(p + "self_attn.in_proj_weight", nn::dense_weight(L.attention.qkv));
    tensors.emplace_back(p + "self_attn.in_proj_bias", L.attention.qkv.bias);
    tensors.emplace_back(p + "self_attn.out_proj.weight", nn::dense_weight(L.attention.out));
    tensors.emplace_back(p + "self_attn.out_proj.bias", L.attention.out.bias);
    tensors.emplace_back(p + "linear1.weight", nn::dense_weight(L.feed_forward.in));
    tensors.emplace_back(p + "linear1.bias", L.feed_forward.in.bias);
    tensors.emplace_back(p + "linear2.weight", nn::dense_weight(L.feed_forward.out));
    tensors.emplace_back(p + "linear2.bias", L.feed_forward.out.bias);
    tensors.emplace_back(p + "norm1.weight", L.ln1.gamma);
    tensors.emplace_back(p + "norm1.bias", L.ln1.beta);
    tensors.emplace_back(p + "norm2.weight", L.ln2.gamma);
    tensors.emplace_back(p + "norm2.bias", L.ln2.beta);
  }
  std::filesystem::create_directories(dir);
  write_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors);
  nlohmann::ordered_json j = {{"encore_format", "torch.nn.TransformerEncoder"},
                              {"num_layers", count},
                              {"d_model", c.hidden},
                              {"nhead", c.heads},
                              {"dim_feedforward", c.intermediate},
                              {"dropout", shortest(c.layer.hidden_dropout)},
                              {"activation", act},
                              {"layer_norm_eps", shortest(c.layer.layer_norm_eps)},
                              {"batch_first", true},
                              {"norm_first", false},
                              {"bias", true},
                              {"final_norm", false}};
  std::ofstream f(std::filesystem::path(dir) / "transformer_encoder.json");
  ENCORE_CHECK(f.good(), dir, ": cannot write transformer_encoder.json");
  f << j.dump(2) << '\n';
}

}  // namespace encore
