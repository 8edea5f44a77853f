// libFuzzer: BPE vocabularies and merges as tokenizer.json holds them. The input's lines are
// tokens; a line "a b" is also a merge, in both serializations ("a b" and ["a", "b"]).
// Building either fails with encore::Error or gives a model that tokenizes without crashing.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/unicode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (encore::tok::find_invalid_utf8(input) != std::string::npos) return 0;  // JSON strings are UTF-8
  std::vector<std::pair<std::string, int32_t>> vocab;
  nlohmann::json legacy = nlohmann::json::array(), pairs = nlohmann::json::array();
  size_t pos = 0;
  while (pos <= input.size() && vocab.size() < 512) {
    size_t nl = input.find('\n', pos);
    if (nl == std::string::npos) nl = input.size();
    const std::string line = input.substr(pos, nl - pos);
    vocab.emplace_back(line, static_cast<int32_t>(vocab.size()));
    const size_t sp = line.find(' ');
    if (sp != std::string::npos) {
      legacy.push_back(line);
      pairs.push_back({line.substr(0, sp), line.substr(sp + 1)});
      vocab.emplace_back(line.substr(0, sp) + line.substr(sp + 1), static_cast<int32_t>(vocab.size()));
    }
    pos = nl + 1;
  }
  for (const auto* merges : {&legacy, &pairs}) {
    for (int variant = 0; variant < 2; ++variant) {
      try {
        encore::tok::BPEOptions o;
        o.unk_token = vocab.empty() ? std::string("<unk>") : vocab[0].first;
        o.byte_fallback = variant == 1;
        o.fuse_unk = variant == 1;
        if (variant == 1) o.continuing_subword_prefix = "##", o.end_of_word_suffix = "</w>";
        encore::tok::BPE bpe(vocab, encore::tok::read_merges(*merges), o);
        std::vector<encore::tok::Model::Piece> out;
        for (const auto& [token, id] : vocab) {
          encore::tok::NText t;
          encore::tok::decode_utf8(token, 0, t);
          std::u32string chars;
          for (const auto& c : t) chars.push_back(c.c);
          out.clear();
          bpe.tokenize(chars.data(), chars.size(), out);
        }
      } catch (const encore::Error&) {
      }
    }
  }
  return 0;
}
