// Dynamic batching, after text-embeddings-inference core/src/queue.rs and infer.rs: routes
// submit tokenized sequences; a queue thread packs them, first come first served, into the
// next ragged batch up to a token budget and a sequence count; an inference thread runs
// one batch while the next one fills. Each sequence's result depends on that sequence only
// (Model::encode is ragged: no padding, attention within each sequence), so batching never
// changes an answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "encore/model.h"
#include "encore/sparse_encoder.h"

namespace encore::serve {

using Clock = std::chrono::steady_clock;

// What the backend gives back for one sequence.
struct SequenceResult {
  std::vector<float> pooled;  // the sentence embedding as the model's modules leave it (Embedder::run)
  std::vector<float> tokens;  // [n, width] token embeddings, when asked for
  std::vector<float> logits;  // a classifier's head output, one per label
  SparseEmbedding sparse;     // a SPLADE model's non-zero weights, or bge-m3's lexical weights
};

// One ragged batch as the backend sees it.
struct BackendBatch {
  TokenBatch tokens;
  std::vector<bool> all_tokens;        // per sequence: return token embeddings (/embed_all)
  std::vector<int64_t> prompt_tokens;  // per sequence: leading prompt tokens (PreparedText)
  std::vector<bool> is_query;          // per sequence, ColBERT: a query (ColBERT::Input)
  std::vector<size_t> attended;        // per sequence, ColBERT: the attended leading positions
};

// Runs ragged batches: TEI's backend trait, reduced to what encore serves.
class Backend {
 public:
  virtual ~Backend() = default;
  // Fills out[i] for sequence i; token embeddings only where all_tokens[i]. May throw.
  virtual void run(const BackendBatch& batch, std::vector<SequenceResult>& out) = 0;
};

// One request's share of the queue: its sequences, their results, and its deadline. The
// callback runs once, on the inference thread, when every sequence is done or has failed;
// keep it short (hand the response to another thread).
class Job : public std::enable_shared_from_this<Job> {
 public:
  using Done = std::function<void(Job&)>;
  Job(size_t sequences, Done done, Clock::time_point deadline,
      std::shared_ptr<const std::atomic<bool>> cancelled = nullptr);

  std::vector<SequenceResult> results;  // one per sequence, in submission order
  std::string error;                    // set when any sequence failed: the request fails
  bool timed_out = false;               // the deadline passed before the sequence ran
  bool cancelled_by_client = false;     // the client went away before the sequence ran

  Clock::time_point submitted;            // when the sequences entered the queue
  double queue_seconds = 0.0;             // submitted -> the start of its last batch
  double inference_seconds = 0.0;         // total time of the batches that ran it
  size_t tokens = 0;                      // tokens of all its sequences

  bool cancelled() const { return cancelled_ && cancelled_->load(std::memory_order_relaxed); }
  Clock::time_point deadline() const { return deadline_; }

 private:
  friend class Batcher;
  void finish_one();

  std::atomic<size_t> remaining_;
  std::mutex mutex_;  // guards error, flags and timings (sequences of a job can finish on retries)
  Done done_;
  Clock::time_point deadline_;
  std::shared_ptr<const std::atomic<bool>> cancelled_;
};

// One sequence in the queue.
struct Sequence {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;  // empty: all zero
  bool all_tokens = false;        // return per-token states (/embed_all)
  int64_t prompt_tokens = 0;      // leading tokens that are the prompt (PreparedText)
  bool is_query = false;          // ColBERT: a query's ids and attended positions (ColBERT::Input)
  size_t attended = 0;
  std::shared_ptr<Job> job;
  size_t index = 0;               // position in job->results
};

struct BatcherOptions {
  size_t max_batch_tokens = 16384;  // token budget of one batch
  size_t max_batch_requests = 0;    // sequences per batch; 0: no limit beyond the tokens
};

// Observations for /metrics, reported once per batch from the inference thread.
struct BatchStats {
  size_t sequences = 0;
  size_t tokens = 0;
  double inference_seconds = 0.0;
  size_t queue_depth = 0;  // sequences still waiting when the batch started
};

class Batcher {
 public:
  Batcher(Backend& backend, BatcherOptions options, std::function<void(const BatchStats&)> on_batch = {});
  ~Batcher();  // stops after the queue drains
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues a request's sequences (all of one job, together). Returns false once stopping.
  // A sequence longer than max_batch_tokens is the caller's error (checked at startup).
  bool submit(std::vector<Sequence> sequences);
  // Runs what is queued, then stops the threads. Idempotent.
  void stop();

  size_t queue_depth() const;  // sequences waiting, in the open next batch included
  bool computing() const { return computing_.load(); }  // the backend is running a batch now
  const BatcherOptions& options() const { return options_; }

 private:
  void fill_next();       // moves queued sequences into the next batch while they fit (under mutex_)
  void queue_loop();      // fills the next batch as sequences are queued
  void inference_loop();  // takes the next batch, runs it, delivers the results
  void run_batch(std::vector<Sequence>& batch, size_t depth);
  void deliver(std::vector<Sequence>& batch, std::vector<SequenceResult>& out, Clock::time_point started,
               double seconds, const std::vector<std::string>& errors);

  Backend& backend_;
  BatcherOptions options_;
  std::function<void(const BatchStats&)> on_batch_;

  mutable std::mutex mutex_;
  std::condition_variable queue_cv_;  // wakes the queue thread: new sequences, or the next batch was taken
  std::condition_variable ready_cv_;  // wakes the inference thread: the next batch has sequences
  std::deque<Sequence> queue_;        // submitted, not yet in a batch
  std::vector<Sequence> next_;        // the batch being prepared
  size_t next_tokens_ = 0;
  bool next_full_ = false;            // the queue's head does not fit in next_
  bool stopping_ = false;
  bool queue_done_ = false;           // the queue thread has moved everything and exited
  std::atomic<bool> computing_{false};

  std::thread queue_thread_;
  std::thread inference_thread_;
};

}  // namespace encore::serve
