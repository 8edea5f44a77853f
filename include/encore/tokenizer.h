// encore::Tokenizer: text to ids, reproducing one of three references exactly (see
// docs/tokenizer.md):
//
//   HfFast  huggingface `tokenizers` configured by tokenizer.json: normalizers,
//           pre-tokenizer, model (WordPiece, BPE, Unigram, WordLevel), post-processor,
//           decoder and added tokens, composed as the file says.
//   HfSlow  transformers' slow `BertTokenizer` (vocab.txt + tokenizer_config.json).
//   Google  google-research/bert tokenization.py + run_classifier.py's [CLS]/[SEP] layout.
//
// Offsets: every token carries two half-open spans into the caller's UTF-8 input:
// `offsets` counts bytes, `char_offsets` counts Unicode code points (what the Python
// `tokenizers` API reports). Special tokens added by the post-processor have (0, 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace encore {

namespace tok {
struct PipelineSpec;
}

enum class TokenizerFlavour { HfFast, HfSlow, Google };

const char* flavour_name(TokenizerFlavour flavour);            // "hf", "hf-slow", "google"
TokenizerFlavour flavour_from_name(const std::string& name);    // throws encore::Error

enum class TruncationStrategy { None, LongestFirst, OnlyFirst, OnlySecond };
enum class TruncationSide { Right, Left };
enum class PaddingStrategy { None, Longest, Fixed };
enum class PaddingSide { Right, Left };

const char* truncation_name(TruncationStrategy strategy);       // "longest_first", ...
TruncationStrategy truncation_from_name(const std::string& name);  // also "none"

struct TruncationOptions {
  TruncationStrategy strategy = TruncationStrategy::None;
  size_t max_length = 512;  // total length, special tokens included
  size_t stride = 0;        // overlap of the overflowing windows (HfFast only)
  TruncationSide side = TruncationSide::Right;
};

struct PaddingOptions {
  PaddingStrategy strategy = PaddingStrategy::None;
  size_t length = 0;              // for Fixed
  size_t pad_to_multiple_of = 0;  // 0 = off
  PaddingSide side = PaddingSide::Right;
};

struct EncodeOptions {
  bool add_special_tokens = true;
  TruncationOptions truncation;
  PaddingOptions padding;  // Longest pads a batch to its longest member
  bool return_overflowing = false;  // HfFast: keep the windows cut off by truncation
};

// One encoded sequence (or pair). All vectors have the same length.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<int32_t> attention_mask;
  std::vector<int32_t> special_tokens_mask;  // 1 for tokens added by the post-processor
  std::vector<int32_t> word_ids;             // -1 for added special tokens and padding
  std::vector<int32_t> sequence_ids;         // 0 = first text, 1 = second, -1 = special
  std::vector<std::pair<size_t, size_t>> offsets;       // bytes into the input text
  std::vector<std::pair<size_t, size_t>> char_offsets;  // code points into the input text
  std::vector<std::string> tokens;
  std::vector<Encoding> overflowing;  // filled when EncodeOptions::return_overflowing
  size_t truncated = 0;               // tokens truncation removed (not counting special tokens)

  size_t size() const { return ids.size(); }
};

struct DecodeOptions {
  bool skip_special_tokens = true;
  // nullopt: the model's setting (tokenizer.json decoder `cleanup`, or
  // tokenizer_config.json `clean_up_tokenization_spaces`, default true).
  std::optional<bool> clean_up_tokenization_spaces;
};

// An added token of tokenizer.json (special tokens such as [CLS] are matched in the raw
// text before normalization, as `tokenizers` does).
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// TemplateProcessing: "$A", "$B" or a named special token, each with a type id.
struct TemplatePiece {
  enum class Kind { Special, SequenceA, SequenceB };
  Kind kind = Kind::Special;
  std::string special;  // for Kind::Special: a key of PostProcessorConfig::specials
  int32_t type_id = 0;
};

struct SpecialTokenIds {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

struct PostProcessorConfig {
  bool present = false;  // false: no special tokens are ever added
  std::vector<TemplatePiece> single;
  std::vector<TemplatePiece> pair;
  std::vector<std::pair<std::string, SpecialTokenIds>> specials;
};

// Everything that decides how text becomes ids. Filled by the loaders; can be adjusted
// before Tokenizer::create. The BERT fields configure BertNormalizer and WordPiece (HfFast:
// where tokenizer.json uses them); every other stage of a tokenizer.json is in `pipeline`.
struct TokenizerConfig {
  TokenizerFlavour flavour = TokenizerFlavour::HfFast;
  // BertNormalizer (HfSlow, Google: BasicTokenizer).
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // nullopt: follow `lowercase`
  bool lowercase = true;
  // WordPiece.
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;  // Google 200, HF 100
  // Special tokens and layout.
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  int32_t pad_type_id = 0;
  std::vector<std::string> never_split;  // HfSlow/Google: words kept whole
  std::vector<AddedToken> added_tokens;  // HfFast: matched before normalization
  // Post-processor; left empty, HfSlow and Google build [CLS] A [SEP] (B [SEP]) from
  // cls_token and sep_token.
  PostProcessorConfig post_processor;
  // Decoding.
  bool decode_cleanup = true;
  // Limits and defaults read from the model directory.
  size_t model_max_length = 512;
  EncodeOptions defaults;  // tokenizer.json truncation/padding sections (HfFast)
  // HfFast: the stages of tokenizer.json (opaque; null: BertNormalizer, BertPreTokenizer,
  // WordPiece, `post_processor`, WordPiece decoder).
  std::shared_ptr<const tok::PipelineSpec> pipeline;

  // sentence-transformers' do_lower_case: a Lowercase normalizer in front of the model's
  // own, unless that lowercases already (BertNormalizer: lowercase on, accents kept
  // unless it strips them itself).
  void lowercase_input();
};

class Tokenizer {
 public:
  // Loads DIR/tokenizer.json (HfFast) or DIR/vocab.txt (+ tokenizer_config.json,
  // special_tokens_map.json). Without a flavour: HfFast when tokenizer.json exists,
  // else Google.
  static Tokenizer from_dir(const std::filesystem::path& dir,
                            std::optional<TokenizerFlavour> flavour = std::nullopt);
  // As above; `adjust` may change the configuration before the tokenizer is built.
  static Tokenizer from_dir(const std::filesystem::path& dir,
                            std::optional<TokenizerFlavour> flavour,
                            const std::function<void(TokenizerConfig&)>& adjust);
  static Tokenizer from_tokenizer_json(const std::filesystem::path& path);
  static Tokenizer from_vocab_txt(const std::filesystem::path& vocab,
                                  TokenizerFlavour flavour = TokenizerFlavour::Google,
                                  const std::filesystem::path& config_dir = {});
  // Reads the configuration of a model directory without building the tokenizer.
  static TokenizerConfig read_config(const std::filesystem::path& dir,
                                     std::optional<TokenizerFlavour> flavour = std::nullopt);
  // Builds from a config and a vocabulary (token -> id).
  static Tokenizer create(TokenizerConfig config,
                          std::vector<std::pair<std::string, int32_t>> vocab);

  // Text must be valid UTF-8 (encore::Error names the first bad byte offset otherwise).
  Encoding encode(std::string_view text, const EncodeOptions& options) const;
  Encoding encode_pair(std::string_view first, std::string_view second,
                       const EncodeOptions& options) const;
  Encoding encode(std::string_view text) const { return encode(text, config().defaults); }

  // Encodes many texts in parallel (OpenMP) and pads them together when asked. A text
  // that fails makes the whole call fail with the first error (in input order).
  std::vector<Encoding> encode_batch(const std::vector<std::string_view>& texts,
                                     const EncodeOptions& options) const;
  std::vector<Encoding> encode_batch(
      const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
      const EncodeOptions& options) const;

  std::string decode(const std::vector<int32_t>& ids, const DecodeOptions& options = {}) const;
  // The decoder on token strings: transformers' convert_tokens_to_string (HfFast); HfSlow
  // and Google join with ' ' and remove ' ##'.
  std::string decode_tokens(const std::vector<std::string>& tokens) const;
  // The model's continuing-subword prefix ("##" for WordPiece; BPE's when it has one), which
  // transformers' token-classification pipeline uses to find word starts.
  std::optional<std::string> continuing_subword_prefix() const;

  // Word pieces without special tokens, truncation or ids (for inspection).
  std::vector<std::string> tokenize(std::string_view text) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  size_t vocab_size() const;
  size_t num_special_tokens_to_add(bool pair) const;
  const TokenizerConfig& config() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Pads encodings in place following `padding` (Longest: to the longest of them), their
// overflowing windows to the same length (tokenizers' Encoding::pad).
void pad_encodings(std::vector<Encoding>& encodings, const PaddingOptions& padding,
                   int32_t pad_id, int32_t pad_type_id, const std::string& pad_token);

}  // namespace encore
