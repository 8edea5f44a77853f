// The checkpoint readers on bytes already in memory: a mapped file (what the public
// read_* functions pass) or a fuzzer's buffer. `label` names the input in errors. Tensors
// view `bytes` where they can and share its owner.
#pragma once

#include <functional>
#include <string>

#include "encore/safetensors.h"
#include "io/mapped_file.h"

namespace encore::io {

TensorFile read_safetensors_bytes(const std::string& label, const Bytes& bytes);
TensorFile read_torch_checkpoint_bytes(const std::string& label, const Bytes& bytes);

// A TensorFlow bundle: the .index table, and a way to get data shard `id` of `count`.
struct BundleShard {
  std::string label;  // names the shard in errors (its file name)
  Bytes bytes;
};
using ShardSource = std::function<BundleShard(int id, int count)>;
// The data shard's file name suffix: ".data-00000-of-00001".
std::string shard_name(int id, int count);
TensorFile read_tf_bundle_bytes(const std::string& label, const Bytes& index, const ShardSource& shards);

}  // namespace encore::io
