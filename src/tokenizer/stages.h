// The stages of a `tokenizers` pipeline as small interfaces, each implemented once and
// composed from tokenizer.json (tokenizer_json.cc):
//
//   text ─▶ added tokens (raw) ─▶ Normalizer ─▶ added tokens (normalized) ─▶ PreTokenizer
//        ─▶ Model (per split) ─▶ truncation ─▶ PostProcessor ─▶ padding;   ids ─▶ Decoder
//
// Text flows as NText: code points, each with the byte span of the input it came from
// (`tokenizers`' NormalizedString alignments), so every stage keeps offsets exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

// A normalizer rewrites a text in place (tokenizers::Normalizer).
class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NText& text) const = 0;
};

// One piece of a pre-tokenized text: code points [begin, end) of PreTokenized::text.
// `id` >= 0: an added token matched in the text (no stage touches it); `whole`: the
// HfSlow/Google never_split words, looked up whole instead of split into word pieces.
struct Split {
  uint32_t begin;
  uint32_t end;
  bool whole = false;
  int32_t id = -1;
};

// tokenizers' PreTokenizedString: one normalized text and its splits, in order.
struct PreTokenized {
  NText text;
  std::vector<Split> splits;
};

// A pre-tokenizer splits the splits further and may rewrite their text (ByteLevel,
// Metaspace); splits that are added tokens pass through unchanged.
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& text) const = 0;
};

// A model turns one split into tokens.
class Model {
 public:
  struct Piece {
    int32_t id;
    uint32_t begin;  // code point range within the split
    uint32_t end;
    bool text = false;  // the token is the split's text [begin, end) (Unigram's unknown pieces)
  };
  virtual ~Model() = default;
  virtual void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;  // nullptr: no such id
  virtual size_t vocab_size() const = 0;
};

// A post-processor adds special tokens, sets type ids and may adjust offsets
// (tokenizers::PostProcessor::process_encodings). `texts` are the input sequences, which
// offset trimming reads (an Encoding's sequence_ids say which).
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual size_t added_tokens(bool pair) const = 0;
  virtual void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                                 const std::string_view* texts) const = 0;
};

// A decoder rewrites the token strings of decode() (tokenizers::Decoder::decode_chain);
// the result is their concatenation. `cleanup` overrides the decoders' own cleanup flag
// (WordPiece, CTC) when set (DecodeOptions::clean_up_tokenization_spaces).
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens, std::optional<bool> cleanup) const = 0;
};

}  // namespace encore::tok
