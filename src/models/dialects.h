// A dialect is a LayerSpec default plus a weight-name map; nothing else differs.
#pragma once

#include <string>

#include "encore/model.h"

namespace encore {

// Where each weight lives in a dialect's checkpoint. Patterns use {i} for the layer index.
// A Q/K/V triple is fused into one [3H, H] matrix at load; PyTorch stores it fused already.
struct WeightNames {
  std::string word, position, token_type, emb_gamma, emb_beta;  // BERT embeddings
  std::string pooler_w, pooler_b;
  std::string q_w, q_b, k_w, k_b, v_w, v_b;  // separate projections (BERT)
  std::string qkv_w, qkv_b;                  // packed projection (PyTorch in_proj)
  std::string out_w, out_b, ln1_g, ln1_b, ffn_in_w, ffn_in_b, ffn_out_w, ffn_out_b, ln2_g, ln2_b;
  std::string distance;                      // HF relative position distance embedding
  std::string final_g, final_b;              // PyTorch final norm
  bool kernels_in_out = false;               // Google stores dense kernels [in, out]
  std::string optional_prefix;               // HF task models prefix everything with "bert."
};

const WeightNames& weight_names(Dialect dialect);
// The dialect's LayerSpec before the config's values are applied.
LayerSpec default_spec(Dialect dialect);

}  // namespace encore
