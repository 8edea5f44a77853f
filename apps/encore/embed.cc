// encore embed: sentence embeddings as sentence-transformers computes them.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli.h"
#include "encore/bge_m3.h"
#include "encore/embedder.h"
#include "encore/multi_vector.h"
#include "encore/sparse_encoder.h"
#include "io_util.h"

namespace encore::cli {
namespace {

const char* kUsage =
    "usage: encore embed --model DIR [TEXT ... | --input FILE] [--jsonl] [--output FILE.npy|FILE.jsonl|-]\n"
    "                    [--prompt-name NAME | --prompt TEXT] [--task query|document|ROUTE]\n"
    "                    [--pooling MODE] [--normalize|--no-normalize] [--dimensions N]\n"
    "                    [--max-length N] [--batch-size N] [--threads N] [--dtype f32|bf16|int8]\n"
    "       encore embed --sparse --model DIR [TEXT ... | --input FILE] [--jsonl] [--output FILE.jsonl|-]\n"
    "                    [--max-active-dims N] [--max-length N] [--batch-size N] [--threads N] [--dtype ...]\n"
    "       encore embed --multi-vector --query|--document --model DIR [TEXT ... | --input FILE] [--jsonl]\n"
    "                    [--output FILE.jsonl|-] [--batch-size N] [--threads N] [--dtype ...]\n"
    "       encore embed --bge-m3 --model DIR [TEXT ... | --input FILE] [--jsonl] [--output FILE.jsonl|-]\n"
    "                    [--max-length N] [--no-normalize] [--fp16-weights] [--batch-size N] [--threads N]\n\n"
    "Embeds each TEXT argument, or each line of FILE ('-': stdin; stdin without either), as\n"
    "sentence-transformers' SentenceTransformer(DIR).encode(texts) does; with --jsonl every\n"
    "input is a JSON object {\"text\": ...}. DIR is a model directory or a Hugging Face id\n"
    "(ORG/NAME) in the local Hugging Face cache. Writes one JSON line per input,\n"
    "{\"embedding\": [...]}, in input order (stdout, or --output FILE; '-': stdout), or a float32\n"
    "NumPy array [inputs, dimensions] with --output FILE.npy. An input that fails gets\n"
    "{\"error\": \"...\"} (a zero row in .npy; on stderr: its line or argument number), the rest\n"
    "still run, and the exit code is 1.\n"
    "Every module of modules.json runs (Transformer, StaticEmbedding, Pooling, Dense, Normalize,\n"
    "LayerNorm, Router/Asym); a module encore cannot run is an error, never skipped.\n"
    "(`encore tokenize` truncates as tokenizer.json says instead: all-MiniLM-L6-v2 embeds 256\n"
    "tokens, max_seq_length, where tokenize keeps 128; see its --help.)\n"
    "  --prompt-name  a prompt of config_sentence_transformers.json (default: its default_prompt_name)\n"
    "  --prompt       a literal prompt put before each text (wins over --prompt-name)\n"
    "  --task         the route of a Router/Asym module; query and document also pick that\n"
    "                 prompt when none is given (encode_query / encode_document)\n"
    "  --pooling      override the Pooling module: cls | mean | max | mean_sqrt_len_tokens |\n"
    "                 weightedmean | lasttoken\n"
    "  --dimensions   keep the first N dimensions (truncate_dim; no renormalization)\n"
    "  --normalize    unit-length output, after --dimensions (normalize_embeddings=True)\n"
    "  --no-normalize skip the model's final Normalize module\n"
    "  --max-length   tokens per text, special tokens included (default: the model's\n"
    "                 max_seq_length; longer texts are truncated with a warning)\n"
    "  --sparse       SPLADE: sentence-transformers' SparseEncoder(DIR).encode(texts) (MLMTransformer +\n"
    "                 SpladePooling, or a masked-LM model with SpladePooling's defaults): one line per\n"
    "                 input, {\"sparse_embedding\": [{\"index\": vocabulary id, \"value\": weight}, ...]},\n"
    "                 the non-zero weights by index ascending\n"
    "  --max-active-dims  with --sparse: keep each text's N largest weights (default: all)\n"
    "  --multi-vector ColBERT: PyLate's ColBERT(DIR).encode(texts, is_query=...): one line per input,\n"
    "                 {\"multi_vector\": [[...] per kept token], \"token_ids\": [...]}, the L2-normalized\n"
    "                 token vectors; --query or --document says which (they are encoded differently:\n"
    "                 [Q]/[D] prefix, [MASK] expansion of queries, punctuation dropped from documents)\n"
    "  --bge-m3       bge-m3's three outputs in one pass, as FlagEmbedding's BGEM3FlagModel(DIR,\n"
    "                 use_fp16=False).encode(texts, return_dense=True, return_sparse=True,\n"
    "                 return_colbert_vecs=True): {\"dense\": [...], \"sparse\": [{\"index\", \"value\"},\n"
    "                 ...], \"colbert\": [[...] per token after <s>]}; DIR holds colbert_linear.pt and\n"
    "                 sparse_linear.pt; --max-length defaults to FlagEmbedding's 512; --fp16-weights\n"
    "                 rounds every weight to float16 first, as FlagEmbedding's default use_fp16=True\n"
    "                 does on the CPU\n\n"
    "example:\n"
    "  encore embed --model models/all-MiniLM-L6-v2 \"The quick brown fox\" \"A fast auburn fox\"";

// The checks every mode but plain embedding shares: the flags of plain embedding that do
// not apply (`mode` names it in the message), and JSON lines only.
void check_mode_flags(const Args& args, const char* mode, std::initializer_list<const char*> not_here) {
  for (const char* flag : not_here)
    if (args.has(flag)) throw UsageError{std::string("--") + flag + " does not apply to --" + mode};
  const std::string output = args.get_or("output", "");
  if (output.size() > 4 && output.substr(output.size() - 4) == ".npy")
    throw UsageError{std::string("--") + mode + " writes JSON lines, not .npy"};
}

// One JSON line per input, in input order: {"error": ...} for a failed one (named on stderr
// too), else what `format` appends for its result. Returns the exit code: 1 if any failed.
template <class Result, class Format>
int write_lines(const Args& args, const Inputs& inputs, const std::vector<Result>& results, Format&& format) {
  std::ofstream file;
  std::ostream& os = output_stream(args, file);
  size_t failed = 0;
  std::string line;
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    if (!r.error.empty()) {
      ++failed;
      std::fprintf(stderr, "encore embed: %s: %s\n", inputs.where(i).c_str(), r.error.c_str());
      os << "{\"error\":" << json_string(r.error) << "}\n";
      continue;
    }
    line.clear();
    format(line, r);
    os << line << "\n";
  }
  return failed ? 1 : 0;
}

void append_rows(std::string& line, const MultiVector& v) {
  line += '[';
  for (int64_t k = 0; k < v.rows; ++k) {
    if (k) line += ',';
    append_float_array(line, v.row(k), static_cast<size_t>(v.dim));
  }
  line += ']';
}

// --sparse: SparseEncoder.encode.
int run_sparse(const Args& args) {
  check_mode_flags(args, "sparse", {"pooling", "dimensions", "prompt-name", "prompt", "task", "normalize", "no-normalize"});
  SparseEncoderOptions o;
  o.max_length = args.get_int("max-length", 0);
  o.max_active_dims = args.get_int("max-active-dims", 0);
  read_run_flags(args, o);
  if (o.max_length < 0 || o.max_active_dims < 0) throw UsageError{"--max-length and --max-active-dims must be >= 0"};
  const SparseEncoder encoder = SparseEncoder::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  return write_lines(args, inputs, with_input_errors(inputs, encoder.encode(valid_field(inputs, 0))),
                     [](std::string& line, const SparseEmbedding& r) {
                       line += "{\"sparse_embedding\":";
                       append_sparse(line, r.indices.data(), r.values.data(), r.indices.size());
                       line += '}';
                     });
}

// --multi-vector: ColBERT.encode.
int run_multi_vector(const Args& args) {
  check_mode_flags(args, "multi-vector", {"pooling", "dimensions", "prompt-name", "prompt", "task", "normalize",
                                          "no-normalize", "max-active-dims", "max-length", "sparse"});
  if (args.has("query") == args.has("document"))
    throw UsageError{"--multi-vector needs --query or --document (ColBERT encodes them differently)"};
  ColBERTOptions o;
  read_run_flags(args, o);
  const ColBERT model = ColBERT::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  return write_lines(args, inputs, with_input_errors(inputs, model.encode(valid_field(inputs, 0), args.has("query"))),
                     [](std::string& line, const MultiVector& r) {
                       line += "{\"multi_vector\":";
                       append_rows(line, r);
                       line += ",\"token_ids\":[";
                       for (size_t k = 0; k < r.token_ids.size(); ++k)
                         line += (k ? "," : "") + std::to_string(r.token_ids[k]);
                       line += "]}";
                     });
}

// --bge-m3: BGEM3FlagModel.encode with all three outputs.
int run_bge_m3(const Args& args) {
  check_mode_flags(args, "bge-m3", {"pooling", "dimensions", "prompt-name", "prompt", "task", "normalize",
                                    "max-active-dims", "sparse", "multi-vector", "query", "document"});
  BgeM3Options o;
  o.max_length = args.get_int("max-length", 0);
  if (o.max_length < 0) throw UsageError{"--max-length must be >= 0"};
  o.normalize = !args.has("no-normalize");
  o.fp16_weights = args.has("fp16-weights");
  read_run_flags(args, o);
  const BgeM3 model = BgeM3::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  return write_lines(args, inputs, with_input_errors(inputs, model.encode(valid_field(inputs, 0))),
                     [](std::string& line, const BgeM3Embedding& r) {
                       line += "{\"dense\":";
                       append_float_array(line, r.dense.data(), r.dense.size());
                       line += ",\"sparse\":";
                       append_sparse(line, r.sparse.indices.data(), r.sparse.values.data(), r.sparse.indices.size());
                       line += ",\"colbert\":";
                       append_rows(line, r.colbert);
                       line += '}';
                     });
}

int run_embed(const std::vector<std::string>& argv) {
  Args args(argv,
            with_run_flags({"model", "input", "output", "pooling", "dimensions", "max-length", "prompt-name", "prompt",
                            "task", "max-active-dims"}),
            {"normalize", "no-normalize", "jsonl", "sparse", "multi-vector", "query", "document", "bge-m3",
             "fp16-weights"});
  if (args.has("bge-m3")) return run_bge_m3(args);
  if (args.has("fp16-weights")) throw UsageError{"--fp16-weights needs --bge-m3"};
  if (args.has("multi-vector")) return run_multi_vector(args);
  if (args.has("query") || args.has("document")) throw UsageError{"--query and --document need --multi-vector"};
  if (args.has("sparse")) return run_sparse(args);
  if (args.has("max-active-dims")) throw UsageError{"--max-active-dims needs --sparse"};
  if (args.has("normalize") && args.has("no-normalize"))
    throw UsageError{"--normalize and --no-normalize exclude each other"};
  EmbedderOptions o;
  if (auto p = args.get("pooling")) o.pooling = *p;
  if (args.has("normalize")) o.normalize = true;
  if (args.has("no-normalize")) o.normalize = false;
  o.dimensions = args.get_int("dimensions", 0);
  o.max_length = args.get_int("max-length", 0);
  read_run_flags(args, o);
  if (o.dimensions < 0 || o.max_length < 0) throw UsageError{"--dimensions and --max-length must be >= 0"};
  EmbedRequest request;
  request.prompt_name = args.get("prompt-name");
  request.prompt = args.get("prompt");
  request.task = args.get_or("task", "");
  if (request.prompt && request.prompt_name) throw UsageError{"--prompt and --prompt-name exclude each other"};
  Embedder embedder = Embedder::load(args.require("model"), o);
  const Inputs inputs = read_inputs(args, InputShape::Text);
  const std::vector<std::string> texts = valid_field(inputs, 0);

  Progress progress(texts.size(), "texts");
  std::vector<EmbedResult> results;
  results.reserve(texts.size());
  const size_t chunk = static_cast<size_t>(o.batch_size) * 8;
  for (size_t start = 0; start < texts.size(); start += chunk) {
    std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(start),
                                  texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), start + chunk)));
    for (auto& r : embedder.embed(part, request)) results.push_back(std::move(r));
    progress.update(results.size());
  }
  progress.finish();
  results = with_input_errors(inputs, std::move(results));

  size_t failed = 0, truncated = 0, first_truncated = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      ++failed;
      std::fprintf(stderr, "encore embed: %s: %s\n", inputs.where(i).c_str(), results[i].error.c_str());
    }
    if (results[i].truncated && truncated++ == 0) first_truncated = i;
  }
  if (truncated)
    std::fprintf(stderr, "encore embed: warning: %zu input(s) longer than %d tokens were truncated (first: %s)\n",
                 truncated, embedder.max_length(), inputs.where(first_truncated).c_str());

  const std::string output = args.get_or("output", "");
  const size_t D = static_cast<size_t>(embedder.dimensions());
  if (output.size() > 4 && output.substr(output.size() - 4) == ".npy") {
    std::vector<float> matrix(results.size() * D, 0.0f);
    for (size_t i = 0; i < results.size(); ++i)
      std::copy(results[i].embedding.begin(), results[i].embedding.end(), matrix.begin() + static_cast<std::ptrdiff_t>(i * D));
    write_npy_f32(output, matrix.data(), results.size(), D);
  } else {
    std::ofstream file;
    std::ostream& os = output_stream(args, file);
    std::string line;
    for (const auto& r : results) {
      line.clear();
      if (!r.error.empty()) {
        line = "{\"error\":" + json_string(r.error) + "}";
      } else {
        line = "{\"embedding\":";
        append_float_array(line, r.embedding.data(), r.embedding.size());
        line += "}";
      }
      os << line << '\n';
    }
  }
  return failed ? 1 : 0;
}

const bool registered = register_command(
    {"embed", "sentence embeddings (sentence-transformers pooling and normalization)", kUsage, &run_embed});

}  // namespace
}  // namespace encore::cli
