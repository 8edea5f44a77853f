// encore rerank: sentence-transformers CrossEncoder.rank.
#include "cli.h"
#include "encore/reranker.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore rerank --model DIR [QUERY<TAB>DOC<TAB>DOC... ...] [--input FILE] [--raw-scores]\n"
    "                     [--max-length N] [--batch-size N] [--threads N]\n\n"
    "Ranks documents for a query with a cross-encoder (BertForSequenceClassification, one label),\n"
    "as sentence-transformers CrossEncoder.rank does: each (query, document) pair is scored,\n"
    "sigmoid of the logit (unless config.json sentence_transformers.activation_fn is Identity,\n"
    "or --raw-scores). Each input (an argument, or a line of FILE or of stdin) is a query and its\n"
    "documents separated by tabs. Writes one JSON line per input:\n"
    "  {\"ranking\": [{\"corpus_id\": index of the document, \"score\": ...}, ...best first]}\n"
    "An input that fails gets {\"error\": ...}; the others still run and the exit code is 1.\n\n"
    "example:\n"
    "  printf 'free software\\tThe GNU GPL is a free license.\\tThe weather is nice.\\n' |\n"
    "      encore rerank --model tests/fixtures/heads/cross-encoder/model";

int run_rerank(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "max-length"}), {"raw-scores"});
  RerankerOptions o;
  o.max_length = args.get_int("max-length", 0);
  o.raw_scores = args.has("raw-scores");
  read_run_flags(args, o);
  if (o.max_length < 0) throw UsageError{"--max-length must be >= 0"};
  std::vector<std::string> lines = read_inputs(args);
  Reranker rr = Reranker::load(args.require("model"), o);
  size_t failed = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    size_t at = 0;
    for (size_t tab; (tab = lines[i].find('\t', at)) != std::string::npos; at = tab + 1)
      fields.push_back(lines[i].substr(at, tab - at));
    fields.push_back(lines[i].substr(at));
    if (fields.size() < 2) {
      ++failed;
      write_error_line("rerank", i, "expected QUERY<TAB>DOCUMENT[<TAB>DOCUMENT...]");
      continue;
    }
    RerankResult r = rr.rank(fields[0], std::vector<std::string>(fields.begin() + 1, fields.end()));
    if (!r.error.empty()) {
      ++failed;
      write_error_line("rerank", i, r.error);
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : r.ranking) list.push_back({{"corpus_id", d.index}, {"score", d.score}});
    write_json_line({{"ranking", list}});
  }
  return failed ? 1 : 0;
}

const bool registered =
    register_command({"rerank", "rank documents for a query with a cross-encoder (sentence-transformers)", kUsage,
                      &run_rerank});

}  // namespace
}  // namespace encore::cli
