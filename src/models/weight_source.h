// All weight tensors of a model directory, by name, whatever the checkpoint format.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "encore/safetensors.h"
#include "encore/tensor.h"
#include "io/mapped_file.h"

namespace encore {

// Formats, first match wins (safetensors stay preferred): model.safetensors or its sharded
// index; a torch.save state_dict (pytorch_model.bin, its sharded index, model.pt, model.pth);
// a TensorFlow bundle (bert_model.ckpt.index, or the directory's one *.ckpt*.index).
// Optimizer state in TF checkpoints is skipped.
class WeightSource {
 public:
  explicit WeightSource(const std::filesystem::path& dir);

  const Tensor* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  const std::string& file_of(const std::string& name) const { return files_.at(name); }
  std::string description() const;
  const std::map<std::string, Tensor>& all() const { return tensors_; }

  // Once a tensor's values have been copied (packed), drops the file pages under it from
  // the process's memory (io::release_pages). The tensor stays valid: a page touched again
  // is read back from the page cache. Tensors that are copies (not file views): no-op.
  void release(const std::string& name) const;
  // Maps the file pages under a tensor in one call before it is read in full.
  void populate(const std::string& name) const;
  // Replaces every floating-point tensor by a float32 copy of its values rounded to float16
  // (LoadOptions::half_weights).
  void round_to_half();

 private:
  io::Bytes map(const std::filesystem::path& path);
  const io::Bytes* mapping_of(const Tensor& t) const;
  void add(const std::filesystem::path& path, TensorFile tf, bool (*skip)(const std::string&) = nullptr);

  std::vector<io::Bytes> maps_;  // every file mapped, for release()
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> files_;
  std::vector<std::string> paths_;
};

}  // namespace encore
