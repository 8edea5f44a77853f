// Task heads on top of the BERT encoder: transformers' BertFor* heads and their Google
// counterparts (run_pretraining.py, run_classifier.py, run_squad.py), loaded with their
// weights and applied to ragged hidden states.
#pragma once

#include <filesystem>
#include <vector>

#include "encore/model.h"
#include "nn/encoder_layer.h"

namespace encore {

class WeightBinder;
struct WeightNames;

struct HeadWeights {
  // MLM (HF cls.predictions / Google cls/predictions): decoder(LN(act(transform(h)))).
  nn::Linear transform;       // [H, H]
  nn::LayerNorm transform_norm;
  nn::Linear decoder;         // [vocab, H] (tied to the word embeddings unless stored) + bias [vocab]
  nn::Linear seq_relationship;  // [2, H] on the pooled output
  nn::Linear classifier;        // [labels, H]: pooled (sequence) or every token (token classification)
  nn::Linear qa;                // [2, H] on every token: start, end
};

// Picks the head (config.json `architectures`, else the tensors present), reads id2label
// and problem_type, and loads the head's weights through `w` (names without the "bert."
// prefix). `config_json` is empty for Google checkpoints.
HeadConfig load_heads(const std::filesystem::path& config_json, ModelConfig& config, const Tensor& word_embeddings,
                      WeightBinder& w, HeadWeights& out);

// Reference-named head outputs of bert_forward, scattered to the padded layout (zeros at
// padded positions): logits / prediction_logits / seq_relationship_logits / start_logits,
// end_logits.
void add_head_outputs(const Model::Impl& m, const float* states, const nn::RaggedBatch& batch, const Tensor& pooled,
                      TensorMap& out);

// The per-token head on rows of states [T, H]; the pooled head on pooled [B, H].
Tensor head_token_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& rows);
Tensor head_sequence_logits(const Model::Impl& m, const Tensor& pooled);

}  // namespace encore
