// tokenizers' decoders (decoders/*.rs and the Decoder impls of pre_tokenizers/): each
// rewrites the list of token strings; decode() concatenates the result.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pattern.h"
#include "tokenizer/stages.h"

namespace encore::tok {

// decoders/wordpiece.rs cleanup(), also transformers' clean_up_tokenization() when
// with_do_not is false.
void cleanup_tokenization(std::string& s, bool with_do_not);

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

// Byte-level: every token's characters map back to bytes (GPT-2's byte alphabet); the
// bytes are read as UTF-8 with U+FFFD for each maximal ill-formed subsequence.
class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool prepend) : replacement_(replacement), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  char32_t replacement_;
  bool prepend_;  // prepend_scheme is not "never": the first token loses its replacement
};

class BPEDecoder : public Decoder {
 public:
  explicit BPEDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  std::string suffix_;
};

class CTCDecoder : public Decoder {
 public:
  CTCDecoder(std::string pad, std::string delimiter, bool cleanup)
      : pad_(std::move(pad)), delimiter_(std::move(delimiter)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  std::string pad_, delimiter_;
  bool cleanup_;
};

// Replace: every match of the pattern in a token becomes `content`.
class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Pattern> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  std::unique_ptr<Pattern> pattern_;
  std::string content_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override;

 private:
  char32_t content_;
  size_t start_, stop_;
};

class DecoderSequence : public Decoder {
 public:
  explicit DecoderSequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const override {
    for (const auto& s : steps_) s->decode_chain(tokens, cleanup);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// UTF-8 bytes to a string as Rust's String::from_utf8_lossy does.
std::string utf8_lossy(std::string_view bytes);

}  // namespace encore::tok
