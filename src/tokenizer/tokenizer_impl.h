// The private state of encore::Tokenizer and the stages encode() chains together.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/stages.h"

namespace encore {

namespace tok {

// What tokenizer.json says about each stage (its JSON), kept by TokenizerConfig until
// Tokenizer::create builds the stages (tokenizer_json.cc build_stages). A BertNormalizer
// takes its options from TokenizerConfig's BERT fields, a WordPiece model from its
// WordPiece fields and the vocabulary, so that `adjust` callbacks can change them.
struct PipelineSpec {
  nlohmann::json normalizer;      // null: none
  nlohmann::json pre_tokenizer;   // null: none
  nlohmann::json model;           // WordPiece: {"type": "WordPiece"} (vocabulary apart)
  nlohmann::json post_processor;  // null: none
  nlohmann::json decoder;         // null: none
};

}  // namespace tok

struct Tokenizer::Impl {
  Impl(TokenizerConfig c, const std::vector<std::pair<std::string, int32_t>>& vocab);

  TokenizerConfig config;
  // HfFast: every stage from tokenizer.json. HfSlow and Google: the model only (their
  // normalization and word split are BasicTokenizer's, in encode.cc).
  std::vector<std::unique_ptr<tok::Normalizer>> normalizers;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;  // null: a text is one split
  std::unique_ptr<tok::Model> model;
  std::unique_ptr<tok::PostProcessor> post_processor;  // HfFast; null: no special tokens
  std::unique_ptr<tok::Decoder> decoder;               // HfFast; null: tokens joined by ' '
  tok::AddedMatcher raw_added;         // matched in the input text
  tok::AddedMatcher normalized_added;  // HfFast: matched after normalization
  std::unordered_set<std::string> never_split;
  std::unordered_map<int32_t, std::string> added_by_id;
  std::unordered_set<int32_t> special_ids;           // HfSlow/Google: skipped by decode
  std::unordered_set<std::string> special_contents;  // HfFast: skipped by decode (by content)
  int32_t pad_id = 0;
  std::optional<std::string> model_prefix;  // BPE's continuing_subword_prefix

  void normalize(tok::NText& text) const {
    for (const auto& n : normalizers) n->normalize(text);
  }
};

namespace tok {

// Builds the HfFast stages of `impl` from impl.config.pipeline (null: BertNormalizer,
// BertPreTokenizer, WordPiece, the config's template, WordPiece decoder).
void build_stages(Tokenizer::Impl& impl, const std::vector<std::pair<std::string, int32_t>>& vocab);

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
// HfFast follows tokenizers (post_processor.cc), the others transformers / tokenization.py.
Encoding post_process(const Tokenizer::Impl& impl, Sequence first, Sequence* second,
                      std::string_view first_text, std::string_view second_text,
                      const EncodeOptions& options);

size_t count_special_tokens(const Tokenizer::Impl& impl, bool pair);
// tokenizers' TemplateProcessing (BertProcessing is the template it amounts to).
std::unique_ptr<PostProcessor> make_template_processing(const PostProcessorConfig& pp);

std::string decode_ids(const Tokenizer::Impl& impl, const std::vector<int32_t>& ids,
                       const DecodeOptions& options);
std::string decode_tokens(const Tokenizer::Impl& impl, std::vector<std::string> tokens,
                          std::optional<bool> cleanup);
std::optional<std::string> continuing_subword_prefix(const Tokenizer::Impl& impl);

// Loaders (tokenizer_json.cc, vocab_txt.cc).
using Vocab = std::vector<std::pair<std::string, int32_t>>;
std::pair<TokenizerConfig, Vocab> load_tokenizer_json(const std::filesystem::path& path);
// The same from the file's text (`path` only names it in errors); the fuzz target's entry.
std::pair<TokenizerConfig, Vocab> parse_tokenizer_json(const std::string& text, const std::filesystem::path& path);
std::pair<TokenizerConfig, Vocab> load_vocab_txt(const std::filesystem::path& vocab,
                                                 TokenizerFlavour flavour,
                                                 const std::filesystem::path& config_dir);
// tokenizer_config.json's model_max_length, which PreTrainedTokenizerFast reads beside
// tokenizer.json (sentence-transformers 5.4 on saves max_seq_length there), and the names
// of its special tokens (tokenizer_config.json, special_tokens_map.json) where given.
void read_model_max_length(TokenizerConfig& config, const std::filesystem::path& dir);

}  // namespace tok
}  // namespace encore
