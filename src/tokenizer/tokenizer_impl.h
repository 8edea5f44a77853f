// The private state of encore::Tokenizer and the stages encode() chains together.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/wordpiece.h"

namespace encore {

struct Tokenizer::Impl {
  Impl(TokenizerConfig c, const std::vector<std::pair<std::string, int32_t>>& vocab);

  TokenizerConfig config;
  tok::WordPiece model;
  tok::AddedMatcher raw_added;         // matched in the input text
  tok::AddedMatcher normalized_added;  // HfFast: matched after normalization
  std::unordered_set<std::string> never_split;
  std::unordered_map<int32_t, std::string> added_by_id;
  std::unordered_set<int32_t> special_ids;  // skipped by decode(skip_special_tokens)
  int32_t pad_id = 0;
};

namespace tok {

// One text after WordPiece, before truncation and special tokens. Offsets are bytes.
struct Sequence {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  std::vector<int32_t> words;
  size_t size() const { return ids.size(); }
};

Sequence tokenize_sequence(const Tokenizer::Impl& impl, std::string_view text);

// Truncation, special tokens and per-sequence type ids; `second` may be null.
Encoding post_process(const Tokenizer::Impl& impl, Sequence first, Sequence* second,
                      std::string_view first_text, std::string_view second_text,
                      const EncodeOptions& options);

size_t count_special_tokens(const PostProcessorConfig& pp, bool pair);

std::string decode_ids(const Tokenizer::Impl& impl, const std::vector<int32_t>& ids,
                       const DecodeOptions& options);

// Loaders (tokenizer_json.cc, vocab_txt.cc).
using Vocab = std::vector<std::pair<std::string, int32_t>>;
std::pair<TokenizerConfig, Vocab> load_tokenizer_json(const std::filesystem::path& path);
// The same from the file's text (`path` only names it in errors); the fuzz target's entry.
std::pair<TokenizerConfig, Vocab> parse_tokenizer_json(const std::string& text, const std::filesystem::path& path);
std::pair<TokenizerConfig, Vocab> load_vocab_txt(const std::filesystem::path& vocab,
                                                 TokenizerFlavour flavour,
                                                 const std::filesystem::path& config_dir);
// tokenizer_config.json's model_max_length, which PreTrainedTokenizerFast reads beside
// tokenizer.json (sentence-transformers 5.4 on saves max_seq_length there).
void read_model_max_length(TokenizerConfig& config, const std::filesystem::path& dir);

}  // namespace tok
}  // namespace encore
