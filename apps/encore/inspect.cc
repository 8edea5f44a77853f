// encore inspect: what a model directory holds and the op sequence its spec produces.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli.h"
#include "encore/embedder.h"
#include "encore/explain.h"
#include "encore/model.h"
#include "encore/model_path.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore inspect --model DIR [--dialect bert-hf|bert-google|torch|NAME] [--activation NAME]\n\n"
    "Prints the architecture (the dialect: bert-hf, bert-google, torch, or another record that\n"
    "encore explain lists), config, parameter count, task head and the operations of one encoder layer; for\n"
    "a sentence-transformers directory first its module chain (the default route's model).\n\n"
    "example:\n"
    "  encore inspect --model models/all-MiniLM-L6-v2";

void print_positions(const ModelConfig& c) {
  const RelativePositions r = c.layer.attention.relative;
  std::string pos = r == RelativePositions::Key        ? "relative_key"
                    : r == RelativePositions::KeyQuery ? "relative_key_query"
                                                       : "absolute";
  if (r == RelativePositions::Bucket) pos = "absolute + relative bucket bias";
  if (r == RelativePositions::None && !c.absolute_positions) pos = "rotary (in the attention of every layer)";
  if (c.positions_from_ids)
    pos += ", numbered from the ids (padding_idx " + std::to_string(c.padding_idx) + ", longest sequence " +
           std::to_string(c.max_length) + ")";
  std::printf("positions:    %s\n", pos.c_str());
}

int run_inspect(const std::vector<std::string>& argv) {
  Args args(argv, {"model", "dialect", "activation"}, {});
  LoadOptions lo;
  if (auto d = args.get("dialect")) lo.dialect = dialect_from_name(*d);
  lo.activation = args.get_or("activation", "");
  const std::string dir = resolve_model_path(args.require("model"));
  std::optional<Embedder> embedder;
  std::optional<Model> loaded;
  if (std::filesystem::exists(std::filesystem::path(dir) / "modules.json") && !lo.dialect && lo.activation.empty()) {
    embedder = Embedder::load(dir);
    std::printf("modules:      %s\n", embedder->describe().c_str());
    std::printf("dimensions:   %lld%s, similarity %s\n", static_cast<long long>(embedder->dimensions()),
                embedder->normalizes() ? " (unit length)" : "", embedder->similarity_fn_name().c_str());
    for (const auto& [name, prompt] : embedder->prompts())
      std::printf("prompt:       %s = \"%s\"%s\n", name.c_str(), prompt.c_str(),
                  embedder->default_prompt_name() == name ? " (default)" : "");
    if (!embedder->model()) return 0;  // a StaticEmbedding model: no encoder
  } else {
    loaded = Model::load(dir, lo);
  }
  const Model& model = embedder ? *embedder->model() : *loaded;
  const ModelConfig& c = model.config();
  std::printf("model:        %s\n", model.directory().c_str());
  std::printf("dialect:      %s\n", dialect_name(c.dialect));
  std::printf("reference:    %s\n", dialect_reference(c.dialect).c_str());
  std::printf("layers:       %lld\n", static_cast<long long>(c.layers));
  std::printf("hidden:       %lld (heads %lld x %lld)\n", static_cast<long long>(c.hidden),
              static_cast<long long>(c.heads), static_cast<long long>(c.hidden / c.heads));
  std::printf("intermediate: %lld\n", static_cast<long long>(c.intermediate));
  if (c.vocab_size > 0) {  // token embeddings: every architecture but the PyTorch encoder
    std::printf("vocab:        %lld, max positions %lld, token types %lld\n", static_cast<long long>(c.vocab_size),
                static_cast<long long>(c.max_positions), static_cast<long long>(c.type_vocab_size));
    if (c.embedding_size != c.hidden)
      std::printf("embeddings:   %lld wide, projected to %lld\n", static_cast<long long>(c.embedding_size),
                  static_cast<long long>(c.hidden));
    print_positions(c);
    std::printf("pooler:       %s\n", c.has_pooler ? "yes" : "no");
    if (c.head.kind != TaskHead::None) std::printf("head:         %s\n", c.head.class_name.c_str());
  } else {
    std::printf("batch_first:  %s, final norm: %s\n", c.batch_first ? "true" : "false",
                c.final_norm ? "yes" : "no");
  }
  std::printf("parameters:   %lld\n", static_cast<long long>(model.parameter_count()));
  // Layer 0's operations, then those of each later layer that computes otherwise than the
  // one before it (ModernBERT's local and global attention).
  std::vector<std::string> previous;
  for (int64_t layer = 0; layer < std::max<int64_t>(1, c.layers); ++layer) {
    const std::vector<std::string> ops = model.layer_ops(layer);
    if (layer > 0 && ops == previous) continue;
    if (layer == 0)
      std::printf("\none encoder layer%s:\n", c.layers > 1 ? " (layer 0)" : "");
    else
      std::printf("\nlayer %lld, and the layers after it until the next listed:\n", static_cast<long long>(layer));
    int i = 1;
    for (const auto& op : ops) std::printf("  %2d. %s\n", i++, op.c_str());
    previous = ops;
  }
  return 0;
}

const bool registered = register_command(
    {"inspect", "print a model's dialect, config, parameters and layer op sequence", kUsage, &run_inspect});

}  // namespace
}  // namespace encore::cli
