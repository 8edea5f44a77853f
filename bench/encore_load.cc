// Load time of one model directory, for bench/load_time: prints one JSON line with the
// time Model::load took (load_s), the time from process start to model ready (ready_s: the
// launcher's wall clock in ENCORE_T0, seconds since the epoch; absent without it), the
// process's resident memory right after loading (VmRSS) and at its peak so far (VmHWM),
// and with --forward the time of a first forward pass on 16 tokens (first_forward_s).
// Run it under /usr/bin/time -v for the process's "Maximum resident set size".
//
// usage: encore_load DIR [--dtype f32|bf16|int8] [--dialect NAME] [--forward]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "encore/model.h"

namespace {

long status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(f, line))
    if (line.rfind(k, 0) == 0) return std::stol(line.substr(k.size()));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: encore_load DIR [--dtype f32|bf16|int8] [--dialect NAME] [--forward]\n");
    return 2;
  }
  encore::LoadOptions lo;
  bool forward = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--forward") forward = true;
    else if (a == "--dtype" && i + 1 < argc) lo.dtype = encore::compute_type_from_name(argv[++i]);
    else if (a == "--dialect" && i + 1 < argc) lo.dialect = encore::dialect_from_name(argv[++i]);
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const encore::Model model = encore::Model::load(argv[1], lo);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const char* launched = std::getenv("ENCORE_T0");
  const long rss = status_kb("VmRSS"), hwm = status_kb("VmHWM");
  double forward_s = -1.0;
  if (forward) {  // 16 tokens: input_ids [1, 16] for BERT, src [16, 1, H] (or [1, 16, H]) for PyTorch
    const encore::ModelConfig& c = model.config();
    encore::TensorMap in;
    if (c.dialect == encore::Dialect::Torch) {
      in["src"] = encore::Tensor::zeros(encore::DType::F32, c.batch_first ? encore::Shape{1, 16, c.hidden}
                                                                          : encore::Shape{16, 1, c.hidden});
    } else {
      encore::Tensor ids = encore::Tensor::zeros(encore::DType::I64, {1, 16});
      for (int64_t j = 0; j < 16; ++j) ids.data<int64_t>()[j] = (j * 7919 + 101) % c.vocab_size;
      in["input_ids"] = ids;
    }
    const auto t1 = Clock::now();
    model.forward(in);
    forward_s = std::chrono::duration<double>(Clock::now() - t1).count();
  }
  std::printf("{\"load_s\": %.4f, ", load_s);
  if (launched) std::printf("\"ready_s\": %.4f, ", now - std::atof(launched));
  if (forward) std::printf("\"first_forward_s\": %.4f, ", forward_s);
  std::printf("\"rss_kb\": %ld, \"hwm_kb\": %ld, \"parameters\": %lld}\n", rss, hwm,
              static_cast<long long>(model.parameter_count()));
  std::fflush(stdout);
  return 0;
}
