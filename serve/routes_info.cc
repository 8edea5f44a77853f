// /health, /info and /metrics.
#include <map>

#include "serve/json_text.h"
#include "serve/service.h"

#ifndef ENCORE_VERSION
#define ENCORE_VERSION "unknown"
#endif

namespace encore::serve {

void Service::health(Call& call) {
  if (stopping_.load() || call.request.draining) raise(unhealthy("unhealthy"));
  call.respond(HttpResponse{200, "", "application/json", {}});
}

void Service::metrics(Call& call) {
  call.respond(HttpResponse{200, metrics_.render(batcher_->queue_depth(), in_flight_.load()),
                            "text/plain; version=0.0.4", {}});
}

namespace {

// TEI's ClassifierModel: config.json's id2label and label2id (here from the labels in id
// order; a label given to several ids maps to the last, as PretrainedConfig builds label2id).
std::string classifier_model(const std::vector<std::string>& labels) {
  std::string id2label, label2id;
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < labels.size(); ++i) last[labels[i]] = i;
  for (size_t i = 0; i < labels.size(); ++i) {
    id2label += (i ? ",\"" : "\"") + std::to_string(i) + "\":" + json_string(labels[i]);
    if (last[labels[i]] == i) label2id += (label2id.empty() ? "" : ",") + json_string(labels[i]) + ":" + std::to_string(i);
  }
  return "{\"id2label\":{" + id2label + "},\"label2id\":{" + label2id + "}}";
}

}  // namespace

void Service::info(Call& call) {
  auto b = [](bool v) { return v ? std::string("true") : std::string("false"); };
  auto n = [](auto v) { return std::to_string(v); };
  std::string model_type;
  if (m3_) {  // its dense output: CLS pooling
    model_type = "{\"embedding\":{\"pooling\":\"cls\"}}";
  } else if (sparse_ || colbert_) {
    model_type = std::string("{\"embedding\":{\"pooling\":\"") + (sparse_ ? "splade" : "colbert") + "\"}}";
  } else if (embedder_) {
    std::string pooling;
    for (Pooling p : embedder_->pooling()) pooling += (pooling.empty() ? "" : "+") + std::string(pooling_name(p));
    model_type = "{\"embedding\":{\"pooling\":" + json_string(pooling) + "}}";
  } else {
    model_type = std::string("{\"") + (kind_ == ModelKind::Reranker ? "reranker" : "classifier") +
                 "\":" + classifier_model(classifier_->labels()) + "}";
  }
  const BatcherOptions& batching = options_.batching;
  std::string body = "{";
  body += "\"model_id\":" + json_string(options_.model_id);
  body += ",\"model_sha\":null,\"model_dtype\":" + json_string(compute_type_torch_name(options_.dtype));
  body += ",\"model_type\":" + model_type;
  body += ",\"max_concurrent_requests\":" + n(options_.max_concurrent_requests);
  body += ",\"max_input_length\":" + n(max_length_);
  body += ",\"max_batch_tokens\":" + n(batching.max_batch_tokens);
  body += ",\"max_batch_requests\":" + (batching.max_batch_requests ? n(batching.max_batch_requests) : "null");
  body += ",\"max_client_batch_size\":" + n(options_.max_client_batch_size);
  body += ",\"auto_truncate\":" + b(options_.auto_truncate);
  body += ",\"tokenization_workers\":" + n(options_.tokenization_workers);
  body += ",\"version\":\"" ENCORE_VERSION "\",\"sha\":null,\"docker_label\":null";
  // encore's additions.
  body += ",\"engine\":\"encore\"";
  if (const Model* m = model()) {  // a StaticEmbedding model has none
    const ModelConfig& c = m->config();
    body += ",\"dialect\":\"" + std::string(dialect_name(c.dialect)) + "\"";
    body += ",\"hidden_size\":" + n(c.hidden) + ",\"layers\":" + n(c.layers);
  }
  if (embedder_) {
    body += ",\"dimensions\":" + n(embedder_->dimensions());
    body += ",\"normalize_module\":" + b(embedder_->has_normalize_module());
    body += ",\"modules\":" + json_string(embedder_->describe());
    body += ",\"similarity_fn_name\":" + json_string(embedder_->similarity_fn_name());
  } else if (m3_) {
    body += ",\"dimensions\":" + n(m3_->dimensions());
    body += ",\"colbert_dimensions\":" + n(m3_->colbert_dimensions());
    body += ",\"modules\":" + json_string(m3_->describe());
  } else if (colbert_) {
    body += ",\"dimensions\":" + n(colbert_->dimensions());
    body += ",\"modules\":" + json_string(colbert_->describe());
    body += ",\"similarity_fn_name\":\"MaxSim\"";
  } else if (sparse_) {
    body += ",\"dimensions\":" + n(sparse_->dimensions());
    body += ",\"modules\":" + json_string(sparse_->describe());
    body += ",\"similarity_fn_name\":" + json_string(sparse_->similarity_fn_name());
  } else {
    body += ",\"num_labels\":" + n(classifier_->labels().size());
  }
  body += ",\"payload_limit\":" + n(options_.payload_limit);
  body += ",\"request_timeout_ms\":" + n(options_.request_timeout.count());
  body += ",\"api_key_required\":" + b(options_.api_key.has_value());
  body += "}";
  call.respond(HttpResponse{200, std::move(body), "application/json", {}});
}

}  // namespace encore::serve
