// encore serve's router and core: the TEI and OpenAI routes over one model, an Embedder
// or a TextClassifier (a sequence classifier; with one label also a re-ranker). The HTTP
// layer (http_server.h) calls handle() on its I/O thread; handle() checks the route, the
// API key and the concurrency limit there and answers the cheap routes (/health, /info,
// /metrics) at once, so that they never wait behind model or tokenizer work; any other
// request goes to a tokenization worker, which parses, validates, tokenizes and queues it on
// the Batcher. The answer is formatted on a worker too, so the I/O and inference threads
// only move bytes and run the model.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "encore/bge_m3.h"
#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/multi_vector.h"
#include "encore/sparse_encoder.h"
#include "serve/api_error.h"
#include "serve/batcher.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/request.h"

namespace encore::serve {

struct ServiceOptions {
  std::string model_id;                  // /info and the OpenAI "model" field
  ComputeType dtype = ComputeType::F32;  // /info model_dtype
  size_t max_concurrent_requests = 512;  // requests on the workers (all but health, info, metrics); beyond: 429
  size_t max_client_batch_size = 32;     // inputs per request; beyond: 413
  bool auto_truncate = false;            // default of `truncate`; else over-long inputs get 413
  std::optional<std::string> api_key;    // when set: "Authorization: Bearer KEY" or 401
  size_t tokenization_workers = 0;       // 0: one per hardware thread
  int threads = 0;                       // inference threads (0: OpenMP's default)
  size_t payload_limit = 2 * 1024 * 1024;       // for /info (the HTTP layer enforces it)
  size_t max_response_bytes = 16 * 1024 * 1024;  // body of one answer; larger: 413 instead
  std::chrono::milliseconds request_timeout{30000};
  BatcherOptions batching;
  std::map<std::string, std::string> prompts;  // classifiers: config_sentence_transformers.json "prompts"
                                               // (an Embedder has its own)
  int max_length = 0;  // classifier models: the longest input in tokens (0: the model's); an
                       // Embedder has its own (EmbedderOptions::max_length)
};

// The kind of model served, as TEI decides it: a sequence classifier with one label is a
// re-ranker (/rerank and /predict), with more a classifier (/predict); anything else embeds
// (a SPLADE model too: TEI's embedding model with splade pooling, /embed_sparse; and a ColBERT
// model: per-token vectors on /embed_all, MaxSim on /rerank; and bge-m3: dense on /embed,
// sparse on /embed_sparse, ColBERT on /embed_all).
enum class ModelKind { Embedding, Classifier, Reranker };

class Service {
 public:
  Service(const Embedder& embedder, ServiceOptions options);        // an embedding model
  Service(const TextClassifier& classifier, ServiceOptions options);  // a classifier or re-ranker
  Service(const SparseEncoder& encoder, ServiceOptions options);      // a SPLADE model
  Service(const ColBERT& model, ServiceOptions options);              // a ColBERT model
  // A bge-m3 model, loaded with normalize = false (the routes normalize).
  Service(const BgeM3& model, ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  void handle(HttpRequest request, Responder respond);             // HttpServer's Handler
  void on_response(const std::string& path, int status, double s);  // HttpServer's ResponseHook
  // After the HTTP server has drained: runs what is queued, then stops the threads.
  void stop();
  // Whether a batch is being computed now. Once the HTTP server has drained, every request
  // has been answered, so such a batch belongs to requests that timed out or whose client
  // left, and any batch that starts later skips them at once.
  bool computing() const;

  const ServiceOptions& options() const { return options_; }
  ModelKind kind() const { return kind_; }
  int max_length() const { return max_length_; }  // the longest input, in tokens

 private:
  enum class Route {
    Embed, EmbedAll, EmbedSparse, Similarity, OpenAI, Tokenize, Decode, Predict, Rerank, Health, Info, Metrics
  };
  struct RouteSpec {
    const char* method;
    const char* path;
    Route route;
    bool worker;     // parsed on a worker and counted against max_concurrent_requests; else
                     // answered at once on the I/O thread
    bool open;       // no API key needed (health and metrics, as TEI)
  };
  static const std::vector<RouteSpec>& routes();

  // Everything a route needs to answer one request.
  struct Call {
    HttpRequest request;
    Responder respond;
    Route route;
  };

  void start();  // the constructors' common part: checks, backend, batcher, workers
  void dispatch(Call& call);
  void reply_error(Call& call, const ApiError& error) const;

  // Routes (one file per family: routes_embed.cc, routes_classify.cc, routes_text.cc,
  // routes_info.cc).
  void embed(Call& call, bool all_tokens);
  void embed_sparse(Call& call);
  void similarity(Call& call);
  void openai(Call& call);
  void tokenize(Call& call);
  void decode(Call& call);
  void predict(Call& call);
  void rerank(Call& call);
  void health(Call& call);
  void info(Call& call);
  void metrics(Call& call);

  // Validation and tokenization of one input (input_encoding.cc), TEI's rules: an empty
  // (or blank) input, more characters than max_length * 250 or more tokens than max_length without
  // truncation are 413; text the tokenizer rejects is 422; token ids are checked against
  // the vocabulary. `field` is the request field the errors name (OpenAI's is `input`).
  Sequence encode_input(const Input& input, bool truncate, TruncationSide side,
                        const std::optional<std::string>& prompt_name, size_t index,
                        const char* field = "inputs") const;
  // The same rules for a classifier input, a text or a pair (TEI: an empty pair is two empty
  // texts; over the character limit each text is cut to half of it).
  Sequence encode_predict_input(const PredictInput& input, bool truncate, TruncationSide side, size_t index) const;
  // A ColBERT model's input: a text only (it inserts its prefix token itself), prepared as
  // PyLate does (ColBERT::prepare: always cut to query_length / document_length).
  Sequence encode_colbert_input(const Input& input, bool is_query, size_t index, const char* field = "inputs") const;
  void rerank_maxsim(Call& call, RerankRequest req);
  // Whether a text gives no tokens of its own: "", or only whitespace or control characters,
  // which the tokenizer drops. Such an input is refused as "" is (413 "cannot be empty")
  // rather than run as its special tokens alone.
  bool is_blank(const std::string& text) const;
  // The prompt a request's prompt_name selects (422 if the model has none of that name);
  // without one, an embedding model's default_prompt_name's prompt, else "".
  std::string prompt(const std::optional<std::string>& prompt_name) const;
  void check_batch_size(size_t n, const char* field) const;
  size_t char_limit() const { return static_cast<size_t>(max_length_) * 250; }
  // The embedding routes on a classifier: TEI's 424 "Model is not an embedding model".
  void require_embedding_model() const;
  const Tokenizer& tokenizer() const;
  const Model* model() const;  // nullptr for a StaticEmbedding model

  // Queues the sequences as one job; `format` builds the answer from the finished job on a
  // worker thread (timing headers are added here).
  using Format = std::function<HttpResponse(Job&)>;
  void infer(Call& call, std::vector<Sequence> sequences, size_t chars, Format format);
  void complete(Call& call, Job& job, size_t chars, double tokenization_seconds, const Format& format);
  // Pooled embedding of one sequence with TEI's per-request options.
  std::vector<float> finish_embedding(std::vector<float> pooled, bool normalize,
                                      std::optional<int64_t> dimensions) const;
  void check_dimensions(std::optional<int64_t> dimensions) const;
  // A SPLADE model's weights as the dense-vector routes give them (TEI's Infer::embed_pooled):
  // one per vocabulary entry, cut to `dimensions`; never normalized (a 424 as in TEI).
  std::vector<float> dense_sparse(const SparseEmbedding& s, std::optional<int64_t> dimensions) const;
  // Whether the model answers /embed_sparse: a SPLADE model, or bge-m3 (its lexical weights).
  bool has_sparse() const { return sparse_ || m3_; }
  // A backend's pooled vector as sentence-transformers' encode() gives it (the final
  // Normalize module, then truncate_dim).
  std::vector<float> sentence_embedding(std::vector<float> pooled) const;

  const Embedder* embedder_ = nullptr;          // set for an embedding model
  const TextClassifier* classifier_ = nullptr;  // set for a classifier or re-ranker
  const SparseEncoder* sparse_ = nullptr;       // set for a SPLADE model
  const ColBERT* colbert_ = nullptr;            // set for a ColBERT model
  const BgeM3* m3_ = nullptr;                   // set for a bge-m3 model
  ServiceOptions options_;
  ModelKind kind_ = ModelKind::Embedding;
  int max_length_ = 0;
  Metrics metrics_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Batcher> batcher_;
  struct Workers;
  std::unique_ptr<Workers> workers_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
};

// Compares without an early exit, so the time taken does not reveal the matching prefix.
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace encore::serve
