// libFuzzer: tokenizer.json parsing. Any input either fails with encore::Error or yields a
// tokenizer that then encodes and decodes a fixed text without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "encore/error.h"
#include "tokenizer/tokenizer_impl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto [config, vocab] = encore::tok::parse_tokenizer_json(text, "fuzz/tokenizer.json");
    encore::Tokenizer t = encore::Tokenizer::create(std::move(config), std::move(vocab));
    encore::Encoding e = t.encode_pair("Héllo, wörld! 你好 [MASK]", "second\tpart", t.config().defaults);
    (void)t.decode(e.ids);
  } catch (const encore::Error&) {
  }
  return 0;
}
