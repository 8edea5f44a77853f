// Task heads on top of the encoder, as the architecture record describes them (HeadSpec):
// loaded with their weights and applied to ragged hidden states.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "encore/model.h"
#include "models/architecture.h"
#include "nn/encoder_layer.h"

namespace encore {

class WeightBinder;
struct Embeddings;

// One part of a loaded head: out(norm(act(dense(x)))).
struct HeadPartWeights {
  HeadInput input = HeadInput::Tokens;
  nn::Linear dense;  // undefined when the head has none
  HeadActivation activation = HeadActivation::None;
  Activation layer_activation = Activation::GeluErf;  // what HeadActivation::Layer / Given mean for this model
  nn::LayerNorm norm;                                 // undefined gamma when none
  float norm_eps = 0.0f;
  nn::Linear out;
  std::vector<std::string> outputs;
  bool squeeze = false;
};

struct HeadWeights {
  std::optional<HeadPartWeights> token, sequence;
};

// Picks the head (config `architectures`, else the first of the record's heads whose weights
// are present), reads id2label and problem_type, and loads the head's weights through `w`
// (names without the body's prefix).
HeadConfig load_heads(const std::vector<HeadSpec>& heads, const std::filesystem::path& config_file, ModelConfig& config,
                      const Embeddings& embeddings, WeightBinder& w, HeadWeights& out);

// Reference-named head outputs of a forward call, scattered to the padded layout (zeros at
// padded positions). `first_rows[b]`: the row of sequence b's position 0, or -1 when it was
// padding (its state is then the zero row).
void add_head_outputs(const Model::Impl& m, const float* states, const nn::RaggedBatch& batch,
                      const std::vector<int64_t>& first_rows, const std::vector<uint8_t>& all_masked,
                      const Tensor& pooled, TensorMap& out);

// The per-token part on rows of states [T, H]; the per-sequence part on the pooled output or
// on the first tokens' rows.
Tensor head_token_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& rows);
// `cu`: sequence b's rows are cu[b]..cu[b+1]; `all_masked[b]` (or empty): its mask was all zeros.
Tensor head_sequence_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& first_rows,
                            const std::vector<int64_t>& cu, const std::vector<uint8_t>& all_masked,
                            const Tensor& pooled);
Tensor head_sequence_logits(const Model::Impl& m, const Encoded& encoded);

}  // namespace encore
