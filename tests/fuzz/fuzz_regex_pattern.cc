// libFuzzer: the regular expressions of tokenizer.json (Replace and Split patterns),
// compiled by Oniguruma: any pattern either fails with encore::Error or finds matches in a
// text (and in itself) that the Replace normalizer applies, without crashing.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "encore/error.h"
#include "tokenizer/replace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;  // a regex's cost is its own; keep runs short
  const std::string pattern(reinterpret_cast<const char*>(data), size);
  try {
    encore::tok::ReplaceNormalizer replace(std::make_unique<encore::tok::Pattern>(pattern, true), "\xE2\x96\x81");
    for (const std::string& text : {std::string("a  b\tc's  d\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 123"), pattern}) {
      if (encore::tok::find_invalid_utf8(text) != std::string::npos) continue;
      encore::tok::NText t;
      encore::tok::decode_utf8(text, 0, t);
      replace.normalize(t);
    }
  } catch (const encore::Error&) {
  }
  return 0;
}
