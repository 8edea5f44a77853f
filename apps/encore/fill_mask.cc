// encore fill-mask: transformers' fill-mask pipeline.
#include "cli.h"
#include "encore/fill_mask.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore fill-mask --model DIR [TEXT ... | --input FILE] [--jsonl] [--top-k N] [--batch-size N]\n"
    "                        [--threads N]\n\n"
    "Predicts the token at every mask token ([MASK]) of each TEXT argument, or each line of FILE\n"
    "('-': stdin; stdin without either), with a BertForMaskedLM / BertForPreTraining model, as the\n"
    "transformers fill-mask pipeline does. With --jsonl every input is a JSON object\n"
    "{\"text\": ...}. Writes one JSON line per input:\n"
    "  {\"masks\": [[{\"score\", \"token\", \"token_str\", \"sequence\"}, ...top-k], ...one list per mask]}\n"
    "A text without a mask token gets {\"error\": \"No mask_token ([MASK]) found on the input\"} (on\n"
    "stderr: its line or argument number); the others still run and the exit code is 1.\n"
    "  --top-k N   candidates per mask (default 5)\n\n"
    "example:\n"
    "  encore fill-mask --model tests/fixtures/heads/masked-lm/model \"the gnu general public [MASK]\"";

int run_fill_mask(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "top-k"}), {"jsonl"});
  FillMaskOptions o;
  o.top_k = args.get_int("top-k", 5);
  read_run_flags(args, o);
  if (o.top_k < 1) throw UsageError{"--top-k must be >= 1"};
  FillMask fm = FillMask::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  auto results = with_input_errors(inputs, fm.fill(valid_field(inputs, 0)));
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      write_error_line("fill-mask", inputs.where(i), results[i].error);
      continue;
    }
    nlohmann::json masks = nlohmann::json::array();
    for (const auto& preds : results[i].masks) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : preds)
        list.push_back({{"score", p.score}, {"token", p.token}, {"token_str", p.token_str}, {"sequence", p.sequence}});
      masks.push_back(list);
    }
    write_json_line({{"masks", masks}});
  }
  return failed ? 1 : 0;
}

const bool registered =
    register_command({"fill-mask", "predict masked tokens (transformers fill-mask pipeline)", kUsage, &run_fill_mask});

}  // namespace
}  // namespace encore::cli
