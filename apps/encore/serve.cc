// encore serve: an HTTP server for one embedding, classification or re-ranking model, speaking
// the text-embeddings-inference API and OpenAI's /v1/embeddings, with dynamic batching (see
// docs/serving.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "cli.h"
#include "encore/bge_m3.h"
#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/error.h"
#include "io_util.h"
#include "encore/model_path.h"
#include "encore/multi_vector.h"
#include "encore/sparse_encoder.h"
#include "serve/http_server.h"
#include "serve/service.h"

namespace encore::cli {
namespace {

// config.json's architectures[0] is a *ForSequenceClassification model.
bool declares_classifier(const std::string& dir) {
  std::ifstream f(std::filesystem::path(dir) / "config.json");
  if (!f) return false;
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("architectures") || !j["architectures"].is_array() || j["architectures"].empty() ||
      !j["architectures"][0].is_string())
    return false;
  const std::string a = j["architectures"][0];
  const std::string suffix = "ForSequenceClassification";
  return a.size() >= suffix.size() && a.compare(a.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// modules.json has a SpladePooling module: a sentence-transformers SparseEncoder (SPLADE).
bool declares_splade(const std::string& dir) {
  std::ifstream f(std::filesystem::path(dir) / "modules.json");
  if (!f) return false;
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return false;
  const std::string suffix = "SpladePooling";
  for (const nlohmann::json& m : j)
    if (m.is_object() && m.contains("type") && m["type"].is_string()) {
      const std::string t = m["type"];
      if (t.size() >= suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    }
  return false;
}

const char* kUsage =
    "usage: encore serve --model DIR [--host ADDR] [--port N] [--model-id NAME]\n"
    "                    [--max-batch-tokens N] [--max-batch-requests N] [--max-concurrent-requests N]\n"
    "                    [--max-client-batch-size N] [--payload-limit BYTES] [--auto-truncate]\n"
    "                    [--request-timeout SECONDS] [--api-key KEY] [--threads N]\n"
    "                    [--tokenization-workers N] [--max-length N] [--pooling MODE] [--dtype f32|bf16|int8]\n"
    "                    [--port-file FILE] [--drain-timeout SECONDS] [--max-response-bytes BYTES]\n"
    "                    [--max-connections N] [--write-timeout SECONDS]\n\n"
    "Serves DIR (a sentence-transformers or HF BERT directory) over HTTP with the routes of\n"
    "text-embeddings-inference (POST /embed, /embed_all, /similarity, /tokenize, /decode,\n"
    "/predict, /rerank; GET /health, /info, /metrics) and OpenAI's POST /v1/embeddings.\n"
    "A BertForSequenceClassification model is served as TEI serves it: /predict scores its\n"
    "labels, and with one label (a cross-encoder) /rerank ranks texts for a query; the\n"
    "embedding routes then answer 424. Any other model embeds.\n"
    "Requests are tokenized on worker threads and batched: a batch takes queued inputs up to\n"
    "--max-batch-tokens tokens and --max-batch-requests inputs while the previous one runs.\n"
    "SIGTERM or SIGINT: stop accepting, answer /health with 503, finish the requests in flight\n"
    "(a request still being sent gets 2 s to arrive), exit 0 within --drain-timeout.\n"
    "  --host                   address to bind (default 127.0.0.1; 0.0.0.0 for every interface)\n"
    "  --port                   TCP port (default 3000; 0 picks a free one, see --port-file)\n"
    "  --model-id               name in /info and in OpenAI answers (default: DIR's last component)\n"
    "  --max-batch-tokens       token budget of one batch (default 16384)\n"
    "  --max-batch-requests     inputs per batch (default: no limit but the tokens)\n"
    "  --max-concurrent-requests  inference requests in flight; beyond: 429 (default 512)\n"
    "  --max-client-batch-size  inputs per request; beyond: 413 (default 32)\n"
    "  --payload-limit          request body bytes; beyond: 413 (default 2000000)\n"
    "  --max-response-bytes     answer body bytes; beyond: 413 instead (default 16777216)\n"
    "  --max-connections        connections open at once; beyond: 503 and close (default 512)\n"
    "  --write-timeout          seconds a client has to read its answer; then the connection\n"
    "                           closes (default 30)\n"
    "  --auto-truncate          truncate over-long inputs by default instead of answering 413\n"
    "  --request-timeout        seconds from a request's arrival to its answer; then 503 (default 30)\n"
    "  --api-key                require \"Authorization: Bearer KEY\"; not empty. ENCORE_API_KEY=KEY does\n"
    "                           the same and keeps the key out of the process list\n"
    "  --threads                inference threads (default: OpenMP's)\n"
    "  --tokenization-workers   threads that parse, tokenize and format (default: one per core)\n"
    "  --max-length             longest input in tokens (default: the model's)\n"
    "  --pooling, --dtype       as `encore embed` (--pooling is ignored for a classifier);\n"
    "                           --pooling splade serves a masked-LM model as SPLADE (/embed_sparse),\n"
    "                           as does a SparseEncoder directory (modules.json with SpladePooling);\n"
    "                           a PyLate ColBERT directory serves its token vectors (/embed_all) and\n"
    "                           MaxSim (/rerank); a bge-m3 directory (colbert_linear.pt and\n"
    "                           sparse_linear.pt beside it) its dense (/embed), sparse (/embed_sparse)\n"
    "                           and ColBERT (/embed_all) outputs\n"
    "  --port-file              write the bound port to FILE once listening\n"
    "  --drain-timeout          on SIGTERM, seconds to finish the requests in flight; then their\n"
    "                           connections close unanswered and the server exits (default 10)\n\n"
    "example:\n"
    "  encore serve --model models/all-MiniLM-L6-v2 --port 8080 &\n"
    "  curl -s localhost:8080/embed -H 'Content-Type: application/json' -d '{\"inputs\": \"Hello\"}'\n"
    "  encore serve --model tests/fixtures/heads/cross-encoder/model --port 8081 &\n"
    "  curl -s localhost:8081/rerank -d '{\"query\": \"free software\", \"texts\": [\"GPL\", \"weather\"]}'";

size_t get_size(const Args& args, const std::string& flag, size_t fallback, size_t min) {
  const int v = args.get_int(flag, static_cast<int>(fallback));
  if (v < static_cast<int>(min)) throw UsageError{"--" + flag + " must be at least " + std::to_string(min)};
  return static_cast<size_t>(v);
}

// A duration flag in seconds (fractions allowed), at most a day; zero only where allowed.
std::chrono::milliseconds get_seconds(const Args& args, const std::string& flag, const std::string& fallback,
                                      bool allow_zero) {
  const std::string text = args.get_or(flag, fallback);
  double seconds = 0.0;
  try {
    seconds = std::stod(text);
  } catch (const std::exception&) {
    throw UsageError{"--" + flag + " expects seconds, got '" + text + "'"};
  }
  if (!(seconds <= 86400.0 && (allow_zero ? seconds >= 0.0 : seconds > 0.0)))
    throw UsageError{"--" + flag + " must be within " + (allow_zero ? "[0" : "(0") + ", 86400] seconds"};
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::map<std::string, std::string> read_prompts(const std::filesystem::path& dir) {
  std::map<std::string, std::string> prompts;
  const auto path = dir / "config_sentence_transformers.json";
  std::ifstream f(path);
  if (!f) return prompts;
  try {
    const nlohmann::json j = nlohmann::json::parse(f);
    if (j.contains("prompts") && j["prompts"].is_object())
      for (const auto& [name, value] : j["prompts"].items())
        if (value.is_string()) prompts[name] = value.get<std::string>();
  } catch (const std::exception& e) {
    fail(path.string(), ": invalid JSON: ", e.what());
  }
  return prompts;
}

// An empty key would leave the server open to "Authorization: Bearer " (or to anyone, when
// read as no key): refused before the model loads.
std::optional<std::string> api_key_of(const Args& args) {
  std::optional<std::string> api_key = args.get("api-key");
  if (api_key && api_key->empty())
    throw UsageError{"--api-key is empty: give a key, or leave the option out to serve without one"};
  if (const char* env = std::getenv("ENCORE_API_KEY"); !api_key && env) {
    if (!*env) throw UsageError{"ENCORE_API_KEY is set but empty: set a key, or unset it to serve without one"};
    api_key = env;
  }
  return api_key;
}

serve::ServiceOptions service_options(const Args& args, const std::string& model_arg, const std::string& dir,
                                      const EmbedderOptions& eo, std::optional<std::string> api_key) {
  serve::ServiceOptions so;
  // A directory's name, or the repository id it was found by (not its snapshot's hash).
  const std::filesystem::path named = std::filesystem::is_directory(model_arg) ? model_arg : "";
  so.model_id = args.get_or("model-id", named.empty() ? model_arg : named.lexically_normal().filename().string());
  if (so.model_id.empty()) so.model_id = named.lexically_normal().parent_path().filename().string();
  so.dtype = eo.dtype;
  so.max_concurrent_requests = get_size(args, "max-concurrent-requests", 512, 1);
  so.max_client_batch_size = get_size(args, "max-client-batch-size", 32, 1);
  so.auto_truncate = args.has("auto-truncate");
  so.tokenization_workers = get_size(args, "tokenization-workers", 0, 0);
  so.threads = eo.threads;
  so.payload_limit = get_size(args, "payload-limit", 2000000, 1);
  so.max_response_bytes = get_size(args, "max-response-bytes", 16 * 1024 * 1024, 1024);
  so.batching.max_batch_tokens = get_size(args, "max-batch-tokens", 16384, 1);
  so.batching.max_batch_requests = get_size(args, "max-batch-requests", 0, 0);
  so.api_key = std::move(api_key);
  so.request_timeout = get_seconds(args, "request-timeout", "30", false);
  so.prompts = read_prompts(dir);
  return so;
}

serve::HttpServerOptions http_options(const Args& args, const serve::ServiceOptions& so) {
  serve::HttpServerOptions ho;
  ho.host = args.get_or("host", "127.0.0.1");
  const int port = args.get_int("port", 3000);
  if (port < 0 || port > 65535) throw UsageError{"--port must be within 0..65535"};
  ho.port = static_cast<uint16_t>(port);
  ho.payload_limit = so.payload_limit;
  ho.request_timeout = so.request_timeout;
  ho.drain_timeout = get_seconds(args, "drain-timeout", "10", true);
  ho.write_timeout = get_seconds(args, "write-timeout", "30", false);
  ho.max_connections = get_size(args, "max-connections", 512, 1);
  return ho;
}

// Written whole or not at all (a reader polling for it never sees half a number).
void write_port_file(const std::string& file, uint16_t port) {
  std::ofstream f(file + ".tmp");
  f << port << "\n";
  f.close();
  std::filesystem::rename(file + ".tmp", file);
}

int run_serve(const std::vector<std::string>& argv) {
  Args args(argv,
            {"model", "model-id", "host", "port", "max-batch-tokens", "max-batch-requests", "max-concurrent-requests",
             "max-client-batch-size", "payload-limit", "request-timeout", "api-key", "threads", "tokenization-workers",
             "max-length", "pooling", "dtype", "port-file", "drain-timeout", "max-response-bytes", "max-connections",
             "write-timeout"},
            {"auto-truncate"});
  if (!args.positional().empty()) throw UsageError{"unexpected argument '" + args.positional()[0] + "'"};
  std::optional<std::string> api_key = api_key_of(args);  // refused before the model loads
  const std::string model_arg = args.require("model");
  EmbedderOptions eo;
  const bool splade_flag = args.get_or("pooling", "") == "splade";
  if (auto p = args.get("pooling"); p && !splade_flag) eo.pooling = *p;
  eo.max_length = static_cast<int>(get_size(args, "max-length", 0, 0));
  eo.threads = static_cast<int>(get_size(args, "threads", 0, 0));
  eo.dtype = dtype_flag(args);  // usage errors before the model directory is looked at
  const std::string dir = resolve_model_path(model_arg);
  serve::ServiceOptions so = service_options(args, model_arg, dir, eo, std::move(api_key));
  const serve::HttpServerOptions ho = http_options(args, so);

  // The model kind, as TEI decides it: a sequence classification head makes a classifier
  // (a re-ranker with one label); anything else is served as an embedding model. config.json's
  // architectures usually says which, so the weights load once; a model whose head is only
  // recognizable from its tensors loads as an Embedder first and then again as a classifier.
  // A SPLADE model (TEI's --pooling splade, or a SparseEncoder directory) is an embedding
  // model that answers /embed_sparse.
  std::optional<SparseEncoder> sparse;
  if (splade_flag || declares_splade(dir)) {
    SparseEncoderOptions o;
    o.max_length = eo.max_length;
    o.threads = eo.threads;
    o.dtype = eo.dtype;
    sparse = SparseEncoder::load(dir, o);
  }
  std::optional<ColBERT> colbert;
  if (!sparse && ColBERT::is_colbert_directory(dir)) {
    if (args.has("pooling") || args.has("max-length"))
      throw UsageError{"--pooling and --max-length do not apply to a ColBERT model (query_length, document_length)"};
    ColBERTOptions o;
    o.threads = eo.threads;
    o.dtype = eo.dtype;
    colbert = ColBERT::load(dir, o);
  }
  // bge-m3: colbert_linear.pt and sparse_linear.pt beside the model (its dense output is also
  // what its sentence-transformers files describe; served as bge-m3, it answers all three).
  std::optional<BgeM3> m3;
  const std::filesystem::path root(dir);
  if (!sparse && !colbert && std::filesystem::exists(root / "colbert_linear.pt") &&
      std::filesystem::exists(root / "sparse_linear.pt")) {
    if (args.has("pooling")) throw UsageError{"--pooling does not apply to a bge-m3 model (CLS, as FlagEmbedding)"};
    BgeM3Options o;
    o.max_length = eo.max_length;
    o.threads = eo.threads;
    o.dtype = eo.dtype;
    o.normalize = false;  // the routes normalize as each request asks
    m3 = BgeM3::load(dir, o);
  }
  const bool other = sparse || colbert || m3;
  std::optional<Embedder> embedder;
  if (!other && !declares_classifier(dir)) embedder = Embedder::load(dir, eo);
  std::optional<TextClassifier> classifier;
  if (!other &&
      (!embedder || (embedder->model() && embedder->model()->config().head.kind == TaskHead::SequenceClassification))) {
    embedder.reset();
    if (args.has("pooling")) std::fprintf(stderr, "encore serve: the model is a classifier; --pooling is ignored\n");
    ClassifierOptions co;
    co.threads = eo.threads;
    co.dtype = eo.dtype;
    classifier = TextClassifier::load(dir, co);
    so.max_length = eo.max_length;
  }
  // The first forward pass allocates; not a client's latency.
  if (sparse) (void)sparse->encode({"warm up"});
  else if (colbert) (void)colbert->encode({"warm up"}, true);
  else if (m3) (void)m3->encode({"warm up"});
  else if (embedder) (void)embedder->embed({"warm up"});
  else (void)classifier->classify({"warm up"});
  std::optional<serve::Service> service_storage;
  if (sparse) service_storage.emplace(*sparse, so);
  else if (colbert) service_storage.emplace(*colbert, so);
  else if (m3) service_storage.emplace(*m3, so);
  else if (embedder) service_storage.emplace(*embedder, so);
  else service_storage.emplace(*classifier, so);
  serve::Service& service = *service_storage;
  serve::HttpServer http(
      ho, [&service](serve::HttpRequest r, serve::Responder respond) { service.handle(std::move(r), std::move(respond)); },
      [&service](const std::string& path, int status, double s) { service.on_response(path, status, s); });
  if (auto file = args.get("port-file")) write_port_file(*file, http.port());
  const serve::ModelKind kind = service.kind();
  std::fprintf(stderr, "encore serve: %s (%s) on http://%s:%u (max input %d tokens, %zu tokenization workers)\n",
               so.model_id.c_str(),
               sparse                                 ? "SPLADE sparse embedding"
               : colbert                              ? "ColBERT multi-vector"
               : m3                                   ? "bge-m3: dense, sparse, ColBERT"
               : kind == serve::ModelKind::Embedding  ? "embedding"
               : kind == serve::ModelKind::Classifier ? "classifier"
                                                      : "re-ranker",
               ho.host.c_str(), static_cast<unsigned>(http.port()), service.max_length(),
               service.options().tokenization_workers);
  if (const size_t cut_off = http.run())
    std::fprintf(stderr, "encore serve: stopped accepting; --drain-timeout passed with %zu requests unanswered\n",
                 cut_off);
  else
    std::fprintf(stderr, "encore serve: stopped accepting; in-flight requests finished\n");
  if (service.computing()) {
    // Every request has its answer or was cut off by --drain-timeout, so this batch is for
    // requests that timed out, were cut off or whose client left: nobody waits for it, and it
    // may take seconds.
    std::fprintf(stderr, "encore serve: not finishing the batch of requests already answered or cut off\n");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  service.stop();
  return 0;
}

const bool registered = register_command(
    {"serve", "HTTP server: text-embeddings-inference and OpenAI embeddings APIs, dynamic batching", kUsage, &run_serve});

}  // namespace
}  // namespace encore::cli
