// encore convert: a model directory to another dialect's layout (include/encore/convert.h).
#include <iostream>

#include "cli.h"
#include "encore/convert.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore convert SRC DST [--to hf|torch|google-safetensors] [--dialect bert-hf|bert-google|torch]\n"
    "                      [--activation NAME] [--encoder-only] [--drop-sentence-transformers] [--force]\n\n"
    "Writes the model directory SRC (any supported checkpoint format) as a new directory DST:\n"
    "  --to hf                  config.json + model.safetensors with HF names (default)\n"
    "  --to google-safetensors  bert_config.json + model.safetensors with Google's names\n"
    "  --to torch               transformer_encoder.json + model.safetensors: the encoder layers\n"
    "                           as nn.TransformerEncoder; what that layout cannot hold (embeddings,\n"
    "                           pooler, heads, config, tokenizer, sentence-transformers files) is\n"
    "                           kept in DST/encore_source/, so converting DST back restores the\n"
    "                           model with the encoder layers DST then holds\n"
    "Tensors are renamed and transposed, bits unchanged; task heads are renamed where both\n"
    "dialects name them; tokenizer files are copied. A sentence-transformers model keeps\n"
    "modules.json, its module directories (1_Pooling, ...) and configs unchanged unless\n"
    "--drop-sentence-transformers. A PyTorch encoder without encore_source/ has no embeddings,\n"
    "so it never becomes a loadable BERT directory: --encoder-only writes its layers under BERT\n"
    "names (not loadable on their own).\n"
    "--activation overrides the source's (Google's \"gelu\" is the tanh form; gelu_erf for\n"
    "checkpoints trained with erf). DST must not exist or be empty; --force replaces it.\n\n"
    "example:\n"
    "  encore convert tests/fixtures/formats/bert-google-ckpt /tmp/bert-hf --activation gelu_erf";

int run_convert(const std::vector<std::string>& argv) {
  Args args(argv, {"to", "dialect", "activation"}, {"encoder-only", "drop-sentence-transformers", "force"});
  const auto& pos = args.positional();
  if (pos.size() != 2) throw UsageError{"expected SRC and DST"};
  ConvertOptions o;
  try {
    o.to = convert_target_from_name(args.get_or("to", "hf"));
    if (auto d = args.get("dialect")) o.dialect = dialect_from_name(*d);
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  o.activation = args.get_or("activation", "");
  o.encoder_only = args.has("encoder-only");
  o.drop_sentence_transformers = args.has("drop-sentence-transformers");
  o.force = args.has("force");
  const ConvertReport r = convert_checkpoint(pos[0], pos[1], o);
  std::cout << dialect_name(r.from) << " -> " << convert_target_name(r.to) << ": " << r.tensors << " tensors, ";
  for (size_t i = 0; i < r.files.size(); ++i) std::cout << (i ? " " : "") << r.files[i];
  std::cout << " in " << pos[1] << "\n";
  for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
  return 0;
}

const bool registered = register_command(
    {"convert", "write a model directory in another dialect's layout (hf, torch, google-safetensors)", kUsage,
     &run_convert});

}  // namespace
}  // namespace encore::cli
