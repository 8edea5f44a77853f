// libFuzzer target: the safetensors reader on arbitrary bytes. Any encore::Error is a
// correct answer; a crash, sanitizer report or other exception is a bug.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "io/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    volatile uint8_t sink = encore::fuzz::touch(encore::io::read_safetensors_bytes("fuzz", encore::io::borrow(data, size)));
    (void)sink;
  } catch (const encore::Error&) {
  }
  return 0;
}
