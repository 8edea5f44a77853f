// Resident memory against the number of distinct row counts the encoder has seen, and the
// time of each forward: the cost of shape-specific GEMM primitives (issue 16, item 5).
// Runs every token of the test as a length-1 sequence first (so that the embedding rows the
// passes read are resident before them), then batch-1 sequences of lengths 1..N twice, then
// the same lengths in R shuffled orders, timing each pass (the median and best of those).
//
// usage: encore_rss_lengths --model DIR [--lengths N] [--repeat R] [--dtype f32|bf16|int8] [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "encore/model.h"

static double rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0;
}

int main(int argc, char** argv) {
  std::string model_dir;
  int lengths = 250, threads = 0, repeat = 1;
  encore::LoadOptions lo;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--model") model_dir = v;
    else if (a == "--lengths") lengths = std::atoi(v.c_str());
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--repeat") repeat = std::max(1, std::atoi(v.c_str()));
    else if (a == "--dtype") lo.dtype = encore::compute_type_from_name(v);
  }
  if (model_dir.empty() || lengths < 1) {
    std::fprintf(stderr, "usage: encore_rss_lengths --model DIR [--lengths N] [--repeat R] [--dtype f32|bf16|int8] [--threads T]\n");
    return 2;
  }
  encore::Model model = encore::Model::load(model_dir, lo);
  const int max_len = std::min<int>(lengths, static_cast<int>(model.config().max_length));
  std::mt19937 rng(0);
  std::vector<encore::TokenBatch> batches;
  for (int n = 1; n <= max_len; ++n) {
    encore::TokenBatch tb;
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(model.config().vocab_size));
    tb.ids.push_back(ids);
    batches.push_back(tb);
  }
  encore::ForwardOptions opt;
  opt.threads = threads;
  model.encode(batches[0], opt);
  std::printf("loaded: %.1f MB\n", rss_mb());
  // The same random ids at one length: what the passes below touch of the embedding table
  // (mapped from the checkpoint, resident once read) without new row counts.
  for (const auto& b : batches) {
    encore::TokenBatch one;
    one.ids.push_back(b.ids[0]);
    one.ids[0].resize(1);
    for (int32_t id : b.ids[0]) {
      one.ids[0][0] = id;
      model.encode(one, opt);
    }
  }
  std::printf("ids read at one length: %.1f MB\n", rss_mb());
  auto pass = [&](const char* name, const std::vector<size_t>& order) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i : order) model.encode(batches[i], opt);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-26s %7.1f MB  %8.1f ms\n", name, rss_mb(), s * 1000);
    return s;
  };
  std::vector<size_t> order(batches.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  pass("lengths 1..N, first pass", order);
  pass("lengths 1..N, second pass", order);
  std::vector<double> times;
  for (int r = 0; r < repeat; ++r) {
    std::shuffle(order.begin(), order.end(), rng);
    times.push_back(pass("shuffled", order));
  }
  std::sort(times.begin(), times.end());
  std::printf("shuffled passes: median %.1f ms, best %.1f ms (%d passes)\n", times[times.size() / 2] * 1000,
              times[0] * 1000, repeat);
  return 0;
}
