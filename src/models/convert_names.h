// Tensor names between the records of one family for `encore convert`, through one
// canonical form: the names of the family's HF-layout record without the body's prefix
// (for BERT: HF BertModel names plus the BertFor* head names), Linear weights [out, in],
// dtype as stored. Names pair up slot by slot (BodyNames, and the heads of the same task),
// so a record's names are written once, in the record.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "encore/tensor.h"
#include "models/architecture.h"

namespace encore {

struct NamedTensors {
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> dropped;  // names that have no counterpart on the other side
};

// The family's record that holds the canonical names (its HF layout).
const Architecture& canonical_architecture(const Architecture& of);

// Source tensors (WeightSource::all()) of a checkpoint of `from` with `layers` stored layers
// to the canonical form. [in, out] kernels are transposed; a packed QKV is split into Q, K, V.
NamedTensors to_canonical(const std::map<std::string, Tensor>& source, const Architecture& from, int64_t layers);

// Canonical tensors under the names of `to` (a record of the same family, not the PyTorch
// layout: its layers are written by export_torch_encoder). An HF layout puts its body prefix
// on everything but the heads when `prefix`.
NamedTensors from_canonical(const std::map<std::string, Tensor>& canonical, const Architecture& to, int64_t layers,
                            bool prefix);

// True for a canonical task-head name of the family.
bool is_head_name(const Architecture& family, const std::string& canonical_name);

// A 2-D tensor's transpose, any dtype, bits unchanged.
Tensor transposed(const Tensor& t, const std::string& name);

}  // namespace encore
