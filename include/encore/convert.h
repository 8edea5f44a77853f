// Checkpoint conversion between the layouts of one architecture family (docs/checkpoints.md):
// for BERT, transformers', Google's and PyTorch's; an architecture with one layout converts
// within it (e.g. pytorch_model.bin to model.safetensors).
//
//   to hf                 config.json + model.safetensors (HF names, Linear weights [out,in])
//                         + the tokenizer files of the source, and its sentence-transformers
//                         files unchanged (modules.json, the module directories, ...)
//   to google-safetensors bert_config.json + model.safetensors (Google's variable names,
//                         dense kernels [in,out]) + the tokenizer and sentence-transformers
//                         files
//   to torch              transformer_encoder.json + model.safetensors (nn.TransformerEncoder
//                         state_dict): the encoder layers only; a sentence-transformers
//                         source is refused unless drop_sentence_transformers (its modules
//                         would have no embeddings or tokenizer to follow)
//
// Tensors are renamed and transposed, never recomputed: a BERT source keeps its dtype and
// its bits. Task heads whose names have a counterpart (MLM, NSP, classifier, SQuAD) are
// renamed too. A PyTorch encoder has no embeddings, so it becomes a BERT directory only
// with encoder_only (the layers under BERT names; not loadable as a model on its own).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "encore/model.h"

namespace encore {

enum class ConvertTarget { HF, Google, Torch };
ConvertTarget convert_target_from_name(const std::string& name);  // "hf", "torch", "google-safetensors"
const char* convert_target_name(ConvertTarget t);

struct ConvertOptions {
  ConvertTarget to = ConvertTarget::HF;
  std::optional<Dialect> dialect;  // of the source; default: detected from its files
  std::string activation;          // overrides the source config's activation (e.g. "gelu_erf")
  bool encoder_only = false;       // torch -> BERT: write only the encoder layers
  // Leave out a sentence-transformers model's files (modules.json, its module directories,
  // ...); without it they are copied, and --to torch refuses such a model.
  bool drop_sentence_transformers = false;
  bool force = false;              // replace a non-empty destination directory
};

struct ConvertReport {
  Dialect from = Dialect::BertHF;
  ConvertTarget to = ConvertTarget::HF;
  size_t tensors = 0;               // tensors written
  std::vector<std::string> files;   // files written (names inside the destination)
  std::vector<std::string> notes;   // what was dropped or changed meaning, one line each
};

// Converts the model directory `src` into a new directory `dst`. The output is written to a
// temporary sibling and renamed into place, so a failure leaves nothing behind. Throws
// encore::Error (one line) for bad input: a missing or unrecognized source, a destination
// that exists and is not empty (unless force), or anything the target cannot express.
ConvertReport convert_checkpoint(const std::string& src, const std::string& dst, const ConvertOptions& options = {});

}  // namespace encore
