#include "models/batch.h"

#include <cstring>

namespace encore {

nn::RaggedBatch ragged_from_keep(const std::vector<uint8_t>& keep, int64_t B, int64_t S,
                                 std::vector<uint8_t>* all_masked) {
  nn::RaggedBatch batch;
  batch.padded_len = S;
  batch.cu.push_back(0);
  all_masked->assign(static_cast<size_t>(B), 0);
  for (int64_t b = 0; b < B; ++b) {
    const uint8_t* row = keep.data() + b * S;
    bool any = false;
    for (int64_t j = 0; j < S; ++j) any = any || row[j];
    (*all_masked)[static_cast<size_t>(b)] = !any;
    for (int64_t j = 0; j < S; ++j)
      if (row[j] || !any) batch.position.push_back(j);
    batch.cu.push_back(static_cast<int64_t>(batch.position.size()));
  }
  return batch;
}

Tensor scatter_padded(const float* x, const nn::RaggedBatch& batch, int64_t H, bool seq_first) {
  const int64_t B = batch.size(), S = batch.padded_len;
  Tensor out = Tensor::zeros(DType::F32, seq_first ? Shape{S, B, H} : Shape{B, S, H});
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = batch.cu[b]; t < batch.cu[b + 1]; ++t) {
      const int64_t j = batch.position[t];
      float* dst = o + (seq_first ? (j * B + b) : (b * S + j)) * H;
      std::memcpy(dst, x + t * H, static_cast<size_t>(H) * sizeof(float));
    }
  }
  return out;
}

const Tensor* find_input(const TensorMap& inputs, const std::string& name) {
  auto it = inputs.find(name);
  return it == inputs.end() ? nullptr : &it->second;
}

void check_known_inputs(const TensorMap& inputs, const std::vector<std::string>& known, const char* dialect) {
  for (const auto& [name, t] : inputs) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == name;
    if (!ok) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail("unknown input '", name, "' for the ", dialect, " dialect (expected: ", list, ")");
    }
  }
}

}  // namespace encore
