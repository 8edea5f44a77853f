// libFuzzer: a SentencePiece ModelProto (spiece.model, sentencepiece.bpe.model): any bytes
// either fail with encore::Error or parse into pieces whose text is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "encore/error.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/unicode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const encore::tok::SentencePieceModel m =
        encore::tok::parse_sentencepiece_model(std::string(reinterpret_cast<const char*>(data), size));
    for (const auto& p : m.pieces)
      if (encore::tok::find_invalid_utf8(p.piece) != std::string::npos) std::abort();
  } catch (const encore::Error&) {
  }
  return 0;
}
