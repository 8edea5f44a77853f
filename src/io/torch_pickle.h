// What a torch.save(state_dict) pickle says, without any data: the storages it refers to
// and each tensor's dtype, offset, sizes and strides. The pickle machine allows exactly the
// globals such a pickle uses (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// friends, the typed storage classes); anything else is refused by name.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "encore/tensor.h"

namespace encore::io {

struct TorchStorage {
  std::string key;   // the zip format's data/<key>, or the legacy format's storage id
  DType dtype;       // of the first reference (torch's loader does the same)
  uint64_t numel;    // elements of `dtype`, as the persistent id declares
};

struct TorchTensorSpec {
  size_t storage = 0;
  DType dtype = DType::F32;  // from the storage class the tensor's persistent id names
  int64_t offset = 0;        // in elements
  Shape sizes;
  std::vector<int64_t> strides;
};

struct TorchStateDict {
  std::vector<TorchStorage> storages;
  std::vector<TorchTensorSpec> tensors;
  std::vector<std::pair<std::string, size_t>> entries;  // state_dict key -> tensor
};

enum class TorchPickleKind {
  Zip,     // persistent id ('storage', type, key, location, numel)
  Legacy,  // ... plus view metadata (always None since torch 0.4)
};

// Interprets the state_dict pickle at data[0..size). `where` prefixes errors
// ("<file>: archive/data.pkl"). *consumed receives the pickle's length.
TorchStateDict parse_torch_state_dict(const unsigned char* data, size_t size, const std::string& where,
                                      TorchPickleKind kind, size_t* consumed = nullptr);

}  // namespace encore::io
