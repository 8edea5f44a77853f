// Model::Impl: a loaded model's config and weights, shared by the dialect front ends.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "encore/model.h"
#include "models/heads.h"
#include "nn/encoder_layer.h"

namespace encore {

struct Model::Impl {
  std::string dir;
  std::string weights_description;  // the files the weights came from
  LoadOptions options;              // as loaded (export reads an F32 copy again for bf16 / int8)
  ModelConfig config;
  // BERT embeddings and pooler (undefined for the PyTorch dialect).
  Tensor word_embeddings;        // [vocab, H]
  Tensor position_embeddings;    // [max_positions, H] (absolute positions only)
  Tensor token_type_embeddings;  // [type_vocab, H]
  nn::LayerNorm embedding_norm;
  nn::Linear pooler;             // undefined weight when the checkpoint has no pooler
  std::vector<nn::EncoderLayerWeights> layers;
  nn::LayerNorm final_norm;      // PyTorch TransformerEncoder(norm=...), else undefined
  HeadWeights heads;             // task head (config.head.kind), BERT dialects only
  int64_t parameters = 0;
  // Activation buffers reused across forward calls (see nn::WorkspacePool).
  mutable nn::WorkspacePool workspaces;
};

// Dialect front ends (src/models/bert.cc, src/models/transformer_encoder.cc).
TensorMap bert_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);
Encoded bert_encode(const Model::Impl& m, const TokenBatch& tokens, const ForwardOptions& options);
// The embedding output of one sequence (types 0, positions 0..n-1), before any layer.
Tensor bert_embed_sequence(const Model::Impl& m, const std::vector<int64_t>& ids);
TensorMap transformer_encoder_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);

// Int8 calibration (src/models/calibrate.cc): for every layer and GEMM, the input channels
// to keep in float32 (kernels::PackedLinear's f32_channels). Runs the unpacked model once.
using OutlierChannels = std::vector<std::array<std::vector<int64_t>, nn::kGemmSites>>;
OutlierChannels int8_outlier_channels(const Model::Impl& m);

// Loading (src/models/load.cc).
std::shared_ptr<Model::Impl> load_model(const std::string& dir, const LoadOptions& options);

}  // namespace encore
