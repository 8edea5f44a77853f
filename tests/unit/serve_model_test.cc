// encore serve with the real all-MiniLM-L6-v2: sentences submitted concurrently from many
// threads, batched as they come, give the embeddings each sentence gets alone, and those of
// Embedder::embed (the `encore embed` path). Skips when the model is absent.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <future>
#include <thread>

#include "encore/embedder.h"
#include "serve/batcher.h"
#include "serve/embedder_backend.h"
#include "serve_test_util.h"

namespace encore::serve {
namespace {

using testing::max_diff;

const std::filesystem::path kModel = std::filesystem::path(ENCORE_MODELS_DIR) / "all-MiniLM-L6-v2";

std::vector<std::string> sentences() {
  std::vector<std::string> out;
  const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "while", "servers",
                         "batch", "ragged", "sequences", "of", "tokens", "Ünïcödé", "日本語", "emoji 😀"};
  for (int i = 0; i < 32; ++i) {
    std::string s;
    for (int k = 0; k <= (i * 7) % 23; ++k) s += std::string(k ? " " : "") + words[(i * 5 + k * 3) % 18];
    out.push_back(s);
  }
  return out;
}

TEST(ServeModel, ConcurrentBatchesEqualSingleRuns) {
  if (!std::filesystem::exists(kModel / "model.safetensors"))
    GTEST_SKIP() << "SKIPPED: " << kModel << " is absent (run scripts/fetch-model.sh)";
  EmbedderOptions eo;
  eo.normalize = false;
  const Embedder embedder = Embedder::load(kModel.string(), eo);
  EmbedderBackend backend(embedder);
  const std::vector<std::string> texts = sentences();

  // Each sentence alone: a batch of one.
  std::vector<std::vector<float>> alone;
  std::vector<Sequence> encoded;
  for (const std::string& t : texts) {
    Encoding e = embedder.prepare(t).encoding;
    BackendBatch one;
    one.tokens.ids.push_back(e.ids);
    one.tokens.type_ids.push_back(e.type_ids);
    one.all_tokens.push_back(false);
    one.prompt_tokens.push_back(0);
    std::vector<SequenceResult> out(1);
    backend.run(one, out);
    alone.push_back(out[0].pooled);
    Sequence s;
    s.ids = std::move(e.ids);
    s.type_ids = std::move(e.type_ids);
    encoded.push_back(std::move(s));
  }

  // All of them from 8 threads at once, one or two sentences per request.
  size_t batches = 0, max_batch = 0;
  std::mutex stats_mutex;
  Batcher batcher(backend, {16384, 0}, [&](const BatchStats& s) {
    std::lock_guard<std::mutex> lock(stats_mutex);
    ++batches;
    max_batch = std::max(max_batch, s.sequences);
  });
  std::vector<std::vector<float>> batched(texts.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (size_t i = c; i < texts.size(); i += 16) {
        std::vector<size_t> which = {i};
        if (i + 8 < texts.size()) which.push_back(i + 8);
        std::promise<void> done;
        auto job = std::make_shared<Job>(which.size(), [&done](Job&) { done.set_value(); },
                                         Clock::now() + std::chrono::minutes(5));
        std::vector<Sequence> seqs;
        for (size_t k = 0; k < which.size(); ++k) {
          Sequence s = encoded[which[k]];
          s.job = job;
          s.index = k;
          seqs.push_back(std::move(s));
        }
        ASSERT_TRUE(batcher.submit(std::move(seqs)));
        done.get_future().wait();
        ASSERT_TRUE(job->error.empty()) << job->error;
        for (size_t k = 0; k < which.size(); ++k) batched[which[k]] = job->results[k].pooled;
      }
    });
  }
  for (auto& t : clients) t.join();

  // And the Embedder's own path (64 texts per forward pass, in order).
  const std::vector<EmbedResult> reference = embedder.embed(texts);

  double worst_alone = 0.0, worst_embed = 0.0;
  size_t bitwise = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    worst_alone = std::max(worst_alone, max_diff(batched[i], alone[i]));
    worst_embed = std::max(worst_embed, max_diff(batched[i], reference[i].embedding));
    bitwise += batched[i] == alone[i];
  }
  std::printf("batches %zu (largest %zu sequences); max |batched - alone| %.3g, |batched - embed()| %.3g; "
              "bitwise equal %zu/%zu\n",
              batches, max_batch, worst_alone, worst_embed, bitwise, texts.size());
  EXPECT_LE(worst_alone, 1e-6);
  EXPECT_LE(worst_embed, 1e-6);
}

}  // namespace
}  // namespace encore::serve
