// encore classify: transformers' text-classification pipeline (and next-sentence prediction).
#include "cli.h"
#include "encore/classifier.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore classify --model DIR [TEXT ... | --input FILE] [--jsonl] [--pairs] [--top-k N | --all]\n"
    "                       [--function softmax|sigmoid|none] [--batch-size N] [--threads N]\n\n"
    "Classifies each TEXT argument, or each line of FILE ('-': stdin; stdin without either),\n"
    "with a BertForSequenceClassification model: labels from config.json id2label, scores as the\n"
    "transformers pipeline computes them (sigmoid for multi_label_classification or a single\n"
    "label, none for regression, else softmax). With --pairs every input is TEXT<TAB>TEXT_PAIR\n"
    "(a line without a TAB is an error). A next-sentence model (BertForNextSentencePrediction or\n"
    "BertForPreTraining) gives the labels is_next / not_next for such pairs.\n"
    "With --jsonl every input is a JSON object with the transformers pipeline's names:\n"
    "{\"text\": ...}, and with --pairs {\"text\": ..., \"text_pair\": ...}.\n"
    "Writes one JSON line per input: {\"labels\": [{\"label\": ..., \"score\": ...}, ...]} best first;\n"
    "an input that fails gets {\"error\": \"...\"} (on stderr: its line or argument number), the\n"
    "others still run, and the exit code is 1.\n"
    "  --top-k N   labels per input (default 1)     --all   every label\n\n"
    "example:\n"
    "  encore classify --model tests/fixtures/heads/sequence-classification/model --all \"This License is free.\"\n"
    "  printf 'The cat sat.\\tIt purred.\\n' |\n"
    "      encore classify --model tests/fixtures/heads/next-sentence/model --pairs";

ScoreFunction function_from_name(const std::string& s) {
  if (s == "softmax") return ScoreFunction::Softmax;
  if (s == "sigmoid") return ScoreFunction::Sigmoid;
  if (s == "none") return ScoreFunction::None;
  throw UsageError{"--function must be softmax, sigmoid or none, not '" + s + "'"};
}

int run_classify(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "top-k", "function"}), {"pairs", "all", "jsonl"});
  ClassifierOptions o;
  o.top_k = args.has("all") ? 0 : args.get_int("top-k", 1);
  if (args.has("all") && args.has("top-k")) throw UsageError{"--all and --top-k exclude each other"};
  if (o.top_k < 0 || (!args.has("all") && o.top_k == 0)) throw UsageError{"--top-k must be >= 1"};
  if (auto f = args.get("function")) o.function = function_from_name(*f);
  read_run_flags(args, o);
  const bool pairs = args.has("pairs");
  TextClassifier clf = TextClassifier::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, pairs ? InputShape::TextPair : InputShape::Text);
  auto results = with_input_errors(
      inputs, clf.classify(valid_field(inputs, 0), pairs ? valid_field(inputs, 1) : std::vector<std::string>{}));
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      write_error_line("classify", inputs.where(i), results[i].error);
      continue;
    }
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& l : results[i].labels) labels.push_back({{"label", l.label}, {"score", l.score}});
    write_json_line({{"labels", labels}});
  }
  return failed ? 1 : 0;
}

const bool registered = register_command(
    {"classify", "text classification / next-sentence prediction (transformers pipeline)", kUsage, &run_classify});

}  // namespace
}  // namespace encore::cli
