// encore rerank: sentence-transformers CrossEncoder.rank.
#include "cli.h"
#include "encore/multi_vector.h"
#include "encore/reranker.h"
#include "io_util.h"
#include "task_output.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore rerank --model DIR [QUERY<TAB>DOC<TAB>DOC... ... | --input FILE] [--jsonl] [--top-k N]\n"
    "                     [--raw-scores] [--max-length N] [--batch-size N] [--threads N]\n"
    "       encore rerank --maxsim --model DIR [inputs as above] [--jsonl] [--top-k N] [--batch-size N] [--threads N]\n\n"
    "Ranks documents for a query with a cross-encoder (BertForSequenceClassification, one label),\n"
    "as sentence-transformers CrossEncoder.rank does: each (query, document) pair is scored,\n"
    "sigmoid of the logit (unless config.json sentence_transformers.activation_fn is Identity,\n"
    "or --raw-scores). Each input (an argument, or a line of FILE; FILE '-' or no input at all:\n"
    "stdin) is a query and its documents separated by tabs, or with --jsonl a JSON object with\n"
    "CrossEncoder.rank's names: {\"query\": ..., \"documents\": [...]} (TEI's /rerank calls the\n"
    "documents \"texts\"). Writes one JSON line per input:\n"
    "  {\"ranking\": [{\"corpus_id\": index of the document, \"score\": ...}, ...best first]}\n"
    "An input that fails (a line without a TAB, invalid JSON, ...) gets {\"error\": ...} and is\n"
    "named on stderr by its line or argument number; the others still run and the exit code is 1.\n"
    "  --top-k N   keep the N best documents of each query (default 0: all)\n"
    "  --maxsim    DIR is a PyLate ColBERT model: the query and the documents are encoded as\n"
    "              ColBERT.encode(is_query=True / False) does and each document's score is MaxSim\n"
    "              (the sum over the query's token vectors of the best dot product with the\n"
    "              document's), as pylate.scores.colbert_scores of the pair\n\n"
    "example:\n"
    "  printf 'free software\\tThe GNU GPL is a free license.\\tThe weather is nice.\\n' |\n"
    "      encore rerank --model tests/fixtures/heads/cross-encoder/model --top-k 1";

// One JSON line per input, {"ranking": [{"corpus_id", "score"}, ...]} or {"error": ...} (named
// on stderr too); the exit code: 1 if any input failed.
int write_rankings(const Inputs& inputs, std::vector<RerankResult> ranked) {
  const auto results = with_input_errors(inputs, std::move(ranked));
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      write_error_line("rerank", inputs.where(i), results[i].error);
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : results[i].ranking) list.push_back({{"corpus_id", d.index}, {"score", d.score}});
    write_json_line({{"ranking", list}});
  }
  return failed ? 1 : 0;
}

// --maxsim: late interaction with a ColBERT model.
int run_maxsim(const Args& args) {
  for (const char* flag : {"max-length", "raw-scores"})
    if (args.has(flag)) throw UsageError{std::string("--") + flag + " does not apply to --maxsim"};
  ColBERTOptions o;
  read_run_flags(args, o);
  const int top_k = args.get_int("top-k", 0);
  if (top_k < 0) throw UsageError{"--top-k must be >= 0"};
  const ColBERT model = ColBERT::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::QueryDocuments);
  std::vector<RerankResult> ranked;
  for (const Input* in : valid_inputs(inputs)) {
    RerankResult r;
    const MultiVector query = model.encode({in->fields[0]}, true)[0];
    const std::vector<MultiVector> docs =
        model.encode(std::vector<std::string>(in->fields.begin() + 1, in->fields.end()), false);
    for (size_t d = 0; d < docs.size() && r.error.empty(); ++d) {
      if (!query.error.empty() || !docs[d].error.empty()) r.error = query.error.empty() ? docs[d].error : query.error;
      else r.ranking.push_back({d, maxsim(query, docs[d])});
    }
    if (!r.error.empty()) r.ranking.clear();
    std::stable_sort(r.ranking.begin(), r.ranking.end(),
                     [](const RankedDocument& a, const RankedDocument& b) { return a.score > b.score; });
    if (top_k > 0 && r.ranking.size() > static_cast<size_t>(top_k)) r.ranking.resize(static_cast<size_t>(top_k));
    ranked.push_back(std::move(r));
  }
  return write_rankings(inputs, std::move(ranked));
}

int run_rerank(const std::vector<std::string>& argv) {
  Args args(argv, with_run_flags({"model", "input", "max-length", "top-k"}), {"raw-scores", "jsonl", "maxsim"});
  if (args.has("maxsim")) return run_maxsim(args);
  RerankerOptions o;
  o.max_length = args.get_int("max-length", 0);
  o.top_k = args.get_int("top-k", 0);
  o.raw_scores = args.has("raw-scores");
  read_run_flags(args, o);
  if (o.max_length < 0) throw UsageError{"--max-length must be >= 0"};
  if (o.top_k < 0) throw UsageError{"--top-k must be >= 0"};
  Reranker rr = Reranker::load(args.require("model"), o);
  ENCORE_CHECK(rr.num_labels() == 1, args.require("model"), ": a cross-encoder for ranking has one label; this model has ",
               rr.num_labels(), " (encore classify scores every label of a pair)");
  const Inputs inputs = read_inputs(args, InputShape::QueryDocuments);
  std::vector<RerankResult> ranked;
  for (const Input* in : valid_inputs(inputs))
    ranked.push_back(rr.rank(in->fields[0], std::vector<std::string>(in->fields.begin() + 1, in->fields.end())));
  return write_rankings(inputs, std::move(ranked));
}

const bool registered =
    register_command({"rerank", "rank documents for a query with a cross-encoder (sentence-transformers)", kUsage,
                      &run_rerank});

}  // namespace
}  // namespace encore::cli
