#include "serve/service.h"

#include <thread>

#include "encore/error.h"
#include "serve/asio.h"
#include "serve/classifier_backend.h"
#include "serve/embedder_backend.h"
#include "serve/bge_m3_backend.h"
#include "serve/colbert_backend.h"
#include "serve/sparse_backend.h"

namespace encore::serve {

struct Service::Workers {
  explicit Workers(size_t n) : pool(n) {}
  boost::asio::thread_pool pool;
};

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

// TEI router/src/http/server.rs: the model routes, OpenAI's (with and without /v1), the
// SageMaker-style defaults ("/" and "/invocations" embed), and the open routes.
const std::vector<Service::RouteSpec>& Service::routes() {
  static const std::vector<RouteSpec> table = {
      {"POST", "/embed", Route::Embed, true, false},
      {"POST", "/", Route::Embed, true, false},
      {"POST", "/invocations", Route::Embed, true, false},
      {"POST", "/embed_all", Route::EmbedAll, true, false},
      {"POST", "/embed_sparse", Route::EmbedSparse, true, false},
      {"POST", "/similarity", Route::Similarity, true, false},
      {"POST", "/v1/embeddings", Route::OpenAI, true, false},
      {"POST", "/embeddings", Route::OpenAI, true, false},
      {"POST", "/predict", Route::Predict, true, false},
      {"POST", "/rerank", Route::Rerank, true, false},
      {"POST", "/tokenize", Route::Tokenize, true, false},
      {"POST", "/decode", Route::Decode, true, false},
      {"GET", "/info", Route::Info, false, false},
      {"GET", "/health", Route::Health, false, true},
      {"GET", "/", Route::Health, false, true},
      {"GET", "/ping", Route::Health, false, true},
      {"GET", "/metrics", Route::Metrics, false, true},
  };
  return table;
}

Service::Service(const Embedder& embedder, ServiceOptions options)
    : embedder_(&embedder), options_(std::move(options)), kind_(ModelKind::Embedding),
      max_length_(embedder.max_length()) {
  // A StaticEmbedding model never truncates (sentence-transformers' max_seq_length is
  // infinite): its inputs are bounded by the batch's token budget.
  if (max_length_ == 0) max_length_ = static_cast<int>(options_.batching.max_batch_tokens);
  backend_ = std::make_unique<EmbedderBackend>(embedder);
  start();
}

Service::Service(const TextClassifier& classifier, ServiceOptions options)
    : classifier_(&classifier), options_(std::move(options)),
      kind_(classifier.labels().size() == 1 ? ModelKind::Reranker : ModelKind::Classifier),
      max_length_(classifier.max_length()) {
  if (options_.max_length > 0) {
    const int64_t positions = classifier.model().config().max_length;
    ENCORE_CHECK(options_.max_length <= positions, "max length ", options_.max_length,
                 " is more than the model's ", positions, " positions");
    max_length_ = options_.max_length;
  }
  ENCORE_CHECK(max_length_ >= 2, "max length ", max_length_, " leaves no room for text");
  backend_ = std::make_unique<ClassifierBackend>(classifier, options_.threads);
  start();
}

Service::Service(const SparseEncoder& encoder, ServiceOptions options)
    : sparse_(&encoder), options_(std::move(options)), kind_(ModelKind::Embedding), max_length_(encoder.max_length()) {
  backend_ = std::make_unique<SparseBackend>(encoder);
  start();
}

Service::Service(const ColBERT& model, ServiceOptions options)
    : colbert_(&model), options_(std::move(options)), kind_(ModelKind::Embedding),
      max_length_(std::max(model.query_length(), model.document_length())) {
  backend_ = std::make_unique<ColBERTBackend>(model);
  start();
}

Service::Service(const BgeM3& model, ServiceOptions options)
    : m3_(&model), options_(std::move(options)), kind_(ModelKind::Embedding), max_length_(model.max_length()) {
  backend_ = std::make_unique<BgeM3Backend>(model);
  start();
}

void Service::start() {
  if (options_.tokenization_workers == 0)
    options_.tokenization_workers = std::max(1u, std::thread::hardware_concurrency());
  ENCORE_CHECK(options_.batching.max_batch_tokens >= static_cast<size_t>(max_length_), "--max-batch-tokens ",
               options_.batching.max_batch_tokens, " must be at least the max input length ", max_length_);
  batcher_ = std::make_unique<Batcher>(*backend_, options_.batching,
                                       [this](const BatchStats& s) { metrics_.record_batch(s); });
  workers_ = std::make_unique<Workers>(options_.tokenization_workers);
}

const Tokenizer& Service::tokenizer() const {
  return embedder_  ? embedder_->tokenizer()
         : sparse_  ? sparse_->tokenizer()
         : colbert_ ? colbert_->tokenizer()
         : m3_      ? m3_->tokenizer()
                    : classifier_->tokenizer();
}
const Model* Service::model() const {
  return embedder_  ? embedder_->model()
         : sparse_  ? &sparse_->model()
         : colbert_ ? &colbert_->model()
         : m3_      ? &m3_->model()
                    : &classifier_->model();
}

void Service::require_embedding_model() const {
  if (!embedder_ && !sparse_ && !colbert_ && !m3_) raise(backend_error("Model is not an embedding model"));
}

Service::~Service() { stop(); }

void Service::stop() {
  if (stopping_.exchange(true)) return;
  batcher_->stop();
  workers_->pool.join();
}

bool Service::computing() const {
  return batcher_->computing();
}

void Service::on_response(const std::string& path, int status, double seconds) {
  std::string route = "other";
  for (const RouteSpec& r : routes())
    if (path == r.path) route = r.path;
  metrics_.record_request(route, status, seconds);
}

void Service::reply_error(Call& call, const ApiError& error) const {
  if (!call.respond) return;  // moved on already: whoever holds it answers
  const bool openai = call.route == Route::OpenAI;
  HttpResponse r{error.status, openai ? error.openai_json() : error.tei_json(), "application/json", {}};
  if (error.status == 401) r.headers.push_back({"WWW-Authenticate", "Bearer"});  // RFC 6750 section 3
  call.respond(std::move(r));
}

void Service::handle(HttpRequest request, Responder respond) {
  const RouteSpec* spec = nullptr;
  bool path_known = false;
  for (const RouteSpec& r : routes()) {
    if (request.path != r.path) continue;
    path_known = true;
    if (request.method == r.method) spec = &r;
  }
  if (!spec) {
    ApiError e = path_known ? ApiError{405, ErrorType::NotFound, "method " + request.method + " is not allowed on " + request.path}
                            : ApiError{404, ErrorType::NotFound, "no route " + request.method + " " + request.path};
    respond(HttpResponse{e.status, e.tei_json(), "application/json", {}});
    return;
  }
  Call call{std::move(request), std::move(respond), spec->route};
  if (options_.api_key && !spec->open &&
      !constant_time_equal(call.request.authorization, "Bearer " + *options_.api_key))
    return reply_error(call, ApiError{401, ErrorType::Unauthorized, "missing or wrong API key (Authorization: Bearer KEY)"});
  if (!spec->worker) return dispatch(call);  // health, info, metrics: microseconds
  if (in_flight_.fetch_add(1) >= options_.max_concurrent_requests) {
    in_flight_.fetch_sub(1);
    return reply_error(call, overloaded());
  }
  call.respond = [this, inner = std::move(call.respond)](HttpResponse r) {
    in_flight_.fetch_sub(1);
    inner(std::move(r));
  };
  auto shared = std::make_shared<Call>(std::move(call));
  boost::asio::post(workers_->pool, [this, shared] { dispatch(*shared); });
}

void Service::dispatch(Call& call) {
  try {
    if (call.request.cancelled && call.request.cancelled->load()) {
      // The client left while the request waited for a worker: answer nobody, cheaply.
      return call.respond(HttpResponse{499, "", "application/json", {}});
    }
    switch (call.route) {
      case Route::Embed:  // "/" and "/invocations" answer as /embed_sparse for a SPLADE model (TEI)
        if (sparse_ && call.request.path != "/embed") return embed_sparse(call);
        return embed(call, false);
      case Route::EmbedAll: return embed(call, true);
      case Route::EmbedSparse: return embed_sparse(call);
      case Route::Similarity: return similarity(call);
      case Route::OpenAI: return openai(call);
      case Route::Tokenize: return tokenize(call);
      case Route::Decode: return decode(call);
      case Route::Predict: return predict(call);
      case Route::Rerank: return rerank(call);
      case Route::Health: return health(call);
      case Route::Info: return info(call);
      case Route::Metrics: return metrics(call);
    }
  } catch (const ApiException& e) {
    reply_error(call, e.error);
  } catch (const std::bad_alloc&) {
    reply_error(call, ApiError{500, ErrorType::Backend, "out of memory"});
  } catch (const std::exception& e) {
    reply_error(call, ApiError{500, ErrorType::Backend, std::string("internal error: ") + e.what()});
  }
}

void Service::check_batch_size(size_t n, const char* field) const {
  if (n == 0) raise(empty_input(std::string("`") + field + "` cannot be empty"));
  if (n > options_.max_client_batch_size)
    raise(validation("batch size " + std::to_string(n) + " > maximum allowed batch size " +
                     std::to_string(options_.max_client_batch_size)));
}

void Service::infer(Call& call, std::vector<Sequence> sequences, size_t chars, Format format) {
  const Clock::time_point deadline = call.request.received + options_.request_timeout;
  const double tokenization = std::chrono::duration<double>(Clock::now() - call.request.received).count();
  auto shared = std::make_shared<Call>(std::move(call));
  auto done = [this, shared, chars, tokenization, format = std::move(format)](Job& finished) {
    // On the inference thread: hand the answer to a worker and return at once.
    boost::asio::post(workers_->pool, [this, shared, chars, tokenization, format, job = finished.shared_from_this()] {
      complete(*shared, *job, chars, tokenization, format);
    });
  };
  auto job = std::make_shared<Job>(sequences.size(), std::move(done), deadline, shared->request.cancelled);
  for (size_t i = 0; i < sequences.size(); ++i) {
    sequences[i].job = job;
    sequences[i].index = i;
  }
  if (!batcher_->submit(std::move(sequences))) reply_error(*shared, unhealthy("the server is shutting down"));
}

void Service::complete(Call& call, Job& job, size_t chars, double tokenization, const Format& format) {
  try {
    if (job.cancelled_by_client) return call.respond(HttpResponse{499, "", "application/json", {}});
    if (job.timed_out) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.request_timeout).count();
      raise(timed_out("request timed out after " + std::to_string(ms) + " ms (--request-timeout)"));
    }
    if (!job.error.empty()) raise(backend_error(job.error));
    HttpResponse r = format(job);
    // What one request may make the server hold for its client (a 38 KB /embed_all asks for
    // ~40 MB of JSON); bounded where the answer is made, before it waits on a slow reader.
    if (r.body.size() > options_.max_response_bytes)
      raise(validation("the answer would be " + std::to_string(r.body.size()) + " bytes, more than the " +
                       std::to_string(options_.max_response_bytes) +
                       " allowed (--max-response-bytes); send fewer or shorter inputs"));
    metrics_.record_inference(tokenization, job.queue_seconds, job.inference_seconds, job.tokens);
    auto ms = [](double s) { return std::to_string(static_cast<long long>(s * 1000.0)); };
    const double total = std::chrono::duration<double>(Clock::now() - call.request.received).count();
    r.headers.push_back({"x-compute-type", "cpu"});
    r.headers.push_back({"x-compute-time", ms(total)});
    r.headers.push_back({"x-compute-characters", std::to_string(chars)});
    r.headers.push_back({"x-compute-tokens", std::to_string(job.tokens)});
    r.headers.push_back({"x-total-time", ms(total)});
    r.headers.push_back({"x-tokenization-time", ms(tokenization)});
    r.headers.push_back({"x-queue-time", ms(job.queue_seconds)});
    r.headers.push_back({"x-inference-time", ms(job.inference_seconds)});
    call.respond(std::move(r));
  } catch (const ApiException& e) {
    reply_error(call, e.error);
  } catch (const std::exception& e) {
    reply_error(call, ApiError{500, ErrorType::Backend, std::string("internal error: ") + e.what()});
  }
}

std::vector<float> Service::finish_embedding(std::vector<float> v, bool normalize,
                                             std::optional<int64_t> dimensions) const {
  // TEI: cut to `dimensions` (by default the model's truncate_dim), then normalize when
  // asked. v comes without the model's final Normalize module, which normalize=true
  // replaces: the default answer is `encore embed`'s vector.
  const size_t keep = static_cast<size_t>(dimensions.value_or(m3_ ? m3_->dimensions() : embedder_->dimensions()));
  if (keep < v.size()) v.resize(keep);
  if (normalize) l2_normalize(v);
  return v;
}

std::vector<float> Service::sentence_embedding(std::vector<float> v) const {
  if (m3_) {  // BGEM3FlagModel.encode's dense_vecs: normalized
    l2_normalize(v);
    return v;
  }
  if (embedder_->has_normalize_module()) l2_normalize(v);
  embedder_->finish(v);
  return v;
}

std::vector<float> Service::dense_sparse(const SparseEmbedding& s, std::optional<int64_t> dimensions) const {
  std::vector<float> v(static_cast<size_t>(dimensions.value_or(sparse_->dimensions())), 0.0f);
  for (size_t k = 0; k < s.indices.size(); ++k)
    if (static_cast<size_t>(s.indices[k]) < v.size()) v[static_cast<size_t>(s.indices[k])] = s.values[k];
  return v;
}

void Service::check_dimensions(std::optional<int64_t> dimensions) const {
  const int64_t full = sparse_ ? sparse_->dimensions() : m3_ ? m3_->dimensions() : embedder_->full_dimensions();
  if (dimensions && *dimensions > full)
    raise(validation("`dimensions` must be at most " + std::to_string(full) + " for this model, got " +
                     std::to_string(*dimensions)));
}

}  // namespace encore::serve
