// `encore explain` as a library: the registered architectures' encoder layer side by side,
// how a loaded model differs from BERT, and its first layer recomputed as PyTorch's
// nn.TransformerEncoderLayer (proof by computation that the two are the same math).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "encore/model.h"

namespace encore {

// One line: the reference implementation the architecture's record reproduces.
const std::string& dialect_reference(Dialect d);

// Every registered architecture's layer operation by operation (weight names, activation,
// LayerNorm eps, mask constant, dropout positions, norm placement, parameters): a text table,
// one row per property and one cell per record, records by name.
std::string architecture_table();

// How a loaded model differs from BERT (transformers BertModel with BertConfig defaults):
// one line per difference ("  positions  ...  (BERT: ...)"), or a line saying there is none.
std::string differences_from_bert(const Model& model);

// Layer 0 of a token model fed by its own embeddings, run by encore and by the same weights
// exported as an nn.TransformerEncoderLayer (export_torch_encoder) and loaded back.
struct TorchLayerCheck {
  std::string gap;  // why a TransformerEncoderLayer cannot compute this layer ("" when it can)
  int64_t outputs = 0;           // values compared (0 when gap is set)
  int64_t parameters = 0;        // of encore's layer 0 (4H^2 + 2HI + 9H + I)
  int64_t torch_parameters = 0;  // of the exported TransformerEncoderLayer
  double max_difference = 0.0, max_output = 0.0;
  bool agrees() const { return gap.empty() && max_difference <= 1e-5 * std::max(1.0, max_output); }
};
// Throws encore::Error for a model without token embeddings (it is already a PyTorch encoder).
TorchLayerCheck check_against_torch_layer(const Model& model);

}  // namespace encore
