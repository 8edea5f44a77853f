// Sentence embeddings as sentence-transformers computes them: modules.json read into a
// tree of modules (a Router holds one list per route), flattened per task into a chain
// (input module -> modules on token embeddings -> Pooling -> modules on the sentence
// embedding), then run on ragged batches: no padding anywhere, so Pooling's attention-mask
// weighting reduces to sums over each text's own tokens.
//
// References (sentence-transformers 6.3): base/model.py _load_sbert_model (modules.json),
// sentence_transformer/model.py encode (prompts, truncate_dim, normalize_embeddings),
// base/modules/transformer.py (max length, do_lower_case, prompt length),
// sentence_transformer/modules/static_embedding.py, base/modules/router.py.
#include "encore/embedder.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/model_path.h"
#include "encore/multi_vector.h"
#include "models/json_file.h"
#include "models/weight_source.h"
#include "pipelines/st_modules.h"

namespace encore {

namespace fs = std::filesystem;
using nlohmann::json;
using st::ModuleKind;

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Cls:
      return "cls";
    case Pooling::Max:
      return "max";
    case Pooling::Mean:
      return "mean";
    case Pooling::MeanSqrtLen:
      return "mean_sqrt_len_tokens";
    case Pooling::WeightedMean:
      return "weightedmean";
    case Pooling::LastToken:
      return "lasttoken";
  }
  return "?";
}

Pooling pooling_from_name(const std::string& name) {
  for (Pooling p :
       {Pooling::Cls, Pooling::Max, Pooling::Mean, Pooling::MeanSqrtLen, Pooling::WeightedMean, Pooling::LastToken})
    if (name == pooling_name(p)) return p;
  fail("unknown pooling mode '", name, "' (cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken)");
}

void l2_normalize(std::vector<float>& v) {
  st::normalize_rows(v.data(), 1, static_cast<int64_t>(v.size()));
}

namespace {

// The module that reads text: a Transformer (a model, its tokenizer and the text settings
// of sentence_bert_config.json) or a StaticEmbedding (a tokenizer and one row per token).
struct InputModule {
  explicit InputModule(Tokenizer t) : tokenizer(std::move(t)) {}
  Tokenizer tokenizer;
  std::optional<Model> model;                 // Transformer
  int max_length = 0;                         // Transformer: tokens, special tokens included
  int query_length = 0, document_length = 0;  // Transformer: the max length for those tasks (0: max_length)
  std::vector<float> table;                   // StaticEmbedding: [rows, dim]
  int64_t rows = 0, dim = 0;
  std::string description;

  int64_t width() const { return model ? model->config().hidden : dim; }
};

struct Router;

// One module of modules.json (or of a route): exactly one member is set.
struct Node {
  std::shared_ptr<const InputModule> input;
  std::optional<st::PoolingConfig> pooling;
  std::shared_ptr<const st::RowModule> row;
  std::shared_ptr<const Router> router;
};

// Router (5.0 on: router_config.json) and Asym (2.x-4.x: config.json), which 5.0 on loads
// as a Router: one list of modules per route, chosen by the encode call's task.
struct Router {
  std::vector<std::pair<std::string, std::vector<Node>>> routes;  // file order
  struct Mapping {
    std::optional<std::string> task, modality;
    std::string route;
  };
  std::vector<Mapping> mappings;
  std::optional<std::string> default_route;
  std::string where;

  // Router._resolve_route_name / _resolve_route for text input.
  const std::vector<Node>& resolve(const std::string& task) const {
    const std::optional<std::string> t = task.empty() ? std::nullopt : std::optional(task);
    const std::optional<std::string> text = std::string("text");
    for (const auto& [want_task, want_modality] :
         {std::pair{t, text}, std::pair{t, std::optional<std::string>()}, std::pair{std::optional<std::string>(), text},
          std::pair{std::optional<std::string>(), std::optional<std::string>()}})
      for (const Mapping& m : mappings)
        if (m.task == want_task && m.modality == want_modality) return route(m.route);
    for (const std::string& key : {task, std::string("text")})
      if (!key.empty())
        for (const auto& [name, nodes] : routes)
          if (name == key) return nodes;
    if (t) fail(where, ": no route for task '", task, "' (routes: ", names(), ")");
    if (default_route) return route(*default_route);
    fail(where, ": no default route; give a task (routes: ", names(), ")");
  }
  const std::vector<Node>& route(const std::string& name) const {
    for (const auto& [key, nodes] : routes)
      if (key == name) return nodes;
    fail(where, ": route '", name, "' does not exist (routes: ", names(), ")");
  }
  std::string names() const {
    std::string s;
    for (const auto& r : routes) s += (s.empty() ? "" : ", ") + r.first;
    return s;
  }
};

// A task's flattened module list.
struct Chain {
  const InputModule* input = nullptr;
  std::vector<const st::RowModule*> token_modules;  // on token embeddings, before Pooling
  std::optional<st::PoolingConfig> pooling;         // with EmbedderOptions::pooling applied
  std::vector<const st::RowModule*> sentence_modules;
  std::string routes;  // "route X of A, B" for each Router taken, for describe()
};

json read_object(const fs::path& file) {
  json j = read_json(file);
  ENCORE_CHECK(j.is_object(), file.string(), ": expected a JSON object");
  return j;
}

// The Transformer module's config file (Transformer.load_config: the first that exists).
json transformer_config(const fs::path& dir) {
  for (const char* name :
       {"sentence_bert_config.json", "sentence_roberta_config.json", "sentence_distilbert_config.json",
        "sentence_camembert_config.json", "sentence_albert_config.json", "sentence_xlm-roberta_config.json",
        "sentence_xlnet_config.json"})
    if (fs::exists(dir / name)) return read_object(dir / name);
  return json::object();
}

int optional_length(const json& c, const char* key, const fs::path& dir) {
  if (!c.contains(key) || c[key].is_null()) return 0;
  ENCORE_CHECK(c[key].is_number_integer() && c[key].get<int64_t>() > 0 && c[key].get<int64_t>() < (1 << 30),
               dir.string(), ": '", key, "' must be a positive integer");
  return c[key].get<int>();
}

std::shared_ptr<const InputModule> load_transformer(const fs::path& dir, const EmbedderOptions& o) {
  const json c = transformer_config(dir);
  const std::string task = c.value("transformer_task", std::string("feature-extraction"));
  ENCORE_CHECK(task == "feature-extraction", dir.string(), ": a Transformer with transformer_task '", task,
               "' (a sparse or generative model) is not a sentence embedding model encore runs");
  // do_lower_case: Transformer.__init__ puts a Lowercase normalizer in front of the
  // tokenizer's unless it lowercases already; before BertNormalizer's other steps (which
  // lowercasing commutes with) that is BertNormalizer with lowercase on and accents kept.
  const bool lower = c.value("do_lower_case", false);
  LoadOptions lo;
  lo.dtype = o.dtype;
  Model model = Model::load(dir.string(), lo);  // first: a directory that is no model says so
  auto in = std::make_shared<InputModule>(Tokenizer::from_dir(dir, std::nullopt, [lower](TokenizerConfig& tc) {
    if (lower) tc.lowercase_input();
  }));
  in->model = std::move(model);
  const int positions = static_cast<int>(in->model->config().max_positions);
  // The tokenizer's model_max_length: max_seq_length when given (or the processor kwargs'
  // model_max_length), else tokenizer_config.json's, capped at max_position_embeddings.
  int length = optional_length(c, "max_seq_length", dir);
  for (const char* kwargs : {"processor_kwargs", "tokenizer_args"})
    if (!length && c.contains(kwargs) && c[kwargs].is_object())
      length = optional_length(c[kwargs], "model_max_length", dir);
  if (!length) length = static_cast<int>(std::min<size_t>(in->tokenizer.config().model_max_length, positions));
  if (o.max_length > 0) length = o.max_length;
  ENCORE_CHECK(length <= positions, dir.string(), ": max length ", length,
               " exceeds the model's max_position_embeddings ", positions);
  ENCORE_CHECK(length >= 2, dir.string(), ": max length ", length, " leaves no room for text");
  in->max_length = length;
  in->query_length = optional_length(c, "query_length", dir);
  in->document_length = optional_length(c, "document_length", dir);
  in->description = std::string("Transformer(") + dialect_name(in->model->config().dialect) + ", max_length " +
                    std::to_string(length) + (lower ? ", do_lower_case" : "") + ")";
  return in;
}

// StaticEmbedding.load: tokenizer.json and `embedding.weight`, or model2vec's `embeddings`
// with an optional token `mapping` and per-token `weights` folded in.
std::shared_ptr<const InputModule> load_static(const fs::path& dir) {
  ENCORE_CHECK(fs::exists(dir / "tokenizer.json"), dir.string(), ": StaticEmbedding needs tokenizer.json");
  auto in = std::make_shared<InputModule>(Tokenizer::from_tokenizer_json(dir / "tokenizer.json"));
  WeightSource src(dir);
  const Tensor* table = src.find("embedding.weight");
  const Tensor* mapping = nullptr;
  const Tensor* weights = nullptr;
  if (!table) {
    table = src.find("embeddings");
    mapping = src.find("mapping");
    weights = src.find("weights");
  }
  ENCORE_CHECK(table && table->dim() == 2, dir.string(),
               ": StaticEmbedding needs a 2-D 'embedding.weight' (or model2vec's ", "'embeddings')");
  const Tensor values = table->to_f32();
  in->dim = values.size(1);
  std::vector<int64_t> map;
  if (mapping) {
    ENCORE_CHECK(mapping->dim() == 1, dir.string(), ": 'mapping' must be 1-D");
    const Tensor m = mapping->to_f32();
    for (int64_t i = 0; i < m.numel(); ++i) {
      const auto row = static_cast<int64_t>(m.data<float>()[i]);
      ENCORE_CHECK(row >= 0 && row < values.size(0), dir.string(), ": 'mapping' entry ", i, " = ", row,
                   " is outside the embeddings");
      map.push_back(row);
    }
  }
  in->rows = mapping ? static_cast<int64_t>(map.size()) : values.size(0);
  in->table.resize(static_cast<size_t>(in->rows * in->dim));
  for (int64_t r = 0; r < in->rows; ++r) {
    const float* src_row = values.data<float>() + (mapping ? map[static_cast<size_t>(r)] : r) * in->dim;
    std::copy(src_row, src_row + in->dim, in->table.begin() + r * in->dim);
  }
  if (weights) {
    ENCORE_CHECK(weights->dim() == 1 && weights->numel() == in->rows, dir.string(),
                 ": 'weights' must have one value per token");
    const Tensor w = weights->to_f32();
    for (int64_t r = 0; r < in->rows; ++r)
      for (int64_t k = 0; k < in->dim; ++k) in->table[r * in->dim + k] *= w.data<float>()[r];
  }
  in->description = "StaticEmbedding(" + std::to_string(in->rows) + "x" + std::to_string(in->dim) + ")";
  return in;
}

std::vector<Node> load_modules(const fs::path& dir, const EmbedderOptions& o, const json& entries);

// Parses a route_mappings key as Router.save writes it: str() of a (task, modality) tuple.
std::pair<std::optional<std::string>, std::optional<std::string>> parse_route_key(const std::string& key,
                                                                                  const fs::path& file) {
  std::vector<std::optional<std::string>> parts;
  size_t i = 0;
  auto skip = [&] {
    while (i < key.size() && (key[i] == ' ' || key[i] == ',' || key[i] == '(' || key[i] == ')')) ++i;
  };
  for (skip(); i < key.size(); skip()) {
    if (key.compare(i, 4, "None") == 0) {
      parts.push_back(std::nullopt);
      i += 4;
    } else if (key[i] == '\'' || key[i] == '"') {
      const size_t end = key.find(key[i], i + 1);
      ENCORE_CHECK(end != std::string::npos, file.string(), ": route_mappings key ", key,
                   " is not a (task, modality) tuple");
      parts.push_back(key.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      fail(file.string(), ": route_mappings key ", key, " is not a (task, modality) tuple");
    }
  }
  ENCORE_CHECK(parts.size() == 2, file.string(), ": route_mappings key ", key, " is not a (task, modality) tuple");
  return {parts[0], parts[1]};
}

std::shared_ptr<const Router> load_router(const fs::path& dir, const EmbedderOptions& o) {
  const fs::path file = fs::exists(dir / "router_config.json") ? dir / "router_config.json" : dir / "config.json";
  // In file order: without a default_route the first route is the default.
  nlohmann::ordered_json c;
  try {
    c = nlohmann::ordered_json::parse(std::ifstream(file));
  } catch (const std::exception& e) {
    fail(file.string(), ": invalid JSON: ", e.what());
  }
  ENCORE_CHECK(c.is_object(), file.string(), ": expected a JSON object");
  ENCORE_CHECK(c.contains("types") && c["types"].is_object() && c.contains("structure") && c["structure"].is_object(),
               file.string(), ": a Router config needs 'types' and 'structure'");
  auto router = std::make_shared<Router>();
  router->where = file.string();
  std::map<std::string, Node> modules;  // by model id: a module shared by routes is loaded once
  for (const auto& [id, type] : c["types"].items()) {
    ENCORE_CHECK(
        type.is_string() && !id.empty() && id.find("..") == std::string::npos && id.find('/') == std::string::npos,
        file.string(), ": bad module '", id, "'");
    const json entry = {{"path", id}, {"type", type.get<std::string>()}};
    modules[id] = load_modules(dir, o, json::array({entry})).front();
  }
  for (const auto& [route, ids] : c["structure"].items()) {
    ENCORE_CHECK(ids.is_array() && !ids.empty(), file.string(), ": route '", route, "' must list its modules");
    std::vector<Node> nodes;
    for (const auto& id : ids) {
      ENCORE_CHECK(id.is_string() && modules.count(id.get<std::string>()), file.string(), ": route '", route,
                   "' names an unknown module");
      nodes.push_back(modules[id.get<std::string>()]);
    }
    router->routes.emplace_back(route, std::move(nodes));
  }
  ENCORE_CHECK(!router->routes.empty(), file.string(), ": a Router needs at least one route");
  const nlohmann::ordered_json p = c.value("parameters", nlohmann::ordered_json::object());
  if (p.contains("default_route") && p["default_route"].is_string()) {
    router->default_route = p["default_route"].get<std::string>();
    (void)router->route(*router->default_route);  // must exist, as Router.__init__ checks
  } else if (p.value("allow_empty_key", true)) {
    router->default_route = router->routes.front().first;
  }
  if (p.contains("route_mappings") && p["route_mappings"].is_object())
    for (const auto& [key, route] : p["route_mappings"].items()) {
      ENCORE_CHECK(route.is_string(), file.string(), ": route_mappings values must be route names");
      auto [task, modality] = parse_route_key(key, file);
      (void)router->route(route.get<std::string>());
      router->mappings.push_back({task, modality, route.get<std::string>()});
    }
  return router;
}

// Loads the modules listed in `entries` (modules.json's format: path and type each).
std::vector<Node> load_modules(const fs::path& dir, const EmbedderOptions& o, const json& entries) {
  std::vector<Node> nodes;
  for (const json& e : entries) {
    ENCORE_CHECK(e.is_object() && e.contains("type") && e["type"].is_string(), (dir / "modules.json").string(),
                 ": every module needs a 'type'");
    const std::string path = e.value("path", std::string());
    ENCORE_CHECK(path.find("..") == std::string::npos && (path.empty() || path.front() != '/'),
                 (dir / "modules.json").string(), ": module path '", path, "' leaves the model directory");
    const fs::path where = path.empty() ? dir : dir / path;
    Node n;
    switch (st::module_kind(e["type"].get<std::string>(), (dir / "modules.json").string())) {
      case ModuleKind::Transformer:
        n.input = load_transformer(where, o);
        break;
      case ModuleKind::StaticEmbedding:
        n.input = load_static(where);
        break;
      case ModuleKind::Pooling:
        n.pooling = st::read_pooling(where);
        break;
      case ModuleKind::Router:
        n.router = load_router(where, o);
        break;
      case ModuleKind::Dense:
        n.row = st::load_row_module(ModuleKind::Dense, where);
        break;
      case ModuleKind::Normalize:
        n.row = st::load_row_module(ModuleKind::Normalize, where);
        break;
      case ModuleKind::LayerNorm:
        n.row = st::load_row_module(ModuleKind::LayerNorm, where);
        break;
      case ModuleKind::Dropout:
        n.row = st::load_row_module(ModuleKind::Dropout, where);
        break;
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

std::vector<Node> load_modules(const fs::path& dir, const EmbedderOptions& o) {
  const fs::path file = dir / "modules.json";
  if (!fs::exists(file)) {  // a plain Hugging Face model: Transformer + mean Pooling
    std::vector<Node> nodes(2);
    nodes[0].input = load_transformer(dir, o);
    nodes[1].pooling = st::PoolingConfig{{Pooling::Mean}, true};
    return nodes;
  }
  const json mods = read_json(file);
  ENCORE_CHECK(mods.is_array() && !mods.empty(), file.string(), ": expected a list of modules");
  return load_modules(dir, o, mods);
}

// Flattens the modules for `task`, checking that each reads what the one before it writes
// (where sentence-transformers would fail with a KeyError at the first encode).
void flatten(const std::vector<Node>& nodes, const std::string& task, Chain& chain) {
  for (const Node& n : nodes) {
    if (n.router) {
      const std::vector<Node>& route = n.router->resolve(task);
      for (const auto& [name, nodes] : n.router->routes)
        if (&nodes == &route)
          chain.routes += (chain.routes.empty() ? "" : "; ") + ("route " + name + " of " + n.router->names());
      flatten(route, task, chain);
    } else if (n.input) {
      ENCORE_CHECK(!chain.input, "modules.json: ", n.input->description, " follows another input module");
      chain.input = n.input.get();
    } else if (n.pooling) {
      ENCORE_CHECK(chain.input && chain.input->model && !chain.pooling,
                   "modules.json: Pooling needs token embeddings (a Transformer before it, and one Pooling)");
      chain.pooling = n.pooling;
    } else {
      ENCORE_CHECK(chain.input, "modules.json: the first module must read text (Transformer or StaticEmbedding), not ",
                   n.row->describe());
      const bool sentence = chain.pooling || !chain.input->model;
      if (n.row->feature() == st::Feature::Tokens) {
        ENCORE_CHECK(!sentence, "modules.json: ", n.row->describe(),
                     " needs token embeddings, but comes after Pooling");
        chain.token_modules.push_back(n.row.get());
      } else {
        ENCORE_CHECK(sentence, "modules.json: ", n.row->describe(),
                     " needs the sentence embedding, but comes before Pooling");
        chain.sentence_modules.push_back(n.row.get());
      }
    }
  }
}

// config_sentence_transformers.json's model-level settings.
struct ModelSettings {
  std::map<std::string, std::string> prompts;
  std::optional<std::string> default_prompt_name;
  std::string similarity = "cosine";
  int truncate_dim = 0;
};

ModelSettings read_settings(const fs::path& dir) {
  ModelSettings s;
  const fs::path file = dir / "config_sentence_transformers.json";
  if (!fs::exists(file)) return s;
  const json c = read_object(file);
  const std::string type = c.value("model_type", std::string("SentenceTransformer"));
  ENCORE_CHECK(type == "SentenceTransformer", file.string(), ": model_type '", type,
               "' is not a SentenceTransformer (encore embed runs dense sentence embedding models)");
  if (c.contains("prompts") && c["prompts"].is_object())
    for (const auto& [name, text] : c["prompts"].items())
      if (text.is_string()) s.prompts[name] = text.get<std::string>();
  if (c.contains("default_prompt_name") && c["default_prompt_name"].is_string()) {
    s.default_prompt_name = c["default_prompt_name"].get<std::string>();
    ENCORE_CHECK(s.prompts.count(*s.default_prompt_name), file.string(), ": default_prompt_name '",
                 *s.default_prompt_name, "' is not among the prompts");
  }
  // A name SentenceTransformer does not support (e.g. "maxsim") falls back to cosine, as
  // _parse_model_config ignores it.
  if (c.contains("similarity_fn_name") && c["similarity_fn_name"].is_string()) {
    const std::string name = c["similarity_fn_name"].get<std::string>();
    if (name == "cosine" || name == "dot" || name == "euclidean" || name == "manhattan") s.similarity = name;
  }
  s.truncate_dim = optional_length(c, "truncate_dim", dir);
  return s;
}

}  // namespace

struct Embedder::Impl {
  std::vector<Node> modules;
  ModelSettings settings;
  EmbedderOptions options;
  std::optional<Pooling> pooling_override;
  int truncate_dim = 0;
  std::vector<Pooling> default_pooling;  // for pooling()
  std::string directory;

  // The modules for `task`; without `final_normalize` a final Normalize module is left out.
  Chain chain(const std::string& task, bool final_normalize = true) const {
    Chain c;
    flatten(modules, task, c);
    ENCORE_CHECK(c.input, "modules.json: no Transformer or StaticEmbedding module");
    ENCORE_CHECK(c.pooling || !c.input->model,
                 "modules.json: no Pooling module after the Transformer, so there is no "
                 "sentence embedding");
    if (pooling_override && c.pooling) c.pooling->modes = {*pooling_override};
    // normalize=false: the chain's final Normalize is not run.
    if ((options.normalize == false || !final_normalize) && !c.sentence_modules.empty() &&
        c.sentence_modules.back()->normalizes())
      c.sentence_modules.pop_back();
    return c;
  }

  // encode()'s prompt: prompt, else prompts[prompt_name], else the task's prompt for
  // "query" / "document" (encode_query / encode_document), else default_prompt_name's.
  std::string prompt(const EmbedRequest& r) const {
    if (r.prompt) return *r.prompt;
    const auto& prompts = settings.prompts;
    if (r.prompt_name) {
      auto it = prompts.find(*r.prompt_name);
      if (it == prompts.end()) {
        std::string names;
        for (const auto& p : prompts) names += (names.empty() ? "" : ", ") + p.first;
        fail("prompt name '", *r.prompt_name, "' is not among the model's prompts (", names.empty() ? "none" : names,
             ")");
      }
      return it->second;
    }
    if ((r.task == "query" || r.task == "document") && prompts.count(r.task)) return prompts.at(r.task);
    if (settings.default_prompt_name) return prompts.at(*settings.default_prompt_name);
    return "";
  }

  int64_t width_after(const std::vector<const st::RowModule*>& mods, int64_t width) const {
    for (const st::RowModule* m : mods) width = m->out_dim(width);
    return width;
  }
  int64_t token_width(const Chain& c) const { return width_after(c.token_modules, c.input->width()); }
  int64_t sentence_width(const Chain& c) const {
    const int64_t pooled =
        c.pooling ? token_width(c) * static_cast<int64_t>(c.pooling->modes.size()) : c.input->width();
    return width_after(c.sentence_modules, pooled);
  }
};

namespace {

std::vector<float> run_rows(const std::vector<const st::RowModule*>& mods, std::vector<float> x, int64_t rows,
                            int64_t& width) {
  for (const st::RowModule* m : mods) {
    const int64_t out = m->out_dim(width);
    x = m->run(std::move(x), rows, width);
    width = out;
  }
  return x;
}

}  // namespace

Embedder Embedder::load(const std::string& name, const EmbedderOptions& o) {
  const fs::path dir = resolve_model_path(name);
  // A ColBERT model is no sentence embedding model (a Stanford checkpoint would otherwise load
  // as a BERT, and pooling its states gives numbers that mean nothing).
  ENCORE_CHECK(!ColBERT::is_colbert_directory(dir.string()), dir.string(),
               ": a ColBERT model: its vectors are per token (encore embed --multi-vector, encore::ColBERT), ",
               "not one sentence embedding");
  auto impl = std::make_shared<Impl>();
  impl->directory = dir.string();
  impl->options = o;
  impl->options.batch_size = std::max(1, o.batch_size);
  if (o.pooling) impl->pooling_override = pooling_from_name(*o.pooling);
  impl->modules = load_modules(dir, o);
  impl->settings = read_settings(dir);
  const Chain c = impl->chain("");
  ENCORE_CHECK(!impl->pooling_override || c.pooling, "--pooling: the model has no Pooling module");
  if (c.pooling) impl->default_pooling = c.pooling->modes;
  const int64_t full = impl->sentence_width(c);
  ENCORE_CHECK(o.dimensions >= 0 && o.dimensions <= full, "dimensions ", o.dimensions, " must be within 1..", full);
  impl->truncate_dim = o.dimensions > 0 ? o.dimensions : impl->settings.truncate_dim;
  Embedder e;
  e.impl_ = std::move(impl);
  return e;
}

namespace {

PreparedText prepare_text(const InputModule& in, const EmbedRequest& request, const std::string& prompt,
                          std::string_view text, bool truncate, TruncationSide side) {
  const std::string& task = request.task;
  std::string full = prompt;
  full.append(text);
  PreparedText p;
  if (!in.model) {  // StaticEmbedding.preprocess: no special tokens, the file's truncation
    EncodeOptions enc = in.tokenizer.config().defaults;
    enc.add_special_tokens = false;
    enc.padding = {};
    p.encoding = in.tokenizer.encode(full, enc);
    return p;
  }
  int length = in.max_length;
  if (task == "query" && in.query_length) length = in.query_length;
  if (task == "document" && in.document_length) length = in.document_length;
  if (request.max_length > 0) {
    ENCORE_CHECK(request.max_length <= in.model->config().max_length || in.model->config().max_length == 0,
                 "max_length ", request.max_length, " is more than the model's ", in.model->config().max_length,
                 " positions");
    length = request.max_length;
  }
  EncodeOptions enc;
  enc.truncation.strategy = TruncationStrategy::LongestFirst;
  enc.truncation.max_length = static_cast<size_t>(length);
  enc.truncation.side = side;
  // Transformer._get_prompt_length: the prompt alone, tokenized the same way, less a final
  // special token ([SEP]); so [CLS] counts as a prompt token.
  if (!prompt.empty()) {
    const Encoding e = in.tokenizer.encode(prompt, enc);
    p.prompt_tokens = static_cast<int64_t>(e.size());
    if (p.prompt_tokens > 0 && e.special_tokens_mask.back()) --p.prompt_tokens;
  }
  if (!truncate) enc.truncation.strategy = TruncationStrategy::None;
  p.encoding = in.tokenizer.encode(full, enc);
  return p;
}

}  // namespace

PreparedText Embedder::prepare(std::string_view text, const EmbedRequest& request, bool truncate,
                               TruncationSide side) const {
  return prepare_text(*impl_->chain(request.task).input, request, impl_->prompt(request), text, truncate, side);
}

std::vector<std::vector<float>> Embedder::run(const TokenBatch& batch, const std::vector<int64_t>& prompt_tokens,
                                              const std::string& task,
                                              std::vector<std::vector<float>>* token_embeddings,
                                              bool final_normalize) const {
  const Impl& m = *impl_;
  const Chain c = m.chain(task, final_normalize);
  const InputModule& in = *c.input;
  const int64_t B = static_cast<int64_t>(batch.ids.size());
  ENCORE_CHECK(prompt_tokens.empty() || prompt_tokens.size() == batch.ids.size(), "run: one prompt length per text");
  int64_t width = in.width();
  std::vector<float> sentences;
  const ThreadScope threads(m.options.threads);  // the modules after the Transformer too
  if (in.model) {
    Encoded out = in.model->encode(batch);
    const int64_t T = out.cu.back();
    // The final hidden states as they are, unless modules act on the token embeddings.
    std::vector<float> transformed;
    if (!c.token_modules.empty())
      transformed =
          run_rows(c.token_modules, {out.states.data<float>(), out.states.data<float>() + T * width}, T, width);
    const float* tokens = c.token_modules.empty() ? out.states.data<float>() : transformed.data();
    if (token_embeddings) {
      token_embeddings->resize(static_cast<size_t>(B));
      for (int64_t b = 0; b < B; ++b)
        (*token_embeddings)[b].assign(tokens + out.cu[b] * width, tokens + out.cu[b + 1] * width);
    }
    const st::PoolingConfig& pooling = *c.pooling;
    const int64_t P = width * static_cast<int64_t>(pooling.modes.size());
    sentences.resize(static_cast<size_t>(B * P));
    for (int64_t b = 0; b < B; ++b)
      st::pool(sentences.data() + b * P, tokens + out.cu[b] * width, out.cu[b + 1] - out.cu[b], width, pooling,
               prompt_tokens.empty() ? 0 : prompt_tokens[static_cast<size_t>(b)]);
    width = P;
  } else {  // nn.EmbeddingBag(mode="mean"): an empty bag gives zeros
    ENCORE_CHECK(!token_embeddings, "a StaticEmbedding model has no token embeddings");
    sentences.assign(static_cast<size_t>(B * width), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<int32_t>& ids = batch.ids[static_cast<size_t>(b)];
      float* out = sentences.data() + b * width;
      for (int32_t id : ids) {
        ENCORE_CHECK(id >= 0 && id < in.rows, "token id ", id, " is outside the StaticEmbedding's ", in.rows, " rows");
        for (int64_t k = 0; k < width; ++k) out[k] += in.table[static_cast<size_t>(id) * width + k];
      }
      if (!ids.empty())
        for (int64_t k = 0; k < width; ++k) out[k] /= static_cast<float>(ids.size());
    }
  }
  sentences = run_rows(c.sentence_modules, std::move(sentences), B, width);
  std::vector<std::vector<float>> result(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) result[b].assign(sentences.begin() + b * width, sentences.begin() + (b + 1) * width);
  return result;
}

void Embedder::finish(std::vector<float>& v) const {
  const Impl& m = *impl_;
  if (m.truncate_dim > 0 && static_cast<size_t>(m.truncate_dim) < v.size())
    v.resize(static_cast<size_t>(m.truncate_dim));
  if (m.options.normalize == true) l2_normalize(v);
}

std::vector<EmbedResult> Embedder::embed(const std::vector<std::string>& texts, const EmbedRequest& request) const {
  const Impl& m = *impl_;
  const InputModule& input = *m.chain(request.task).input;
  const std::string prompt = m.prompt(request);  // a prompt name the model lacks fails the call
  std::vector<EmbedResult> results(texts.size());
  ENCORE_CHECK(request.batch_size >= 0, "batch_size must be >= 0, not ", request.batch_size);
  const size_t step = static_cast<size_t>(request.batch_size > 0 ? request.batch_size : m.options.batch_size);
  for (size_t start = 0; start < texts.size(); start += step) {
    const size_t end = std::min(texts.size(), start + step);
    TokenBatch batch;
    std::vector<int64_t> prompts;
    std::vector<size_t> which;
    for (size_t i = start; i < end; ++i) {
      try {
        PreparedText p = prepare_text(input, request, prompt, texts[i], true, TruncationSide::Right);
        ENCORE_CHECK(!input.model || p.encoding.size() > 0,
                     "the text has no tokens (the tokenizer adds no special tokens)");
        results[i].truncated = p.encoding.truncated > 0;
        batch.ids.push_back(std::move(p.encoding.ids));
        batch.type_ids.push_back(std::move(p.encoding.type_ids));
        prompts.push_back(p.prompt_tokens);
        which.push_back(i);
      } catch (const Error& err) {
        results[i].error = err.what();
      }
    }
    if (which.empty()) continue;
    std::vector<std::vector<float>> out = run(batch, prompts, request.task);
    for (size_t k = 0; k < which.size(); ++k) {
      finish(out[k]);
      results[which[k]].embedding = std::move(out[k]);
    }
  }
  return results;
}

int64_t Embedder::full_dimensions() const {
  return impl_->sentence_width(impl_->chain(""));
}
int64_t Embedder::dimensions() const {
  const int64_t full = full_dimensions();
  return impl_->truncate_dim > 0 ? std::min<int64_t>(impl_->truncate_dim, full) : full;
}
int64_t Embedder::token_dimensions() const {
  const Chain c = impl_->chain("");
  return c.input->model ? impl_->token_width(c) : 0;
}
int Embedder::max_length() const {
  return impl_->chain("").input->max_length;
}
bool Embedder::has_normalize_module() const {
  Chain c;
  flatten(impl_->modules, "", c);
  return !c.sentence_modules.empty() && c.sentence_modules.back()->normalizes();
}
bool Embedder::normalizes() const {
  if (impl_->options.normalize) return *impl_->options.normalize;
  const Chain c = impl_->chain("");
  return impl_->truncate_dim == 0 && !c.sentence_modules.empty() && c.sentence_modules.back()->normalizes();
}
const std::vector<Pooling>& Embedder::pooling() const {
  return impl_->default_pooling;
}
const std::map<std::string, std::string>& Embedder::prompts() const {
  return impl_->settings.prompts;
}
const std::optional<std::string>& Embedder::default_prompt_name() const {
  return impl_->settings.default_prompt_name;
}
const std::string& Embedder::similarity_fn_name() const {
  return impl_->settings.similarity;
}

float Embedder::similarity(const std::vector<float>& a, const std::vector<float>& b) const {
  ENCORE_CHECK(a.size() == b.size(), "similarity of embeddings of ", a.size(), " and ", b.size(), " dimensions");
  const std::string& fn = impl_->settings.similarity;
  double acc = 0.0;
  if (fn == "cosine") {  // util.cos_sim: each normalized (norm clamped at 1e-12), then the dot product
    std::vector<float> x = a, y = b;
    l2_normalize(x), l2_normalize(y);
    for (size_t i = 0; i < x.size(); ++i) acc += static_cast<double>(x[i]) * y[i];
  } else if (fn == "dot") {
    for (size_t i = 0; i < a.size(); ++i) acc += static_cast<double>(a[i]) * b[i];
  } else if (fn == "euclidean") {
    for (size_t i = 0; i < a.size(); ++i)
      acc += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    acc = -std::sqrt(acc);
  } else {  // manhattan
    for (size_t i = 0; i < a.size(); ++i) acc += std::fabs(static_cast<double>(a[i]) - b[i]);
    acc = -acc;
  }
  return static_cast<float>(acc);
}

std::string Embedder::describe() const {
  const Chain c = impl_->chain("");
  std::string s = c.input->description;
  for (const st::RowModule* r : c.token_modules) s += " -> " + r->describe();
  if (c.pooling) {
    std::string modes;
    for (Pooling p : c.pooling->modes) modes += (modes.empty() ? "" : "+") + std::string(pooling_name(p));
    s += " -> Pooling(" + modes + (c.pooling->include_prompt ? "" : ", prompt excluded") + ")";
  }
  for (const st::RowModule* r : c.sentence_modules) s += " -> " + r->describe();
  return c.routes.empty() ? s : s + " [Router: " + c.routes + "]";
}

const Tokenizer& Embedder::tokenizer() const {
  return impl_->chain("").input->tokenizer;
}
const Model* Embedder::model() const {
  const InputModule* in = impl_->chain("").input;
  return in->model ? &*in->model : nullptr;
}

}  // namespace encore
