// encore convert: a model directory in one layout of its architecture's family to another, by
// renaming and transposing stored tensors (never recomputing them), the names paired by the
// family's records (convert_names.h). See include/encore/convert.h.
#include "encore/convert.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "encore/safetensors.h"
#include "models/architecture.h"
#include "models/convert_config.h"
#include "models/convert_names.h"
#include "models/json_file.h"
#include "models/weight_source.h"

namespace encore {

namespace fs = std::filesystem;
using nlohmann::json;

ConvertTarget convert_target_from_name(const std::string& name) {
  if (name == "hf" || name == "bert-hf") return ConvertTarget::HF;
  if (name == "torch" || name == "pytorch") return ConvertTarget::Torch;
  if (name == "google-safetensors" || name == "google" || name == "bert-google") return ConvertTarget::Google;
  fail("unknown conversion target '", name, "' (hf, torch or google-safetensors)");
}

const char* convert_target_name(ConvertTarget t) {
  switch (t) {
    case ConvertTarget::HF: return "hf";
    case ConvertTarget::Google: return "google-safetensors";
    case ConvertTarget::Torch: return "torch";
  }
  return "?";
}

namespace {

// Whether a canonical name belongs to one of the `layers` encoder layers (the PyTorch layout
// keeps only those).
bool is_layer_name(const Architecture& from, const std::string& name, int64_t layers) {
  for (const NameSlot& s : name_slots(canonical_architecture(from).names))
    if (s.per_layer && !s.pattern->empty())
      for (int64_t i = 0; i < layers; ++i)
        if (expand(*s.pattern, i) == name) return true;
  return false;
}

// What a torch-layout directory keeps of a model it cannot hold (embeddings, pooler, heads,
// the source config, tokenizer and sentence-transformers files), so that converting it back
// restores that model with the encoder layers as the torch checkpoint has them.
constexpr const char* kSourceDir = "encore_source";

const char* const kTokenizerFiles[] = {"vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                       "special_tokens_map.json"};
const char* const kSentenceTransformersConfigs[] = {"modules.json", "sentence_bert_config.json",
                                                    "config_sentence_transformers.json"};

// "'a', 'b', 'c' and 4 more"
std::string some_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > 3) s += " and " + std::to_string(names.size() - 3) + " more";
  return s;
}

fs::path without_trailing_slash(fs::path p) {
  p = p.lexically_normal();
  return p.filename().empty() ? p.parent_path() : p;
}

bool is_inside(const fs::path& inner, const fs::path& outer) {
  const std::string i = fs::weakly_canonical(inner).string() + "/", o = fs::weakly_canonical(outer).string() + "/";
  return i.rfind(o, 0) == 0;
}

void check_destination(const fs::path& src, const fs::path& dst, bool force) {
  if (!fs::exists(dst)) return;
  ENCORE_CHECK(fs::is_directory(dst), dst.string(), ": exists and is not a directory");
  ENCORE_CHECK(!is_inside(src, dst), dst.string(), ": is (or contains) the source directory");
  ENCORE_CHECK(force || fs::is_empty(dst), dst.string(), ": exists and is not empty (--force replaces it)");
}

std::vector<std::string> tokenizer_files(const fs::path& src) {
  std::vector<std::string> found;
  for (const char* f : kTokenizerFiles)
    if (fs::is_regular_file(src / f)) found.push_back(f);
  return found;
}

// What makes `src` a sentence-transformers model besides the checkpoint itself (its
// Transformer module has path ""): the root configs and every other module's directory
// listed in modules.json, as paths relative to `src`. Modules without files (Normalize) have
// no directory on the Hub, so a listed directory that is absent is not an error.
std::vector<std::string> sentence_transformers_files(const fs::path& src) {
  std::vector<std::string> found;
  for (const char* f : kSentenceTransformersConfigs)
    if (fs::is_regular_file(src / f)) found.push_back(f);
  const fs::path modules_file = src / "modules.json";
  if (!fs::is_regular_file(modules_file)) return found;
  const json modules = read_json(modules_file);
  ENCORE_CHECK(modules.is_array(), modules_file.string(), ": expected a list of modules");
  for (const json& m : modules) {
    ENCORE_CHECK(m.is_object() && m.contains("path") && m["path"].is_string(), modules_file.string(),
                 ": every module needs a string \"path\"");
    const fs::path path = without_trailing_slash(m["path"].get<std::string>());
    if (path.empty() || path == ".") continue;  // the Transformer module: the checkpoint being converted
    ENCORE_CHECK(path.is_relative() && *path.begin() != "..", modules_file.string(), ": module path '", path.string(),
                 "' is outside the model directory");
    const std::string name = path.string();
    if (fs::exists(src / path) && std::find(found.begin(), found.end(), name) == found.end()) found.push_back(name);
  }
  return found;
}

// "'a', 'b' and 'c'"
std::string all_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "'" : i + 1 == names.size() ? " and '" : ", '") + names[i] + "'";
  return s;
}

// Keeps the sentence-transformers files unchanged where the target still has a Transformer
// module to point at (hf, google-safetensors; for torch, in kSourceDir beside what else the
// torch layout cannot hold), drops them only when asked, and refuses otherwise: a torch
// layout that cannot be restored has no embeddings or tokenizer for the modules to follow.
void carry_sentence_transformers(const fs::path& src, const fs::path& out, const ConvertOptions& o, bool restorable,
                                 ConvertReport& r) {
  const std::vector<std::string> files = sentence_transformers_files(src);
  if (files.empty()) return;
  if (o.drop_sentence_transformers) {
    r.notes.push_back("sentence-transformers files not written (--drop-sentence-transformers): " + all_names(files));
    return;
  }
  ENCORE_CHECK(o.to != ConvertTarget::Torch || restorable, src.string(),
               ": a sentence-transformers model; --to torch writes the encoder layers only, so ", all_names(files),
               " would be lost (--drop-sentence-transformers converts without them)");
  const std::string into = o.to == ConvertTarget::Torch ? std::string(kSourceDir) + "/" : "";
  for (const std::string& f : files) {
    fs::create_directories((out / into / f).parent_path());
    fs::copy(src / f, out / into / f, fs::copy_options::recursive);
    r.files.push_back(into + f);
  }
  if (o.to == ConvertTarget::Google)
    r.notes.push_back(
        "sentence-transformers files kept: encore embed reads them, the sentence-transformers "
        "library needs --to hf (config.json)");
}

void write_json(const fs::path& path, const json& j) {
  std::ofstream f(path);
  f << j.dump(2) << '\n';
  ENCORE_CHECK(f.good(), path.string(), ": cannot write");
}

void write_tensors(const fs::path& dir, const std::map<std::string, Tensor>& tensors, bool hf, ConvertReport& r) {
  std::vector<std::pair<std::string, Tensor>> ordered(tensors.begin(), tensors.end());
  std::map<std::string, std::string> metadata;
  if (hf) metadata["format"] = "pt";  // transformers refuses safetensors files without it
  write_safetensors((dir / "model.safetensors").string(), ordered, metadata);
  r.tensors = ordered.size();
  r.files.push_back("model.safetensors");
}

// kSourceDir for a model written --to torch: source.json (the source record and depth), the
// source's config file, rest.safetensors (every tensor but the encoder layers', under the
// family's canonical names, as stored) and the tokenizer files.
void write_source(const fs::path& src, const fs::path& out, const Architecture& from, const ModelConfig& c,
                  const NamedTensors& canonical, ConvertReport& r) {
  const fs::path dir = out / kSourceDir;
  fs::create_directories(dir);
  std::vector<std::pair<std::string, Tensor>> rest;
  for (const auto& [name, t] : canonical.tensors)
    if (!is_layer_name(from, name, c.layers)) rest.emplace_back(name, t);
  write_safetensors((dir / "rest.safetensors").string(), rest, {});
  write_json(dir / "source.json", json{{"dialect", from.name}, {"layers", c.layers}});
  fs::copy_file(src / from.config_file, dir / from.config_file);
  for (const std::string& f : {std::string("rest.safetensors"), std::string("source.json"), from.config_file})
    r.files.push_back(std::string(kSourceDir) + "/" + f);
  for (const std::string& f : tokenizer_files(src)) {
    fs::copy_file(src / f, dir / f);
    r.files.push_back(std::string(kSourceDir) + "/" + f);
  }
}

void convert_into(const fs::path& src, const fs::path& out, const ConvertOptions& o, ConvertReport& r);

// A torch-layout directory with kSourceDir: the source model rebuilt (its tensors, with the
// encoder layers taken from the torch checkpoint) in a scratch directory, then converted as
// any model of its record is.
void restore_from_torch(const fs::path& src, const fs::path& out, const ConvertOptions& o, ConvertReport& r) {
  const fs::path saved = src / kSourceDir;
  const json meta = read_json(saved / "source.json");
  ENCORE_CHECK(meta.is_object() && meta.contains("dialect") && meta["dialect"].is_string() &&
                   meta.contains("layers") && meta["layers"].is_number_integer(),
               (saved / "source.json").string(), ": expected {\"dialect\": NAME, \"layers\": N}");
  const Architecture& original = architecture(dialect_from_name(meta["dialect"].get<std::string>()));
  const Architecture& torch = architecture(r.from);
  ENCORE_CHECK(&canonical_architecture(original) == &canonical_architecture(torch), (saved / "source.json").string(),
               ": a ", original.name, " model cannot be restored from a PyTorch encoder");
  const int64_t layers = meta["layers"].get<int64_t>();
  const Model encoder = Model::load(src.string());  // validates the torch checkpoint
  ENCORE_CHECK(encoder.config().layers == layers, src.string(), ": the encoder has ", encoder.config().layers,
               " layers, ", (saved / "source.json").string(), " says ", layers);
  NamedTensors canonical = to_canonical(WeightSource(src).all(), torch, layers);
  TensorFile rest = read_safetensors((saved / "rest.safetensors").string());
  bool heads = false;
  for (auto& [name, t] : rest.tensors) {
    heads = heads || is_head_name(original, name);
    canonical.tensors[name] = t;
  }
  const NamedTensors named = from_canonical(canonical.tensors, original, layers, heads);

  std::random_device rd;
  const fs::path rebuilt = out.parent_path() / (".encore-restore-" + std::to_string(rd()));
  try {
    fs::create_directories(rebuilt);
    for (const auto& e : fs::directory_iterator(saved)) {
      const std::string f = e.path().filename().string();
      if (f != "source.json" && f != "rest.safetensors") fs::copy(e.path(), rebuilt / f, fs::copy_options::recursive);
    }
    std::vector<std::pair<std::string, Tensor>> ordered(named.tensors.begin(), named.tensors.end());
    std::map<std::string, std::string> metadata;
    if (original.layout == ConvertTarget::HF) metadata["format"] = "pt";
    write_safetensors((rebuilt / "model.safetensors").string(), ordered, metadata);
    ConvertReport inner;
    inner.from = original.dialect();
    inner.to = o.to;
    convert_into(rebuilt, out, o, inner);
    r.tensors = inner.tensors;
    r.files = inner.files;
    r.notes = {"restored the " + original.name + " model kept in " + std::string(kSourceDir) +
               "/, with the encoder layers of this checkpoint"};
    r.notes.insert(r.notes.end(), inner.notes.begin(), inner.notes.end());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(rebuilt, ec);
    throw;
  }
  fs::remove_all(rebuilt);
}

// Writes everything into `out` (a fresh directory); returns the report.
void convert_into(const fs::path& src, const fs::path& out, const ConvertOptions& o, ConvertReport& r) {
  const Architecture& from = architecture(r.from);
  const bool from_torch = from.layout == ConvertTarget::Torch;
  if (from_torch && o.to != ConvertTarget::Torch && !o.encoder_only && fs::exists(src / kSourceDir / "source.json"))
    return restore_from_torch(src, out, o, r);
  ENCORE_CHECK(!o.encoder_only || from_torch, src.string(),
               ": --encoder-only converts a PyTorch TransformerEncoder; this is a ", from.name, " model");
  if (from_torch && o.to != ConvertTarget::Torch)
    ENCORE_CHECK(o.encoder_only, src.string(),
                 ": a PyTorch TransformerEncoder has no embeddings or pooler, so it cannot become a BERT model "
                 "(a directory written by encore convert --to torch keeps them in encore_source/; --encoder-only "
                 "writes the layers alone under BERT names, a directory that does not load on its own)");
  const Architecture* torch_layout = architecture_in_layout(from, ConvertTarget::Torch);
  const bool restorable = !from_torch && torch_layout;  // the family's layers map onto the torch layout
  carry_sentence_transformers(src, out, o, restorable, r);
  LoadOptions lo;
  lo.dialect = r.from;
  lo.activation = o.activation;
  const Model model = Model::load(src.string(), lo);  // validates the config and every shape
  const ModelConfig& c = model.config();
  const json source_config = read_json(src / from.config_file);
  WeightSource weights(src);

  if (o.to == ConvertTarget::Torch) {
    if (from_torch) {  // e.g. model.pt -> model.safetensors
      write_tensors(out, weights.all(), false, r);
      write_json(out / "transformer_encoder.json", source_config);
      r.files.push_back("transformer_encoder.json");
      if (fs::is_directory(src / kSourceDir)) {
        fs::copy(src / kSourceDir, out / kSourceDir, fs::copy_options::recursive);
        r.files.push_back(std::string(kSourceDir) + "/");
      }
      return;
    }
    try {
      export_torch_encoder(model, 0, c.layers, out.string());
    } catch (const Error& e) {
      fail(src.string(), ": ", e.what());
    }
    r.tensors = static_cast<size_t>(c.layers) * (c.layer.bias ? 12 : 6);
    r.files.insert(r.files.end(), {"model.safetensors", "transformer_encoder.json"});
    const NamedTensors canonical = to_canonical(weights.all(), from, c.layers);
    size_t skipped = 0;
    bool narrow = false;
    for (const auto& [name, t] : canonical.tensors) {
      if (!is_layer_name(from, name, c.layers))
        ++skipped;
      else narrow = narrow || t.dtype() != DType::F32;
    }
    if (narrow) r.notes.push_back("the source stores non-F32 weights; the encoder is written as F32");
    if (restorable) {
      write_source(src, out, from, c, canonical, r);
      r.notes.push_back("embeddings, pooler and task heads (" + std::to_string(skipped) + " tensors), the " +
                        from.config_file + " and the tokenizer are kept in " + kSourceDir +
                        "/: converting this directory back (--to hf, google-safetensors) restores the model");
      return;
    }
    r.notes.push_back("embeddings, pooler and task heads (" + std::to_string(skipped + canonical.dropped.size()) +
                      " tensors) have no nn.TransformerEncoder counterpart: not written");
    if (const auto tokenizer = tokenizer_files(src); !tokenizer.empty())
      r.notes.push_back("tokenizer files not written (the encoder takes vectors, not tokens): " + all_names(tokenizer));
    return;
  }

  const NamedTensors canonical = to_canonical(weights.all(), from, c.layers);
  if (!canonical.dropped.empty())
    r.notes.push_back(std::to_string(canonical.dropped.size()) + " source tensor(s) with no " +
                      canonical_architecture(from).name + " name not written: " + some_names(canonical.dropped));
  const Architecture* target = architecture_in_layout(from, o.to);
  ENCORE_CHECK(target, src.string(), ": a ", from.name, " model has no ", convert_target_name(o.to), " layout");
  const std::string& body_prefix = canonical_architecture(from).names.prefix;
  bool heads = false;
  for (const auto& [name, t] : canonical.tensors) heads = heads || is_head_name(from, name);
  bool prefix = heads;
  if (from.layout == ConvertTarget::HF) {  // keep the source's prefix choice ("bert.")
    prefix = false;
    for (const auto& [name, t] : weights.all())
      prefix = prefix || (!body_prefix.empty() && name.rfind(body_prefix, 0) == 0);
  }
  const NamedTensors named = from_canonical(canonical.tensors, *target, c.layers, prefix);
  if (!named.dropped.empty())
    r.notes.push_back(std::to_string(named.dropped.size()) + " tensor(s) with no " + target->name +
                      " name not written: " + some_names(named.dropped));
  const ConfigInput in{c, source_config, from, canonical.tensors, !o.activation.empty(), o.encoder_only};
  write_json(out / target->config_file, target->write_config ? target->write_config(in, r.notes) : same_config(in));
  r.files.push_back(target->config_file);
  write_tensors(out, named.tensors, target->layout == ConvertTarget::HF, r);
  for (const std::string& f : tokenizer_files(src)) {
    fs::copy_file(src / f, out / f);
    r.files.push_back(f);
  }
  if (o.encoder_only)
    r.notes.push_back("encoder layers only: the directory has no embeddings and does not load as a model by itself");
}

}  // namespace

ConvertReport convert_checkpoint(const std::string& src_name, const std::string& dst_name, const ConvertOptions& o) {
  const fs::path src = without_trailing_slash(src_name), dst = without_trailing_slash(dst_name);
  ENCORE_CHECK(fs::is_directory(src), src_name, ": not a directory");
  ConvertReport r;
  r.from = o.dialect ? architecture(*o.dialect).dialect() : detect_architecture(src).dialect();
  r.to = o.to;
  check_destination(src, dst, o.force);

  std::random_device rd;
  const fs::path parent = dst.has_parent_path() ? dst.parent_path() : fs::path(".");
  const fs::path tmp = parent / ("." + dst.filename().string() + ".encore-convert-" + std::to_string(rd()));
  try {
    fs::create_directories(tmp);
    convert_into(src, tmp, o, r);
    if (fs::exists(dst)) fs::remove_all(dst);
    fs::rename(tmp, dst);
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fail(dst.string(), ": ", e.code().message());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return r;
}

}  // namespace encore
