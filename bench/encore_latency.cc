// Latency of encore's encoder on random token ids, and the GEMM bound: the time the same
// matrix products take alone (through PackedLinear: oneDNN, or encore's panel GEMMs), in one run.
//
// usage: encore_latency --model DIR [--batch B] [--seq S] [--threads T] [--runs N] [--dtype f32|bf16|int8] [--attention f32]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "encore/model.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/packed_linear.h"
#include <memory>

using Clock = std::chrono::steady_clock;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  std::string model_dir;
  int batch = 1, seq = 128, threads = 0, runs = 10;
  encore::LoadOptions lo;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--model") model_dir = v;
    else if (a == "--batch") batch = std::atoi(v.c_str());
    else if (a == "--seq") seq = std::atoi(v.c_str());
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--runs") runs = std::atoi(v.c_str());
    else if (a == "--dtype") lo.dtype = encore::compute_type_from_name(v);
    else if (a == "--attention" && v == "f32") encore::kernels::force_f32_attention(true);  // bf16 / int8 models
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "usage: encore_latency --model DIR [--batch B] [--seq S] [--threads T] [--runs N] [--dtype f32|bf16|int8] [--attention f32]\n");
    return 2;
  }
  encore::Model model = encore::Model::load(model_dir, lo);
  const auto& c = model.config();
  std::mt19937 rng(0);
  encore::TokenBatch tb;
  for (int b = 0; b < batch; ++b) {
    std::vector<int32_t> ids(static_cast<size_t>(seq));
    for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab_size));
    tb.ids.push_back(ids);
  }
  encore::ForwardOptions opt;
  opt.threads = threads;
  for (int w = 0; w < 2; ++w) model.encode(tb, opt);
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    model.encode(tb, opt);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double ours = median(times);

  // GEMM bound: each layer's four products (QKV, out-proj, FFN in, FFN out) on the same
  // T rows, through the same PackedLinear::run (oneDNN's matmul, or panel_gemm for f32 on
  // AVX-512 CPUs), with separate weights per layer, but
  // no bias, activation, residual, attention or LayerNorm; on the same --threads as encode
  // (whose ThreadScope ends with each call).
  const encore::ThreadScope scope(threads);
  const int64_t T = static_cast<int64_t>(batch) * seq, H = c.hidden, I = c.intermediate;
  std::vector<float> x(static_cast<size_t>(T * I), 0.01f), y(static_cast<size_t>(T * std::max(3 * H, I)));
  std::vector<float> w(static_cast<size_t>(3 * H * I), 0.01f);
  std::vector<std::unique_ptr<encore::kernels::PackedLinear>> packed;
  for (int64_t l = 0; l < c.layers; ++l) {
    packed.push_back(std::make_unique<encore::kernels::PackedLinear>(w.data(), nullptr, H, 3 * H, lo.dtype));
    packed.push_back(std::make_unique<encore::kernels::PackedLinear>(w.data(), nullptr, H, H, lo.dtype));
    packed.push_back(std::make_unique<encore::kernels::PackedLinear>(w.data(), nullptr, H, I, lo.dtype));
    packed.push_back(std::make_unique<encore::kernels::PackedLinear>(w.data(), nullptr, I, H, lo.dtype));
  }
  auto gemms = [&] {
    for (const auto& p : packed) p->run(y.data(), x.data(), T);
  };
  gemms();
  std::vector<double> gt;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    gemms();
    gt.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double bound = median(gt);
  const double flops = 2.0 * static_cast<double>(T) * static_cast<double>(c.layers) *
                       static_cast<double>(4 * H * H + 2 * H * I);
  std::printf("%s batch %d seq %d threads %d: encore %.2f ms, GEMM bound %.2f ms (%.0f GFLOP/s), ratio %.2f\n", encore::compute_type_name(lo.dtype), batch,
              seq, threads, ours, bound, flops / bound / 1e6, ours / bound);
  return 0;
}
