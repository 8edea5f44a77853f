// Thread counts are per call, not per process: a call with ForwardOptions / pipeline
// `threads` runs on that many and leaves the calling thread's OpenMP count as it found it, so
// two instances with different counts can run side by side (Python threads, Ray actors).
#include <gtest/gtest.h>
#include <omp.h>

#include <thread>

#include "encore/embedder.h"
#include "encore/model.h"
#include "test_util.h"

namespace encore::testing {
namespace {

const std::string kModel = fixture("st/st2-pooling").string();

std::vector<std::string> texts() {
  std::vector<std::string> t;
  for (int i = 0; i < 24; ++i) t.push_back("sentence number " + std::to_string(i) + " with some more words");
  return t;
}

TEST(ThreadScope, SetsTheCountForItsLifetimeAndRestoresIt) {
  omp_set_num_threads(3);
  {
    const ThreadScope scope(1);
    EXPECT_EQ(omp_get_max_threads(), 1);
  }
  EXPECT_EQ(omp_get_max_threads(), 3);
  {
    const ThreadScope none(0);  // 0: the caller's count
    EXPECT_EQ(omp_get_max_threads(), 3);
  }
  EXPECT_EQ(omp_get_max_threads(), 3);
}

TEST(ThreadScope, ACallWithThreadsLeavesTheCallersCount) {
  omp_set_num_threads(3);
  const Model model = Model::load(kModel);
  ForwardOptions one;
  one.threads = 1;
  TokenBatch batch;
  batch.ids = {{2, 5, 7, 3}, {2, 9, 3}};
  model.encode(batch, one);
  EXPECT_EQ(omp_get_max_threads(), 3);
  EmbedderOptions two;
  two.threads = 2;
  Embedder::load(kModel, two).embed(texts());
  EXPECT_EQ(omp_get_max_threads(), 3);
}

// Two instances with different counts, each on its own thread, at the same time: every
// result is bitwise what one instance gives alone, and neither thread's count changes.
TEST(ThreadScope, InstancesWithDifferentCountsRunSideBySide) {
  const std::vector<std::string> in = texts();
  const std::vector<EmbedResult> want = Embedder::load(kModel).embed(in);
  EmbedderOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const Embedder a = Embedder::load(kModel, one), b = Embedder::load(kModel, two);
  const auto worker = [&](const Embedder& e, int mine, int* mismatches, int* count_after) {
    omp_set_num_threads(mine);
    for (int round = 0; round < 20; ++round) {
      const std::vector<EmbedResult> got = e.embed(in);
      for (size_t i = 0; i < in.size(); ++i) *mismatches += got[i].embedding != want[i].embedding;
    }
    *count_after = omp_get_max_threads();
  };
  int mismatches_a = 0, mismatches_b = 0, after_a = 0, after_b = 0;
  std::thread ta(worker, std::cref(a), 5, &mismatches_a, &after_a);
  std::thread tb(worker, std::cref(b), 6, &mismatches_b, &after_b);
  ta.join();
  tb.join();
  EXPECT_EQ(mismatches_a, 0);
  EXPECT_EQ(mismatches_b, 0);
  EXPECT_EQ(after_a, 5);
  EXPECT_EQ(after_b, 6);
}

// One instance called from several threads at once (Python threads sharing a model): the
// same results as one call at a time, for every compute type (each packs differently).
TEST(ThreadScope, OneInstanceServesConcurrentCallers) {
  const std::vector<std::string> in = texts();
  for (const ComputeType type : {ComputeType::F32, ComputeType::BF16, ComputeType::Int8}) {
    EmbedderOptions o;
    o.dtype = type;
    o.threads = 1;
    const Embedder e = Embedder::load(kModel, o);
    const std::vector<EmbedResult> want = e.embed(in);
    int mismatches[3] = {0, 0, 0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (int round = 0; round < 15; ++round) {
          const std::vector<EmbedResult> got = e.embed(in);
          for (size_t i = 0; i < in.size(); ++i) mismatches[t] += got[i].embedding != want[i].embedding;
        }
      });
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(mismatches[0] + mismatches[1] + mismatches[2], 0) << compute_type_name(type);
  }
}

}  // namespace
}  // namespace encore::testing
