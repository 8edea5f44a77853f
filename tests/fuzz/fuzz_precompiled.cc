// libFuzzer: SentencePiece's compiled character map (the Precompiled normalizer's
// precompiled_charsmap, base64-decoded): any bytes either fail with encore::Error or give
// a normalizer that normalizes text, and the input itself as text, without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "encore/error.h"
#include "tokenizer/precompiled.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    const encore::tok::Precompiled p(input);
    for (std::string_view text : {std::string_view("H\xC3\xA9llo \xEF\xAC\x81 world \xE2\x91\xA0\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"), input}) {
      if (encore::tok::find_invalid_utf8(text) != std::string_view::npos) continue;
      encore::tok::NText t;
      encore::tok::decode_utf8(text, 0, t);
      p.normalize(t);
    }
  } catch (const encore::Error&) {
  }
  return 0;
}
