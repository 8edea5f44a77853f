// encore::FillMask: transformers' FillMaskPipeline on a BertForMaskedLM / BertForPreTraining
// model: for every mask token of the input, the top_k vocabulary entries by softmax
// probability, with the decoded token and the input with the mask filled in.
#pragma once

#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

struct FillMaskOptions {
  int top_k = 5;
  int batch_size = 32;
  int threads = 0;
  ComputeType dtype = ComputeType::F32;
};

struct MaskPrediction {
  float score = 0.0f;
  int32_t token = 0;
  std::string token_str;  // tokenizer.decode([token])
  std::string sequence;   // the input with this token in the mask (pipeline's `sequence`)
};

struct FillMaskResult {
  std::vector<std::vector<MaskPrediction>> masks;  // one list per mask token, in text order
  std::string error;
};

class FillMask {
 public:
  static FillMask load(const std::string& dir, const FillMaskOptions& options = {});
  std::vector<FillMaskResult> fill(const std::vector<std::string>& texts) const;
  const std::string& mask_token() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace encore
