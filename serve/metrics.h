// Prometheus metrics of encore serve (text exposition format 0.0.4). Names, with TEI's
// counterpart where there is one, are listed in docs/serving.md.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/batcher.h"

namespace encore::serve {

// A cumulative histogram with fixed upper bounds (Prometheus `le` buckets plus +Inf).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();

  // One HTTP exchange: its route ("/embed", or "other" for unknown paths) and status.
  void record_request(const std::string& route, int status, double seconds);
  // Where an inference request's time went, and how many tokens it had.
  void record_inference(double tokenization_seconds, double queue_seconds, double inference_seconds,
                        size_t tokens);
  void record_batch(const BatchStats& stats);

  std::string render(size_t queue_depth, size_t in_flight) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> request_seconds_;  // by route
  Histogram tokenization_seconds_, queue_seconds_, inference_seconds_, input_tokens_;
  Histogram batch_sequences_, batch_tokens_, batch_seconds_;
  uint64_t batches_ = 0;
};

}  // namespace encore::serve
