#include "serve/batcher.h"

#include <malloc.h>

#include <algorithm>
#include <exception>
#include <unordered_set>

namespace encore::serve {

Job::Job(size_t sequences, Done done, Clock::time_point deadline, std::shared_ptr<const std::atomic<bool>> cancelled)
    : results(sequences),
      submitted(Clock::now()),
      remaining_(sequences),
      done_(std::move(done)),
      deadline_(deadline),
      cancelled_(std::move(cancelled)) {}

void Job::finish_one() {
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1 && done_) done_(*this);
}

Batcher::Batcher(Backend& backend, BatcherOptions options, std::function<void(const BatchStats&)> on_batch)
    : backend_(backend), options_(options), on_batch_(std::move(on_batch)) {
  if (options_.max_batch_tokens == 0) options_.max_batch_tokens = 1;
  queue_thread_ = std::thread([this] { queue_loop(); });
  inference_thread_ = std::thread([this] { inference_loop(); });
}

Batcher::~Batcher() { stop(); }

bool Batcher::submit(std::vector<Sequence> sequences) {
  if (sequences.empty()) return true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    const Clock::time_point now = Clock::now();
    for (Sequence& s : sequences) {
      s.job->submitted = now;
      s.job->tokens += s.ids.size();
      queue_.push_back(std::move(s));
    }
  }
  queue_cv_.notify_one();
  return true;
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_one();
  ready_cv_.notify_one();
  if (queue_thread_.joinable()) queue_thread_.join();
  if (inference_thread_.joinable()) inference_thread_.join();
}

size_t Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + next_.size();
}

void Batcher::fill_next() {
  while (!queue_.empty()) {
    const Sequence& head = queue_.front();
    const bool fits = next_.empty() || (next_tokens_ + head.ids.size() <= options_.max_batch_tokens &&
                                        (options_.max_batch_requests == 0 || next_.size() < options_.max_batch_requests));
    if (!fits) {
      next_full_ = true;
      return;
    }
    next_tokens_ += head.ids.size();
    next_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

void Batcher::queue_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return (!queue_.empty() && !next_full_) || (stopping_ && queue_.empty()); });
    fill_next();
    if (!next_.empty()) ready_cv_.notify_one();
    if (stopping_ && queue_.empty()) break;
  }
  queue_done_ = true;
  ready_cv_.notify_one();
}

void Batcher::inference_loop() {
  // After a burst, the heap keeps what the batches and their answers freed (glibc returns
  // little of it by itself: 16 requests of 32 long /embed_all inputs left a server at 519 MB,
  // 359 MB after malloc_trim). Once idle for a second after a batch, it is given back.
  constexpr auto kIdleTrim = std::chrono::seconds(1);
  bool trimmed = true;
  for (;;) {
    std::vector<Sequence> batch;
    size_t depth = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto ready = [&] { return !next_.empty() || queue_done_; };
      while (!ready()) {
        if (trimmed) {
          ready_cv_.wait(lock, ready);
        } else if (!ready_cv_.wait_for(lock, kIdleTrim, ready)) {
          lock.unlock();
          malloc_trim(0);
          lock.lock();
          trimmed = true;
        }
      }
      trimmed = false;
      if (next_.empty()) break;  // queue_done_: nothing will come
      // What was queued since the queue thread last ran joins too, as far as it fits (the
      // batch then does not depend on which thread the scheduler ran first).
      fill_next();
      batch.swap(next_);
      next_tokens_ = 0;
      next_full_ = false;
      depth = queue_.size();
    }
    queue_cv_.notify_one();
    run_batch(batch, depth);
  }
}

void Batcher::run_batch(std::vector<Sequence>& batch, size_t depth) {
  // Sequences whose request is gone, late or already failed cost nothing more.
  const Clock::time_point started = Clock::now();
  std::vector<Sequence> live;
  live.reserve(batch.size());
  for (Sequence& s : batch) {
    Job& job = *s.job;
    bool skip = false;
    {
      std::lock_guard<std::mutex> lock(job.mutex_);
      if (job.cancelled()) job.cancelled_by_client = skip = true;
      else if (started > job.deadline()) job.timed_out = skip = true;
      else skip = !job.error.empty();
    }
    if (skip) {
      s.job->finish_one();
    } else {
      live.push_back(std::move(s));
    }
  }
  if (live.empty()) return;

  BackendBatch in;
  size_t total = 0;
  for (Sequence& s : live) {
    total += s.ids.size();
    in.tokens.ids.push_back(std::move(s.ids));
    in.tokens.type_ids.push_back(s.type_ids.empty() ? std::vector<int32_t>(in.tokens.ids.back().size(), 0)
                                                    : std::move(s.type_ids));
    in.all_tokens.push_back(s.all_tokens);
    in.prompt_tokens.push_back(s.prompt_tokens);
    in.is_query.push_back(s.is_query);
    in.attended.push_back(s.attended);
  }
  std::vector<SequenceResult> out(live.size());
  std::vector<std::string> errors(live.size());
  computing_.store(true);
  try {
    backend_.run(in, out);
  } catch (const std::exception&) {
    // One bad sequence must not fail its neighbours: run each alone to find it.
    for (size_t i = 0; i < live.size(); ++i) {
      BackendBatch one;
      one.tokens.ids.push_back(in.tokens.ids[i]);
      one.tokens.type_ids.push_back(in.tokens.type_ids[i]);
      one.all_tokens.push_back(in.all_tokens[i]);
      one.prompt_tokens.push_back(in.prompt_tokens[i]);
      one.is_query.push_back(in.is_query[i]);
      one.attended.push_back(in.attended[i]);
      std::vector<SequenceResult> single(1);
      try {
        backend_.run(one, single);
        out[i] = std::move(single[0]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  }
  computing_.store(false);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (on_batch_) on_batch_({live.size(), total, seconds, depth});
  deliver(live, out, started, seconds, errors);
}

void Batcher::deliver(std::vector<Sequence>& batch, std::vector<SequenceResult>& out, Clock::time_point started,
                      double seconds, const std::vector<std::string>& errors) {
  // A job with several sequences in this batch counts its inference time once.
  std::unordered_set<const Job*> counted;
  for (size_t i = 0; i < batch.size(); ++i) {
    Job& job = *batch[i].job;
    {
      std::lock_guard<std::mutex> lock(job.mutex_);
      if (!errors[i].empty()) {
        if (job.error.empty()) job.error = errors[i];
      } else {
        job.results[batch[i].index] = std::move(out[i]);
      }
      job.queue_seconds = std::max(job.queue_seconds, std::chrono::duration<double>(started - job.submitted).count());
      if (counted.insert(&job).second) job.inference_seconds += seconds;
    }
    batch[i].job->finish_one();
  }
}

}  // namespace encore::serve
