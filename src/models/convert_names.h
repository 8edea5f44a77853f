// Tensor names across dialects for `encore convert`, through one canonical form: HF
// BertModel names without the "bert." prefix (encoder, embeddings, pooler) plus HF's task
// head names (cls.*, classifier.*, qa_outputs.*), Linear weights [out,in], dtype as stored.
// The encoder's names come from the dialects' WeightNames tables; only the heads, which
// the model itself does not load, are listed here.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "encore/model.h"
#include "encore/tensor.h"

namespace encore {

struct NamedTensors {
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> dropped;  // names that have no counterpart on the other side
};

// Source tensors (WeightSource::all()) of a `dialect` checkpoint with `layers` encoder layers
// to the canonical form. Google kernels are transposed; PyTorch's in_proj is split into Q, K, V.
NamedTensors to_canonical(const std::map<std::string, Tensor>& source, Dialect dialect, int64_t layers);

// Canonical tensors under a BERT dialect's names: HF (with the "bert." prefix on everything
// but the heads when `hf_prefix`) or Google (kernels transposed to [in,out]).
NamedTensors from_canonical(const std::map<std::string, Tensor>& canonical, Dialect dialect, int64_t layers,
                            bool hf_prefix);

// True for canonical task-head names (cls.*, classifier.*, qa_outputs.*).
bool is_head_name(const std::string& canonical_name);

// A 2-D tensor's transpose, any dtype, bits unchanged.
Tensor transposed(const Tensor& t, const std::string& name);

}  // namespace encore
