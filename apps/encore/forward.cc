// encore forward: reference-named tensors in, reference-named tensors out (safetensors).
#include <cstdio>

#include "cli.h"
#include "encore/model.h"
#include "encore/safetensors.h"
#include "io_util.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore forward --model DIR --input in.safetensors --output out.safetensors\n"
    "                      [--all-hidden] [--attentions] [--causal] [--threads N]\n"
    "                      [--dialect bert-hf|bert-google|torch|NAME] [--activation NAME]\n"
    "                      [--train --seed N] [--dtype f32|bf16|int8]\n\n"
    "Runs the model on inputs named like the reference forward arguments and writes outputs\n"
    "named like the reference outputs (F32; zeros at padded positions).\n"
    "  inputs  bert-hf:     input_ids, attention_mask ([B,S] or [B,S,S]), token_type_ids,\n"
    "                       position_ids, head_mask\n"
    "          bert-google: input_ids, input_mask, token_type_ids\n"
    "          torch:       src, mask, src_key_padding_mask (--causal for is_causal)\n"
    "  outputs bert-hf:     last_hidden_state, pooler_output, hidden_states.I, attentions.I\n"
    "          bert-google: sequence_output, pooled_output, embedding_output, all_encoder_layers.I\n"
    "          torch:       output, layers.I\n"
    "  other architectures (roberta, distilbert, ...; encore explain lists them): the inputs and\n"
    "          outputs of their transformers base model (RobertaModel, DistilBertModel, ...)\n"
    "  task heads (config.json architectures, else the head tensors present), as transformers names them:\n"
    "          BertForMaskedLM logits [B,S,V]; BertForPreTraining prediction_logits [B,S,V] +\n"
    "          seq_relationship_logits [B,2]; BertForNextSentencePrediction logits [B,2];\n"
    "          BertForSequenceClassification logits [B,labels]; BertForTokenClassification\n"
    "          logits [B,S,labels]; BertForQuestionAnswering start_logits, end_logits [B,S]\n\n"
    "example:\n"
    "  encore forward --model tests/fixtures/core/bert-hf-gelu-abs-h36/model \\\n"
    "      --input tests/fixtures/core/bert-hf-gelu-abs-h36/ragged.in.safetensors \\\n"
    "      --output /tmp/out.safetensors --all-hidden";

int run_forward(const std::vector<std::string>& argv) {
  Args args(argv, {"model", "input", "output", "threads", "dialect", "activation", "seed", "dtype"},
            {"all-hidden", "attentions", "causal", "train"});
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  LoadOptions lo;
  if (auto d = args.get("dialect")) lo.dialect = dialect_from_name(*d);
  lo.activation = args.get_or("activation", "");
  lo.dtype = dtype_flag(args);
  Model model = Model::load(args.require("model"), lo);
  TensorFile in = read_safetensors(args.require("input"));
  ForwardOptions fo;
  fo.all_hidden = args.has("all-hidden");
  fo.attentions = args.has("attentions");
  fo.causal = args.has("causal");
  fo.train = args.has("train");
  fo.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  fo.threads = args.get_int("threads", 0);
  if (fo.threads < 0) throw UsageError{"--threads must be >= 0"};
  TensorMap inputs(in.tensors.begin(), in.tensors.end());
  TensorMap out = model.forward(inputs, fo);
  std::vector<std::pair<std::string, Tensor>> ordered(out.begin(), out.end());
  write_safetensors(args.require("output"), ordered);
  return 0;
}

const bool registered = register_command(
    {"forward", "run a model on named input tensors (safetensors in, safetensors out)", kUsage, &run_forward});

}  // namespace
}  // namespace encore::cli
