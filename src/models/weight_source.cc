#include "models/weight_source.h"

#include <algorithm>

#include "core/convert.h"
#include "encore/checkpoint.h"
#include "encore/safetensors.h"
#include "io/readers.h"
#include "models/json_file.h"

namespace encore {

namespace fs = std::filesystem;

namespace {

// The shard files a sharded checkpoint's index.json names (HF's weight_map).
std::set<fs::path> shards(const fs::path& dir, const fs::path& index) {
  nlohmann::json j = read_json(index);
  ENCORE_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), index.string(), ": missing weight_map");
  std::set<fs::path> out;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    ENCORE_CHECK(it.value().is_string(), index.string(), ": weight_map values must be file names");
    std::string shard = it.value().get<std::string>();
    ENCORE_CHECK(shard.find('/') == std::string::npos && shard != "..", index.string(), ": shard name '", shard,
                 "' must be a file in the same directory");
    out.insert(dir / shard);
  }
  return out;
}

// A TensorFlow checkpoint's .index: Google's bert_model.ckpt.index, else the only
// *.ckpt*.index (model.ckpt-1000.index after fine-tuning).
std::optional<fs::path> tf_index(const fs::path& dir) {
  if (fs::exists(dir / "bert_model.ckpt.index")) return dir / "bert_model.ckpt.index";
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.find(".ckpt") != std::string::npos && e.path().extension() == ".index")
      found.push_back(e.path());
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  if (found.size() > 1)
    fail(dir.string(), ": several TensorFlow checkpoints (", found[0].filename().string(), ", ",
         found[1].filename().string(), (found.size() > 2 ? ", ..." : ""), "); keep one");
  return found.front();
}

// Training state in TF checkpoints, not weights: Google's AdamWeightDecayOptimizer slots
// (optimization.py: "<var>/adam_m", "<var>/adam_v") and global_step; tf.train.AdamOptimizer
// writes "<var>/Adam", "<var>/Adam_1", beta1_power and beta2_power.
bool optimizer_state(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name == "global_step" || name == "beta1_power" || name == "beta2_power" || ends("/adam_m") ||
         ends("/adam_v") || ends("/Adam") || ends("/Adam_1");
}

}  // namespace

WeightSource::WeightSource(const fs::path& dir) {
  const fs::path st = dir / "model.safetensors", st_index = dir / "model.safetensors.index.json";
  const fs::path bin = dir / "pytorch_model.bin", bin_index = dir / "pytorch_model.bin.index.json";
  // The readers of src/io on files mapped here (what read_safetensors & co. do), so that
  // release() knows the mappings.
  auto safetensors = [&](const fs::path& p) { return io::read_safetensors_bytes(p.string(), map(p)); };
  auto torch = [&](const fs::path& p) { return io::read_torch_checkpoint_bytes(p.string(), map(p)); };
  if (fs::exists(st)) {
    add(st, safetensors(st));
  } else if (fs::exists(st_index)) {
    for (const auto& shard : shards(dir, st_index)) add(shard, safetensors(shard));
  } else if (fs::exists(bin)) {
    add(bin, torch(bin));
  } else if (fs::exists(bin_index)) {
    for (const auto& shard : shards(dir, bin_index)) add(shard, torch(shard));
  } else if (fs::exists(dir / "model.pt") || fs::exists(dir / "model.pth")) {
    const fs::path pt = fs::exists(dir / "model.pt") ? dir / "model.pt" : dir / "model.pth";
    add(pt, torch(pt));
  } else if (auto index = tf_index(dir)) {  // as read_tf_checkpoint
    std::string prefix = index->string();
    prefix.resize(prefix.size() - 6);  // ".index"
    TensorFile tf = io::read_tf_bundle_bytes(index->string(), map(*index), [&](int id, int count) {
      const std::string path = prefix + io::shard_name(id, count);
      return io::BundleShard{path, map(path)};
    });
    add(*index, std::move(tf), optimizer_state);
  } else {
    fail(dir.string(), ": no weights (looked for model.safetensors, model.safetensors.index.json, "
         "pytorch_model.bin, pytorch_model.bin.index.json, model.pt, model.pth and *.ckpt.index)");
  }
}

std::string WeightSource::description() const {
  std::string s;
  for (const auto& f : paths_) s += (s.empty() ? "" : ", ") + f;
  return s;
}

io::Bytes WeightSource::map(const fs::path& path) {
  maps_.push_back(io::map_file(path.string()));
  return maps_.back();
}

const io::Bytes* WeightSource::mapping_of(const Tensor& t) const {
  const auto* p = static_cast<const unsigned char*>(t.raw());
  for (const auto& b : maps_)
    if (p && p >= b.data && p < b.data + b.size) return &b;
  return nullptr;
}

void WeightSource::release(const std::string& name) const {
  const Tensor* t = find(name);
  if (const io::Bytes* b = t ? mapping_of(*t) : nullptr) io::release_pages(*b, t->raw(), t->nbytes());
}

void WeightSource::populate(const std::string& name) const {
  const Tensor* t = find(name);
  if (const io::Bytes* b = t ? mapping_of(*t) : nullptr) io::populate_pages(*b, t->raw(), t->nbytes());
}

void WeightSource::round_to_half() {
  for (auto& [name, t] : tensors_) {
    if (t.dtype() != DType::F32 && t.dtype() != DType::F64 && t.dtype() != DType::BF16) continue;  // F16: already
    Tensor r = t.to_f32();
    float* v = r.data<float>();
    for (int64_t i = 0; i < r.numel(); ++i) v[i] = encore::round_to_half(v[i]);
    t = std::move(r);
  }
}

void WeightSource::add(const fs::path& path, TensorFile tf, bool (*skip)(const std::string&)) {
  for (auto& [name, t] : tf.tensors) {
    if (skip && skip(name)) continue;
    ENCORE_CHECK(!tensors_.count(name), path.string(), ": tensor '", name, "' also appears in ", files_[name]);
    files_[name] = path.string();
    tensors_[name] = std::move(t);
  }
  paths_.push_back(path.string());
}

}  // namespace encore
