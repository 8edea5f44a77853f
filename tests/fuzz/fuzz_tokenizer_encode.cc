// libFuzzer: encoding arbitrary bytes with a real vocabulary (all-MiniLM-L6-v2's, committed
// under tests/fixtures/tokenizer/minilm) in every flavour, single and pair (split at the
// first tab), with and without truncation, then decoding. Invalid UTF-8 must be an
// encore::Error, never a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "encore/error.h"
#include "encore/tokenizer.h"

namespace {

const encore::Tokenizer& tokenizer(encore::TokenizerFlavour flavour) {
  static const encore::Tokenizer fast = encore::Tokenizer::from_dir(ENCORE_TOKENIZER_DIR, encore::TokenizerFlavour::HfFast);
  static const encore::Tokenizer slow = encore::Tokenizer::from_dir(ENCORE_TOKENIZER_DIR, encore::TokenizerFlavour::HfSlow);
  static const encore::Tokenizer google = encore::Tokenizer::from_dir(ENCORE_TOKENIZER_DIR, encore::TokenizerFlavour::Google);
  switch (flavour) {
    case encore::TokenizerFlavour::HfFast: return fast;
    case encore::TokenizerFlavour::HfSlow: return slow;
    case encore::TokenizerFlavour::Google: return google;
  }
  return fast;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t tab = input.find('\t');
  for (auto flavour : {encore::TokenizerFlavour::HfFast, encore::TokenizerFlavour::HfSlow,
                       encore::TokenizerFlavour::Google}) {
    const encore::Tokenizer& t = tokenizer(flavour);
    for (bool truncate : {false, true}) {
      encore::EncodeOptions o;
      if (truncate) {
        o.truncation.strategy = encore::TruncationStrategy::LongestFirst;
        o.truncation.max_length = 16;
      }
      try {
        encore::Encoding e = tab == std::string_view::npos ? t.encode(input, o)
                                                           : t.encode_pair(input.substr(0, tab), input.substr(tab + 1), o);
        (void)t.decode(e.ids);
      } catch (const encore::Error&) {
      }
    }
  }
  return 0;
}
