// Driver for bench/compare.py's (l) workload: encore on given token ids, one forward pass per
// command, so the harness can interleave engines round by round while each engine keeps its
// own process (whose peak resident set is then that engine's, for that cell).
//
//   encore_rounds --model DIR --ids FILE [--threads T] [--dtype f32|bf16|int8]
//
// --ids FILE: one sequence per line, token ids separated by spaces; all of them form one
// ragged TokenBatch (Model::encode), as given (no padding, no sorting).
// Protocol on stdin/stdout, one line each: after loading it prints "@@ ready VMSIZE_KB"; then
//   run          encode the batch; prints "@@ time_ms MS" (the encode call alone)
//   run F.npy    the same, then writes the final hidden states (float32 [total tokens, hidden],
//                the sequences' rows one after another) to F.npy, outside the timed call
//   quit / EOF   exit 0
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "encore/model.h"
#include "ids_file.h"
#include "npy.h"

using Clock = std::chrono::steady_clock;

namespace {

long vm_size_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmSize:", 0) == 0) return std::atol(line.c_str() + 7);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, ids_file, dtype = "f32";
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--model") model_dir = v;
    else if (a == "--ids") ids_file = v;
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--dtype") dtype = v;
    else {
      std::fprintf(stderr, "encore_rounds: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (model_dir.empty() || ids_file.empty()) {
    std::fprintf(stderr, "usage: encore_rounds --model DIR --ids FILE [--threads T] [--dtype f32|bf16|int8]\n");
    return 2;
  }
  try {
    encore::LoadOptions lo;
    lo.dtype = encore::compute_type_from_name(dtype);
    const encore::Model model = encore::Model::load(model_dir, lo);
    encore::TokenBatch tb;
    tb.ids = read_ids(ids_file);
    encore::ForwardOptions opt;
    opt.threads = threads;
    std::printf("@@ ready %ld\n", vm_size_kb());
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string cmd, save;
      in >> cmd >> save;
      if (cmd == "quit") break;
      if (cmd != "run") throw std::runtime_error("unknown command: " + line);
      const auto t0 = Clock::now();
      const encore::Encoded out = model.encode(tb, opt);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!save.empty())
        write_npy(save, out.states.data<float>(), static_cast<size_t>(out.cu.back()),
                  static_cast<size_t>(model.config().hidden));
      std::printf("@@ time_ms %.4f\n", ms);
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encore_rounds: %s\n", e.what());
    return 1;
  }
}
