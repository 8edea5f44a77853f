// sentence-transformers' modules as the library saves them, from release 2.x to 6.x:
// which class a modules.json entry names, each module's configuration and weights, and the
// math of the modules that act on embeddings (Pooling, Dense, Normalize, LayerNorm).
// The input modules (Transformer, StaticEmbedding) and the Router live in embedder.cc.
//
// References (sentence-transformers 6.3): sentence_transformer/modules/pooling.py,
// base/modules/dense.py, base/modules/normalize.py, sentence_transformer/modules/layer_norm.py,
// base/modules/router.py; 2.x: models/Pooling.py, Dense.py, Asym.py.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "encore/embedder.h"

namespace encore::st {

// The module classes encore runs, named by the last component of modules.json's "type":
// sentence_transformers.models.Dense (2.x to 5.3), sentence_transformers.base.modules.dense.Dense
// (5.4 on), or a 2.x Asym's module path sentence_transformers.models.Dense.
enum class ModuleKind { Transformer, StaticEmbedding, Pooling, Dense, Normalize, LayerNorm, Dropout, Router };

// The kind of a module type; an Error naming the type (and `where`) for anything else:
// custom code, or a sentence-transformers module encore does not run (CNN, LSTM, ...).
ModuleKind module_kind(const std::string& type, const std::string& where);

// A module's config file (`name` in `dir`), or an empty object when the module saved none.
nlohmann::json read_module_config(const std::filesystem::path& dir, const char* name);

// The feature a module reads and writes: "sentence_embedding" or "token_embeddings".
enum class Feature { Sentence, Tokens };

// Pooling (1_Pooling/config.json): the modes, concatenated in this order, and whether the
// prompt's tokens count (include_prompt).
struct PoolingConfig {
  std::vector<Pooling> modes;
  bool include_prompt = true;
};
PoolingConfig read_pooling(const std::filesystem::path& dir);

// Pools one sequence's tokens x[n, H] into out[modes.size() * H]. With include_prompt false
// the first `prompt` tokens are masked out as Pooling._exclude_prompt_from_mask does, with its
// results when nothing is left (cls: token 0, max: -inf, mean: 0, lasttoken: 0).
void pool(float* out, const float* x, int64_t n, int64_t H, const PoolingConfig& config, int64_t prompt);

// A module that maps each row of its feature to a new row: Dense, Normalize, LayerNorm,
// Dropout (a no-op at inference).
class RowModule {
 public:
  virtual ~RowModule() = default;
  virtual Feature feature() const = 0;
  // The row width this module produces from rows of width `in` (an Error if `in` is wrong).
  virtual int64_t out_dim(int64_t in) const = 0;
  // x [rows, in] -> [rows, out_dim(in)].
  virtual std::vector<float> run(std::vector<float> x, int64_t rows, int64_t in) const = 0;
  virtual bool normalizes() const { return false; }
  virtual std::string describe() const = 0;  // "Dense(384->128, tanh)"
};

std::shared_ptr<const RowModule> load_row_module(ModuleKind kind, const std::filesystem::path& dir);

// torch.nn.functional.normalize over each row: x / max(||x||, 1e-12).
void normalize_rows(float* x, int64_t rows, int64_t dim);

}  // namespace encore::st
