// /health, /info, /metrics, and the classifier routes /predict and /rerank, which answer
// as TEI does for an embedding model until encore has classification heads.
#include "core/json_text.h"
#include "serve/service.h"

#ifndef ENCORE_VERSION
#define ENCORE_VERSION "unknown"
#endif

namespace encore::serve {

void Service::health(Call& call) {
  if (stopping_.load()) raise(unhealthy("unhealthy"));
  call.respond(HttpResponse{200, "", "application/json", {}});
}

void Service::metrics(Call& call) {
  call.respond(HttpResponse{200, metrics_.render(batcher_->queue_depth(), in_flight_.load()),
                            "text/plain; version=0.0.4", {}});
}

void Service::predict(Call& call) {
  // A classifier would be dispatched here on kind_ (TEI: PredictRequest, sequence pairs).
  (void)call;
  if (kind_ != ModelKind::Classifier) raise(backend_error("Model is not a classifier model"));
  raise(backend_error("classification heads are not implemented"));
}

void Service::rerank(Call& call) {
  (void)call;
  if (kind_ != ModelKind::Reranker) raise(backend_error("model is not a re-ranker model"));
  raise(backend_error("re-ranking heads are not implemented"));
}

void Service::info(Call& call) {
  const ModelConfig& c = embedder_.model().config();
  std::string pooling;
  for (Pooling p : embedder_.pooling()) pooling += (pooling.empty() ? "" : "+") + std::string(pooling_name(p));
  auto b = [](bool v) { return v ? std::string("true") : std::string("false"); };
  auto n = [](auto v) { return std::to_string(v); };
  const BatcherOptions& batching = options_.batching;
  std::string body = "{";
  body += "\"model_id\":" + json_string(options_.model_id);
  body += ",\"model_sha\":null,\"model_dtype\":" + json_string(options_.dtype);
  body += ",\"model_type\":{\"embedding\":{\"pooling\":" + json_string(pooling) + "}}";
  body += ",\"max_concurrent_requests\":" + n(options_.max_concurrent_requests);
  body += ",\"max_input_length\":" + n(embedder_.max_length());
  body += ",\"max_batch_tokens\":" + n(batching.max_batch_tokens);
  body += ",\"max_batch_requests\":" + (batching.max_batch_requests ? n(batching.max_batch_requests) : "null");
  body += ",\"max_client_batch_size\":" + n(options_.max_client_batch_size);
  body += ",\"auto_truncate\":" + b(options_.auto_truncate);
  body += ",\"tokenization_workers\":" + n(options_.tokenization_workers);
  body += ",\"version\":\"" ENCORE_VERSION "\",\"sha\":null,\"docker_label\":null";
  // encore's additions.
  body += ",\"engine\":\"encore\",\"dialect\":\"" + std::string(dialect_name(c.dialect)) + "\"";
  body += ",\"hidden_size\":" + n(c.hidden) + ",\"layers\":" + n(c.layers);
  body += ",\"dimensions\":" + n(embedder_.dimensions());
  body += ",\"normalize_module\":" + b(embedder_.normalizes());
  body += ",\"payload_limit\":" + n(options_.payload_limit);
  body += ",\"request_timeout_ms\":" + n(options_.request_timeout.count());
  body += ",\"api_key_required\":" + b(options_.api_key.has_value());
  body += "}";
  call.respond(HttpResponse{200, std::move(body), "application/json", {}});
}

}  // namespace encore::serve
