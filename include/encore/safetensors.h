// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors):
// 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw data. Reading memory-maps the file and validates every offset, length and
// shape before any tensor is touched; tensors are views into the mapping.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "encore/tensor.h"

namespace encore {

struct TensorFile {
  std::string path;
  std::map<std::string, Tensor> tensors;  // views into the mapped file
  std::map<std::string, std::string> metadata;
};

// Throws encore::Error naming the file (and tensor) for any malformed content.
TensorFile read_safetensors(const std::string& path);

// Writes tensors in the given order (offsets ascending), header padded to 8 bytes.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace encore
