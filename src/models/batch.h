// From the caller's padded [B, S] layout to encore's ragged batch and back.
#pragma once

#include <string>
#include <vector>

#include "encore/tensor.h"
#include "nn/encoder_layer.h"

namespace encore {

// Builds the ragged batch from a key-padding mask ([B,S], keep[b*S+j] true = real). A
// sequence with no real position keeps all of them and is flagged in all_masked: its
// every key gets the dialect's fill, exactly as the reference's arithmetic does.
nn::RaggedBatch ragged_from_keep(const std::vector<uint8_t>& keep, int64_t B, int64_t S,
                                 std::vector<uint8_t>* all_masked);

// Scatters ragged rows [T, H] into a zero [B, S, H] tensor (or [S, B, H] when seq_first).
Tensor scatter_padded(const float* x, const nn::RaggedBatch& batch, int64_t H, bool seq_first = false);

// Input lookups with one-line errors naming the input.
const Tensor* find_input(const TensorMap& inputs, const std::string& name);
void check_known_inputs(const TensorMap& inputs, const std::vector<std::string>& known, const char* dialect);

}  // namespace encore
