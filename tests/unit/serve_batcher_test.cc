// encore serve's Batcher (serve/batcher.cc) with a fake backend: token and request
// budgets, results routed to the right request under concurrency, a failing sequence
// isolated, cancelled and late requests never run, the next batch filling while one runs,
// and a drain on stop. The real model's batch invariance is in serve_model_test.cc.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "serve/batcher.h"

namespace encore::serve {
namespace {

// pooled = {sum of ids, length, first id}; id 666 makes the whole batch throw. Optionally
// holds each batch until released, to shape what the queue sees.
class FakeBackend : public Backend {
 public:
  void run(const BackendBatch& in, std::vector<SequenceResult>& out) override {
    const TokenBatch& batch = in.tokens;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      std::vector<size_t> sizes;
      for (const auto& ids : batch.ids) sizes.push_back(ids.size());
      batches_.push_back(sizes);
      for (const auto& ids : batch.ids) seen_.push_back(ids);
      ++started_;
      started_cv_.notify_all();
      release_cv_.wait(lock, [&] { return released_ >= started_; });
    }
    for (const auto& ids : batch.ids)
      for (int32_t id : ids)
        if (id == 666) throw std::runtime_error("token 666 is cursed");
    for (size_t i = 0; i < batch.ids.size(); ++i) {
      float sum = 0;
      for (int32_t id : batch.ids[i]) sum += static_cast<float>(id);
      out[i].pooled = {sum, static_cast<float>(batch.ids[i].size()), static_cast<float>(batch.ids[i][0])};
      if (in.all_tokens[i]) out[i].tokens.assign(batch.ids[i].begin(), batch.ids[i].end());
    }
  }
  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = started_;
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = 1u << 30;
    release_cv_.notify_all();
  }
  void release_one() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++released_;
    release_cv_.notify_all();
  }
  void wait_started(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    started_cv_.wait(lock, [&] { return started_ >= n; });
  }
  std::vector<std::vector<size_t>> batches() {
    std::lock_guard<std::mutex> lock(mutex_);
    return batches_;
  }
  std::vector<std::vector<int32_t>> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable started_cv_, release_cv_;
  std::vector<std::vector<size_t>> batches_;
  std::vector<std::vector<int32_t>> seen_;
  size_t started_ = 0, released_ = 1u << 30;
};

const Clock::time_point kFar = Clock::now() + std::chrono::hours(1);

// Submits sequences as one job and returns a future of the finished job's results.
struct Submitted {
  std::shared_ptr<Job> job;
  std::future<void> done;
};
Submitted submit(Batcher& b, const std::vector<std::vector<int32_t>>& seqs, Clock::time_point deadline = kFar,
                 std::shared_ptr<std::atomic<bool>> cancelled = nullptr, bool all_tokens = false) {
  auto promise = std::make_shared<std::promise<void>>();
  Submitted s;
  s.done = promise->get_future();
  s.job = std::make_shared<Job>(seqs.size(), [promise](Job&) { promise->set_value(); }, deadline, cancelled);
  std::vector<Sequence> v;
  for (size_t i = 0; i < seqs.size(); ++i) {
    Sequence q;
    q.ids = seqs[i];
    q.all_tokens = all_tokens;
    q.job = s.job;
    q.index = i;
    v.push_back(std::move(q));
  }
  EXPECT_TRUE(b.submit(std::move(v)));
  return s;
}

TEST(ServeBatcher, TokenAndRequestBudgets) {
  FakeBackend backend;
  backend.hold();  // the first batch waits, so the rest queue up behind it
  Batcher batcher(backend, {10, 3});
  auto first = submit(batcher, {{1, 2}});
  backend.wait_started(1);
  std::vector<Submitted> jobs;
  for (int i = 0; i < 12; ++i) jobs.push_back(submit(batcher, {{1, 2, 3, 4}}));  // 4 tokens each
  backend.release_all();
  first.done.wait();
  for (auto& j : jobs) j.done.wait();
  size_t total = 0;
  for (const auto& sizes : backend.batches()) {
    size_t tokens = 0;
    for (size_t n : sizes) tokens += n;
    EXPECT_LE(tokens, 10u);
    EXPECT_LE(sizes.size(), 3u);
    total += sizes.size();
  }
  EXPECT_EQ(total, 13u);
}

TEST(ServeBatcher, NextBatchFillsWhileOneRuns) {
  FakeBackend backend;
  backend.hold();
  Batcher batcher(backend, {1000, 0});
  auto first = submit(batcher, {{5}});
  backend.wait_started(1);
  std::vector<Submitted> jobs;
  for (int i = 0; i < 20; ++i) jobs.push_back(submit(batcher, {{1, 2}, {3}}));
  EXPECT_EQ(batcher.queue_depth(), 40u);
  backend.release_all();
  for (auto& j : jobs) j.done.wait();
  const auto batches = backend.batches();
  ASSERT_EQ(batches.size(), 2u);  // everything that queued behind the first batch ran as one
  EXPECT_EQ(batches[1].size(), 40u);
}

TEST(ServeBatcher, ResultsReachTheirRequestUnderConcurrency) {
  FakeBackend backend;
  std::atomic<size_t> batches{0};
  Batcher batcher(backend, {64, 0}, [&](const BatchStats&) { ++batches; });
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(c);
      for (int r = 0; r < 50; ++r) {
        std::vector<std::vector<int32_t>> seqs(1 + rng() % 4);
        for (auto& s : seqs) {
          s.resize(1 + rng() % 20);
          for (auto& id : s) id = static_cast<int32_t>(rng() % 600);  // never the cursed 666
        }
        auto sub = submit(batcher, seqs, kFar, nullptr, r % 2 == 0);
        sub.done.wait();
        for (size_t i = 0; i < seqs.size(); ++i) {
          float sum = 0;
          for (int32_t id : seqs[i]) sum += static_cast<float>(id);
          const auto& res = sub.job->results[i];
          if (res.pooled != std::vector<float>{sum, static_cast<float>(seqs[i].size()), static_cast<float>(seqs[i][0])})
            ++wrong;
          if (r % 2 == 0 && res.tokens.size() != seqs[i].size()) ++wrong;
        }
        if (!sub.job->error.empty()) ++wrong;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(batches.load(), 0u);
}

TEST(ServeBatcher, AFailingSequenceFailsOnlyItsRequest) {
  FakeBackend backend;
  backend.hold();
  Batcher batcher(backend, {1000, 0});
  auto first = submit(batcher, {{1}});
  backend.wait_started(1);
  auto good = submit(batcher, {{1, 2, 3}});
  auto bad = submit(batcher, {{4, 666}, {5}});
  auto also_good = submit(batcher, {{7}});
  backend.release_all();
  good.done.wait();
  bad.done.wait();
  also_good.done.wait();
  EXPECT_TRUE(good.job->error.empty());
  EXPECT_EQ(good.job->results[0].pooled[0], 6.0f);
  EXPECT_NE(bad.job->error.find("cursed"), std::string::npos);
  EXPECT_TRUE(also_good.job->error.empty());
  EXPECT_EQ(also_good.job->results[0].pooled[0], 7.0f);
}

TEST(ServeBatcher, CancelledAndLateRequestsNeverRun) {
  FakeBackend backend;
  backend.hold();
  Batcher batcher(backend, {1000, 0});
  auto first = submit(batcher, {{1}});
  backend.wait_started(1);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto gone = submit(batcher, {{4242, 1}}, kFar, cancelled);
  auto late = submit(batcher, {{4343, 1}}, Clock::now() + std::chrono::milliseconds(1));
  cancelled->store(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  backend.release_all();
  gone.done.wait();
  late.done.wait();
  EXPECT_TRUE(gone.job->cancelled_by_client);
  EXPECT_TRUE(late.job->timed_out);
  for (const auto& ids : backend.seen()) EXPECT_TRUE(ids[0] != 4242 && ids[0] != 4343);
}

TEST(ServeBatcher, StopDrainsTheQueueThenRefuses) {
  FakeBackend backend;
  auto batcher = std::make_unique<Batcher>(backend, BatcherOptions{8, 0});
  std::vector<Submitted> jobs;
  for (int i = 0; i < 30; ++i) jobs.push_back(submit(*batcher, {{1, 2, 3}}));
  batcher->stop();
  for (auto& j : jobs) {
    ASSERT_EQ(j.done.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(j.job->error.empty());
  }
  Sequence s;
  s.ids = {1};
  s.job = std::make_shared<Job>(1, nullptr, kFar);
  std::vector<Sequence> v;
  v.push_back(std::move(s));
  EXPECT_FALSE(batcher->submit(std::move(v)));
  batcher.reset();  // a second stop is harmless
}

TEST(ServeBatcher, TimingsAreRecorded) {
  FakeBackend backend;
  Batcher batcher(backend, {1000, 0});
  auto s = submit(batcher, {{1, 2}, {3, 4, 5}});
  s.done.wait();
  EXPECT_EQ(s.job->tokens, 5u);
  EXPECT_GE(s.job->queue_seconds, 0.0);
  EXPECT_GE(s.job->inference_seconds, 0.0);
}

}  // namespace
}  // namespace encore::serve
