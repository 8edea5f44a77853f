// Model::Impl: a loaded model's config and weights, shared by the dialect front ends.
#pragma once

#include <string>
#include <vector>

#include "encore/model.h"
#include "models/heads.h"
#include "nn/encoder_layer.h"

namespace encore {

struct Model::Impl {
  std::string dir;
  std::string weights_description;  // the files the weights came from
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
};

// Dialect front ends (src/models/bert.cc, src/models/transformer_encoder.cc).
TensorMap bert_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);
Encoded bert_encode(const Model::Impl& m, const TokenBatch& tokens, const ForwardOptions& options);
TensorMap transformer_encoder_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& options);

// Loading (src/models/load.cc).
std::shared_ptr<Model::Impl> load_model(const std::string& dir, const LoadOptions& options);

}  // namespace encore
