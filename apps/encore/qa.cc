// encore qa: transformers' question-answering pipeline.
#include "cli.h"
#include "encore/question_answerer.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore qa --model DIR [QUESTION<TAB>CONTEXT ... | --input FILE] [--jsonl] [--top-k N]\n"
    "                 [--max-answer-len N] [--max-seq-len N] [--doc-stride N] [--handle-impossible-answer]\n"
    "                 [--batch-size N] [--threads N]\n\n"
    "Answers each input, QUESTION<TAB>CONTEXT (an argument, or a line of FILE; FILE '-' or no\n"
    "input at all: stdin), with a BertForQuestionAnswering model, as the transformers\n"
    "question-answering pipeline does: spans of context tokens only, start <= end, at most\n"
    "--max-answer-len tokens (default 15), long contexts in windows of --max-seq-len tokens\n"
    "(default min(model_max_length, 384)) overlapping by --doc-stride (default\n"
    "min(max_seq_len/2, 128)), score = P(start) x P(end), answers widened to whole words.\n"
    "With --jsonl every input is a JSON object with the pipeline's names:\n"
    "{\"question\": ..., \"context\": ...}. Writes one JSON line per input:\n"
    "  {\"answers\": [{\"score\", \"start\", \"end\", \"answer\"}, ...top-k]}  (start/end: characters of CONTEXT)\n"
    "An input that fails (a line without a TAB, invalid JSON, ...) gets {\"error\": ...} and is\n"
    "named on stderr by its line or argument number; the others still run and the exit code is 1.\n\n"
    "example:\n"
    "  printf 'Who publishes the license?\\tThe Free Software Foundation publishes the GNU GPL.\\n' |\n"
    "      encore qa --model tests/fixtures/heads/question-answering/model --top-k 3";

int run_qa(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "top-k", "max-answer-len", "max-seq-len", "doc-stride"}),
            {"handle-impossible-answer", "jsonl"});
  QuestionAnswererOptions o;
  o.top_k = args.get_int("top-k", 1);
  o.max_answer_len = args.get_int("max-answer-len", 15);
  o.max_seq_len = args.get_int("max-seq-len", 0);
  o.doc_stride = args.get_int("doc-stride", 0);
  o.handle_impossible_answer = args.has("handle-impossible-answer");
  read_run_flags(args, o);
  if (o.top_k < 1 || o.max_answer_len < 1 || o.max_seq_len < 0 || o.doc_stride < 0)
    throw UsageError{"--top-k and --max-answer-len must be >= 1; --max-seq-len and --doc-stride >= 0"};
  QuestionAnswerer qa = QuestionAnswerer::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::QuestionContext);
  auto results = with_input_errors(inputs, qa.answer(valid_field(inputs, 0), valid_field(inputs, 1)));
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      write_error_line("qa", inputs.where(i), results[i].error);
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : results[i].answers)
      list.push_back({{"score", a.score}, {"start", a.start}, {"end", a.end}, {"answer", a.answer}});
    write_json_line({{"answers", list}});
  }
  return failed ? 1 : 0;
}

const bool registered =
    register_command({"qa", "extractive question answering (transformers pipeline)", kUsage, &run_qa});

}  // namespace
}  // namespace encore::cli
