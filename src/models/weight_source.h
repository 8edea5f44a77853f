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

 private:
  void add(const std::filesystem::path& path, TensorFile tf, bool (*skip)(const std::string&) = nullptr);

  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> files_;
  std::vector<std::string> paths_;
};

}  // namespace encore
