// libFuzzer: a vocab.txt directory (transformers' slow BertTokenizer, Google's tokenizer):
// the input up to its first NUL byte is vocab.txt, the rest tokenizer_config.json. Loading
// either fails with encore::Error or gives a tokenizer that encodes text without crashing.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "encore/error.h"
#include "encore/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("encore-fuzz-vocab-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t cut = input.find('\0');
  std::ofstream(dir / "vocab.txt", std::ios::binary | std::ios::trunc) << input.substr(0, cut);
  std::filesystem::remove(dir / "tokenizer_config.json");
  if (cut != std::string::npos)
    std::ofstream(dir / "tokenizer_config.json", std::ios::binary) << input.substr(cut + 1);
  for (auto flavour : {encore::TokenizerFlavour::HfSlow, encore::TokenizerFlavour::Google}) {
    try {
      const encore::Tokenizer t = encore::Tokenizer::from_dir(dir, flavour);
      (void)t.encode("Hello, [MASK] w\xC3\xB6rld! \xE4\xBD\xA0\xE5\xA5\xBD");
    } catch (const encore::Error&) {
    }
  }
  return 0;
}
