// Throughput driver for bench/compare.py: times encore on the inputs the harness gives
// every engine, so the numbers line up with the Python engines'.
//
//   encore_throughput --model DIR --ids FILE   [options]   pre-tokenized: Model::encode
//   encore_throughput --model DIR --texts FILE [options]   end to end: Embedder::embed
//   encore_throughput --model DIR --texts FILE --tokenize-only [options]
//
// --ids FILE: one sequence per line, token ids separated by spaces (special tokens
// included). --texts FILE: one UTF-8 text per line.
//
// options:
//   --batch B        sequences per encode/embed call (default 64)
//   --threads T      OpenMP threads (0: OpenMP default)
//   --shards K       split the input into K contiguous shards and time each one (default 1)
//   --runs N         timed passes over every shard (default 1)
//   --warmup W       untimed passes over the first shard first (default 1)
//   --warmup-items N with --warmup: only the first N sequences of that shard (0: all)
//   --pool mean      with --ids: mean-pool and L2-normalize each sequence (what the
//                    embedding engines do after the encoder)
//   --output F.npy   with --texts: write the embeddings of the last pass (float32 [N, D])
//
// Prints one line per timed pass and shard: "time_ms SHARD SEQUENCES MS", then
// "tokens TOTAL" (the number of tokens in the input, special tokens included).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "encore/embedder.h"
#include "encore/error.h"
#include "encore/model.h"
#include "encore/tokenizer.h"
#include "ids_file.h"
#include "npy.h"

using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// Mean over a sequence's rows, then L2 normalization (sentence-transformers' mean + Normalize).
void mean_pool_normalize(const float* rows, int64_t n, int64_t H, float* out) {
  std::fill(out, out + H, 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < H; ++h) out[h] += rows[t * H + h];
  double ss = 0.0;
  for (int64_t h = 0; h < H; ++h) {
    out[h] /= static_cast<float>(n);
    ss += static_cast<double>(out[h]) * out[h];
  }
  const float inv = static_cast<float>(1.0 / std::max(std::sqrt(ss), 1e-12));
  for (int64_t h = 0; h < H; ++h) out[h] *= inv;
}

struct Shard {
  size_t begin, end;
};

std::vector<Shard> make_shards(size_t n, int k) {
  std::vector<Shard> shards;
  for (int s = 0; s < k; ++s) {
    const size_t b = n * static_cast<size_t>(s) / static_cast<size_t>(k);
    const size_t e = n * static_cast<size_t>(s + 1) / static_cast<size_t>(k);
    if (e > b) shards.push_back({b, e});
  }
  return shards;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, ids_file, texts_file, pool, output, dtype = "f32";
  int batch = 64, threads = 0, shards = 1, runs = 1, warmup = 1, warmup_items = 0;
  bool tokenize_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tokenize-only") {
      tokenize_only = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "encore_throughput: %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--model") model_dir = v;
    else if (a == "--ids") ids_file = v;
    else if (a == "--texts") texts_file = v;
    else if (a == "--batch") batch = std::atoi(v.c_str());
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--shards") shards = std::atoi(v.c_str());
    else if (a == "--runs") runs = std::atoi(v.c_str());
    else if (a == "--warmup") warmup = std::atoi(v.c_str());
    else if (a == "--warmup-items") warmup_items = std::atoi(v.c_str());
    else if (a == "--pool") pool = v;
    else if (a == "--output") output = v;
    else if (a == "--dtype") dtype = v;
    else {
      std::fprintf(stderr, "encore_throughput: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (model_dir.empty() || ids_file.empty() == texts_file.empty() || batch < 1 || shards < 1 || runs < 1 ||
      warmup < 0 || warmup_items < 0 || (!pool.empty() && pool != "mean")) {
    std::fprintf(stderr,
                 "usage: encore_throughput --model DIR (--ids FILE [--pool mean] | --texts FILE [--tokenize-only] "
                 "[--output F.npy])\n"
                 "                         [--batch B] [--threads T] [--shards K] [--runs N] [--warmup W] [--warmup-items N]\n"
                 "                         [--dtype f32|bf16|int8]\n");
    return 2;
  }

  try {
    if (!ids_file.empty()) {
      encore::LoadOptions lo;
      lo.dtype = encore::compute_type_from_name(dtype);
      const encore::Model model = encore::Model::load(model_dir, lo);
      const int64_t H = model.config().hidden;
      const auto seqs = read_ids(ids_file);
      size_t tokens = 0;
      for (const auto& s : seqs) tokens += s.size();
      encore::ForwardOptions opt;
      opt.threads = threads;
      // Batches are built outside the timed region: the input is already token ids.
      std::vector<encore::TokenBatch> batches;
      std::vector<size_t> batch_shard;
      const auto parts = make_shards(seqs.size(), shards);
      for (size_t p = 0; p < parts.size(); ++p)
        for (size_t b = parts[p].begin; b < parts[p].end; b += static_cast<size_t>(batch)) {
          encore::TokenBatch tb;
          for (size_t i = b; i < std::min(parts[p].end, b + static_cast<size_t>(batch)); ++i) tb.ids.push_back(seqs[i]);
          batches.push_back(std::move(tb));
          batch_shard.push_back(p);
        }
      std::vector<float> pooled(static_cast<size_t>(H) * static_cast<size_t>(batch));
      auto run_shard = [&](size_t p) {
        for (size_t k = 0; k < batches.size(); ++k) {
          if (batch_shard[k] != p) continue;
          const encore::Encoded out = model.encode(batches[k], opt);
          if (pool == "mean")
            for (size_t s = 0; s + 1 < out.cu.size(); ++s)
              mean_pool_normalize(out.states.data<float>() + out.cu[s] * H, out.cu[s + 1] - out.cu[s], H,
                                  pooled.data() + s * static_cast<size_t>(H));
        }
      };
      const size_t wn = warmup_items > 0 ? std::min(parts[0].end, static_cast<size_t>(warmup_items)) : parts[0].end;
      for (int w = 0; w < warmup; ++w)
        for (size_t b = 0; b < wn; b += static_cast<size_t>(batch)) {
          encore::TokenBatch tb;
          for (size_t i = b; i < std::min(wn, b + static_cast<size_t>(batch)); ++i) tb.ids.push_back(seqs[i]);
          model.encode(tb, opt);
        }
      for (int r = 0; r < runs; ++r)
        for (size_t p = 0; p < parts.size(); ++p) {
          const auto t0 = Clock::now();
          run_shard(p);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          std::printf("time_ms %zu %zu %.4f\n", p, parts[p].end - parts[p].begin, ms);
          std::fflush(stdout);
        }
      std::printf("tokens %zu\n", tokens);
      return 0;
    }

    encore::EmbedderOptions eo;
    eo.dtype = encore::compute_type_from_name(dtype);
    eo.batch_size = batch;
    eo.threads = threads;
    const encore::Embedder embedder = encore::Embedder::load(model_dir, eo);
    const auto texts = read_lines(texts_file);
    const auto parts = make_shards(texts.size(), shards);
    encore::EncodeOptions enc;
    enc.truncation.strategy = encore::TruncationStrategy::LongestFirst;
    enc.truncation.max_length = static_cast<size_t>(embedder.max_length());
    size_t tokens = 0;
    for (const auto& t : texts) tokens += embedder.tokenizer().encode(t, enc).size();
    std::vector<float> matrix;
    const size_t D = static_cast<size_t>(embedder.dimensions());
    if (!output.empty()) matrix.assign(texts.size() * D, 0.0f);
    size_t failed = 0;
    volatile size_t token_sink = 0;
    auto run_range = [&](size_t begin, size_t end, bool keep) {
      std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                    texts.begin() + static_cast<std::ptrdiff_t>(end));
      if (tokenize_only) {
        size_t n = 0;
        for (const auto& t : part) n += embedder.tokenizer().encode(t, enc).size();
        token_sink = token_sink + n;  // keeps the loop observable
        return;
      }
      const auto results = embedder.embed(part);
      for (size_t i = 0; i < results.size(); ++i) {
        if (!results[i].error.empty()) ++failed;
        if (keep && !output.empty())
          std::copy(results[i].embedding.begin(), results[i].embedding.end(),
                    matrix.begin() + static_cast<std::ptrdiff_t>((begin + i) * D));
      }
    };
    auto run_shard = [&](size_t p, bool keep) { run_range(parts[p].begin, parts[p].end, keep); };
    const size_t wn = warmup_items > 0 ? std::min(parts[0].end, static_cast<size_t>(warmup_items)) : parts[0].end;
    for (int w = 0; w < warmup; ++w) run_range(0, wn, false);
    for (int r = 0; r < runs; ++r)
      for (size_t p = 0; p < parts.size(); ++p) {
        const auto t0 = Clock::now();
        run_shard(p, r == runs - 1);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        std::printf("time_ms %zu %zu %.4f\n", p, parts[p].end - parts[p].begin, ms);
        std::fflush(stdout);
      }
    std::printf("tokens %zu\n", tokens);
    if (!output.empty()) write_npy(output, matrix.data(), texts.size(), D);
    if (failed) {
      std::fprintf(stderr, "encore_throughput: %zu text(s) failed\n", failed);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encore_throughput: %s\n", e.what());
    return 1;
  }
}
