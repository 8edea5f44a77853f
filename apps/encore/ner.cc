// encore ner: transformers' token-classification pipeline.
#include "cli.h"
#include "encore/token_classifier.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore ner --model DIR [TEXT ... | --input FILE] [--jsonl]\n"
    "                  [--aggregation none|simple|first|average|max] [--batch-size N] [--threads N]\n\n"
    "Labels the tokens of each TEXT argument, or each line of FILE ('-': stdin; stdin without\n"
    "either), with a BertForTokenClassification model, as the transformers token-classification\n"
    "pipeline does: labels \"O\" dropped; with an aggregation other than none, B-/I- tokens grouped\n"
    "into entities. With --jsonl every input is a JSON object {\"text\": ...}.\n"
    "Writes one JSON line per input: {\"entities\": [{\"entity\" (none) or \"entity_group\", \"score\",\n"
    "\"index\" (none only), \"word\", \"start\", \"end\"}, ...]}; start/end count characters (code\n"
    "points) of the text. An input that fails gets {\"error\": ...} (on stderr: its line or\n"
    "argument number); the others still run and the exit code is then 1.\n\n"
    "example:\n"
    "  encore ner --model tests/fixtures/heads/token-classification/model --aggregation simple \\\n"
    "      \"The Free Software Foundation, Inc. <https://fsf.org/>\"";

int run_ner(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "aggregation"}), {"jsonl"});
  TokenClassifierOptions o;
  const std::string agg = args.get_or("aggregation", "none");
  try {
    o.aggregation = aggregation_from_name(agg);
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  read_run_flags(args, o);
  TokenClassifier ner = TokenClassifier::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  auto results = with_input_errors(inputs, ner.classify(valid_field(inputs, 0)));
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      write_error_line("ner", inputs.where(i), results[i].error);
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : results[i].entities) {
      nlohmann::json j = {{o.aggregation == Aggregation::None ? "entity" : "entity_group", e.label},
                          {"score", e.score}, {"word", e.word}, {"start", e.start}, {"end", e.end}};
      if (o.aggregation == Aggregation::None) j["index"] = e.index;
      list.push_back(j);
    }
    write_json_line({{"entities", list}});
  }
  return failed ? 1 : 0;
}

const bool registered =
    register_command({"ner", "token classification / named entities (transformers pipeline)", kUsage, &run_ner});

}  // namespace
}  // namespace encore::cli
