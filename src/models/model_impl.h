// Model::Impl: a loaded model's record, config and weights, shared by the front ends.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "encore/model.h"
#include "models/architecture.h"
#include "models/heads.h"
#include "nn/encoder_layer.h"
#include "nn/position_bias.h"

namespace encore {

// Token embeddings: LN(word[id] + token_type[type] + position[pos]) over E, then E -> H.
struct Embeddings {
  Tensor word;            // [vocab, E]
  Tensor position;        // [max_positions, E] (absolute positions only)
  Tensor token_type;      // [type_vocab, E], undefined without token types
  nn::LayerNorm norm;     // over E
  nn::Linear projection;  // [H, E] when the embeddings are factorized, else undefined
};

struct Model::Impl {
  std::string dir;
  std::string weights_description;  // the files the weights came from
  LoadOptions options;              // as loaded (export reads an F32 copy again for bf16 / int8)
  const Architecture* arch = nullptr;
  ModelConfig config;
  Embeddings embeddings;           // EmbeddingsKind::Tokens
  nn::Linear pooler;               // undefined weight when the checkpoint has no pooler
  Tensor relative_attention_bias;  // [buckets, heads] for RelativePositions::Bucket, else undefined
  // DeBERTa-v2's ConvLayer (ModelConfig::conv_kernel): the Conv1d weight as [H, k * H] (tap-major
  // columns, for one GEMM on the k neighbouring rows side by side), its bias and LayerNorm.
  Tensor conv_weight, conv_bias;
  nn::LayerNorm conv_norm;
  // The layer plan: the specs, the stored layers (by weight index) and the steps that run
  // them in order.
  std::vector<LayerSpec> specs;
  std::vector<nn::EncoderLayerWeights> layers;
  std::vector<PlanStep> plan;
  nn::LayerNorm final_norm;  // PyTorch TransformerEncoder(norm=...), else undefined
  HeadWeights heads;         // task head (config.head.kind)
  int64_t parameters = 0;
  // Activation buffers reused across forward calls (see nn::WorkspacePool).
  mutable nn::WorkspacePool workspaces;
};

// Front ends: token ids through embeddings (src/models/token_encoder.cc), or hidden vectors
// in (src/models/transformer_encoder.cc), as the record's EmbeddingsKind says.
// A model's internals, for encore's own sources (export, tests); not part of the public API.
const Model::Impl& impl_of(const Model& model);

TensorMap token_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);
Encoded token_encode(const Model::Impl& m, const TokenBatch& tokens, const ForwardOptions& options);
// The embedding output of one sequence (types 0, the architecture's positions), before any layer.
Tensor embed_sequence(const Model::Impl& m, const std::vector<int64_t>& ids);
TensorMap transformer_encoder_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);

// The position bias every layer shares (RelativePositions::Bucket) for positions 0..S-1;
// empty when the model has none.
nn::PositionBias shared_position_bias(const Model::Impl& m, int64_t S);

// DeBERTa-v2's ConvLayer on x [T, H], the first layer's output, from `embeddings` [T, H], the
// first layer's input (src/models/conv_layer.cc).
void conv_layer(const Model::Impl& m, const float* embeddings, float* x, const nn::RaggedBatch& batch,
                const nn::AttentionMask& mask);

// Runs the plan on x [T, H]; after_step(i, x) sees the output of every step.
template <class AfterStep>
void run_plan(const Model::Impl& m, float* x, const nn::RaggedBatch& batch, const nn::AttentionMask& mask,
              nn::RunContext& run, AfterStep&& after_step) {
  Tensor first_input;  // the ConvLayer's input
  if (m.config.conv_kernel > 0) {
    first_input = Tensor::empty(DType::F32, {batch.tokens(), m.config.hidden});
    std::copy(x, x + batch.tokens() * m.config.hidden, first_input.data<float>());
  }
  for (size_t i = 0; i < m.plan.size(); ++i) {
    const PlanStep& p = m.plan[i];
    nn::encoder_layer_forward(x, batch, mask, m.layers[static_cast<size_t>(p.step.weights)],
                              m.specs[static_cast<size_t>(p.spec)], m.config.heads, p.step, run);
    if (i == 0 && m.config.conv_kernel > 0) conv_layer(m, first_input.data<float>(), x, batch, mask);
    after_step(i, x);
  }
}

// Int8 calibration (src/models/calibrate.cc): for every stored layer and GEMM, the input
// channels to keep in float32 (kernels::PackedLinear's f32_channels). Runs the unpacked model once.
using OutlierChannels = std::vector<std::array<std::vector<int64_t>, nn::kGemmSites>>;
OutlierChannels int8_outlier_channels(const Model::Impl& m);

// Loading (src/models/load.cc).
std::shared_ptr<Model::Impl> load_model(const std::string& dir, const LoadOptions& options);

}  // namespace encore
