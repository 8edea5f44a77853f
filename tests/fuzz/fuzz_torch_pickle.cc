// libFuzzer target: torch.save files. Each input runs twice:
//  1. as a whole file (zip or legacy format) through read_torch_checkpoint's reader;
//  2. as a bare data.pkl through the restricted pickle machine and the state_dict
//     interpreter, with every storage it declares backed by a zeroed buffer of exactly the
//     declared size, and every tensor built from it (so strides and offsets are exercised
//     without a zip around them).
// Any encore::Error is a correct answer; a crash, sanitizer report or other exception is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "io/readers.h"
#include "io/strided_view.h"
#include "io/torch_pickle.h"

namespace {

constexpr uint64_t kMaxStorageBytes = 1 << 20;  // keeps the fuzzer's memory small

void bare_pickle(const uint8_t* data, size_t size) {
  using namespace encore;
  const io::TorchStateDict sd = io::parse_torch_state_dict(data, size, "fuzz", io::TorchPickleKind::Zip);
  std::vector<std::vector<unsigned char>> storages;
  for (const io::TorchStorage& s : sd.storages) {
    const uint64_t bytes = s.numel * dtype_size(s.dtype);
    if (bytes > kMaxStorageBytes) return;
    storages.emplace_back(bytes);
  }
  uint8_t acc = 0;
  for (const auto& [name, index] : sd.entries) {
    const io::TorchTensorSpec& t = sd.tensors[index];
    const io::StridedSpec spec{t.dtype, t.offset, t.sizes, t.strides};
    std::vector<unsigned char>& s = storages[t.storage];
    const Tensor x = io::strided_view(spec, s.data(), s.size(), nullptr, name);
    const auto* p = static_cast<const uint8_t*>(x.raw());
    for (size_t i = 0; i < x.nbytes(); ++i) acc ^= p[i];
  }
  volatile uint8_t sink = acc;
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    volatile uint8_t sink =
        encore::fuzz::touch(encore::io::read_torch_checkpoint_bytes("fuzz", encore::io::borrow(data, size)));
    (void)sink;
  } catch (const encore::Error&) {
  }
  try {
    bare_pickle(data, size);
  } catch (const encore::Error&) {
  }
  return 0;
}
