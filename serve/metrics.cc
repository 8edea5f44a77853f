#include "serve/metrics.h"

#include <cstdio>

namespace encore::serve {

namespace {

std::vector<double> seconds_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}
std::vector<double> powers_of_two(double top) {
  std::vector<double> b;
  for (double v = 1; v <= top; v *= 2) b.push_back(v);
  return b;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{" + sep + "le=\"" + (i < bounds_.size() ? number(bounds_[i]) : "+Inf") + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : tokenization_seconds_(seconds_buckets()),
      queue_seconds_(seconds_buckets()),
      inference_seconds_(seconds_buckets()),
      input_tokens_(powers_of_two(8192)),
      batch_sequences_(powers_of_two(8192)),
      batch_tokens_(powers_of_two(65536)),
      batch_seconds_(seconds_buckets()) {}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  auto it = request_seconds_.find(route);
  if (it == request_seconds_.end()) it = request_seconds_.emplace(route, Histogram(seconds_buckets())).first;
  it->second.observe(seconds);
}

void Metrics::record_inference(double tokenization, double queue, double inference, size_t tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  tokenization_seconds_.observe(tokenization);
  queue_seconds_.observe(queue);
  inference_seconds_.observe(inference);
  input_tokens_.observe(static_cast<double>(tokens));
}

void Metrics::record_batch(const BatchStats& s) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++batches_;
  batch_sequences_.observe(static_cast<double>(s.sequences));
  batch_tokens_.observe(static_cast<double>(s.tokens));
  batch_seconds_.observe(s.inference_seconds);
}

std::string Metrics::render(size_t queue_depth, size_t in_flight) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "encore_http_requests_total", "counter", "HTTP requests by route and status code.");
  for (const auto& [key, n] : requests_)
    out += "encore_http_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  header(out, "encore_http_request_duration_seconds", "histogram", "Time from the request's arrival to its response.");
  for (const auto& [route, h] : request_seconds_)
    h.render(out, "encore_http_request_duration_seconds", "route=\"" + route + "\"");
  header(out, "encore_request_tokenization_duration_seconds", "histogram", "Parsing and tokenization time of an inference request.");
  tokenization_seconds_.render(out, "encore_request_tokenization_duration_seconds", "");
  header(out, "encore_request_queue_duration_seconds", "histogram", "Time an inference request waited for its batch.");
  queue_seconds_.render(out, "encore_request_queue_duration_seconds", "");
  header(out, "encore_request_inference_duration_seconds", "histogram", "Time of the batches that ran an inference request.");
  inference_seconds_.render(out, "encore_request_inference_duration_seconds", "");
  header(out, "encore_request_input_tokens", "histogram", "Tokens of an inference request (all its inputs).");
  input_tokens_.render(out, "encore_request_input_tokens", "");
  header(out, "encore_batches_total", "counter", "Batches run by the model.");
  out += "encore_batches_total " + std::to_string(batches_) + "\n";
  header(out, "encore_batch_size", "histogram", "Sequences per batch.");
  batch_sequences_.render(out, "encore_batch_size", "");
  header(out, "encore_batch_tokens", "histogram", "Tokens per batch.");
  batch_tokens_.render(out, "encore_batch_tokens", "");
  header(out, "encore_batch_inference_duration_seconds", "histogram", "Model time per batch.");
  batch_seconds_.render(out, "encore_batch_inference_duration_seconds", "");
  header(out, "encore_queue_depth", "gauge", "Sequences waiting for a batch.");
  out += "encore_queue_depth " + std::to_string(queue_depth) + "\n";
  header(out, "encore_requests_in_flight", "gauge", "Inference requests accepted and not yet answered.");
  out += "encore_requests_in_flight " + std::to_string(in_flight) + "\n";
  return out;
}

}  // namespace encore::serve
