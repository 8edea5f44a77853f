// The request bodies of the HTTP API, parsed and type-checked (no model needed): the field
// shapes of text-embeddings-inference router/src/http/types.rs. Every failure throws
// ApiException 422 with a message naming the field ("`inputs[2]` must be ...").
// Limits that need the model or the server options (lengths, batch sizes, vocabulary) are
// checked by the routes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encore/tokenizer.h"

namespace encore::serve {

// One model input: a text, or token ids (TEI's InputType::Ids, OpenAI's token arrays).
struct Input {
  std::string text;
  std::vector<int64_t> ids;  // as sent; checked against the vocabulary by the route
  bool is_ids = false;

  size_t count_chars() const;  // code points of the text, or the number of ids (as TEI counts)
};

// /embed, /embed_all, /embed_sparse: TEI EmbedRequest.
struct EmbedRequest {
  std::vector<Input> inputs;
  bool batch = false;                // `inputs` was a list of inputs
  std::optional<bool> truncate;      // absent or null: the server's --auto-truncate
  TruncationSide truncation_direction = TruncationSide::Right;
  bool normalize = true;
  std::optional<int64_t> dimensions;  // Matryoshka: keep the first N, before normalizing
  std::optional<std::string> prompt_name;
  bool is_query = false;  // encore's: /embed_all of a ColBERT model encodes queries (PyLate is_query)
};

enum class EncodingFormat { Float, Base64 };

// /v1/embeddings (and /embeddings): OpenAI's request as TEI accepts it.
struct OpenAIRequest {
  std::vector<Input> inputs;  // input: string, [string], [int] or [[int]]
  bool batch = false;
  std::optional<std::string> model;
  EncodingFormat encoding_format = EncodingFormat::Float;
  std::optional<int64_t> dimensions;
};

// /similarity: {"inputs": {"source_sentence": s, "sentences": [...]}, "parameters": {...}}.
struct SimilarityRequest {
  std::string source_sentence;
  std::vector<std::string> sentences;
  std::optional<bool> truncate;
  TruncationSide truncation_direction = TruncationSide::Right;
  std::optional<std::string> prompt_name;
};

// /tokenize.
struct TokenizeRequest {
  std::vector<std::string> inputs;
  bool batch = false;
  bool add_special_tokens = true;
  std::optional<std::string> prompt_name;
};

// /decode.
struct DecodeRequest {
  std::vector<std::vector<int64_t>> ids;
  bool batch = false;
  bool skip_special_tokens = true;
};

// One /predict input: a text, or a pair of texts (TEI's Sequence::Single / Sequence::Pair).
struct PredictInput {
  std::string text;
  std::optional<std::string> pair;  // set for a pair, even to ""

  size_t count_chars() const;  // code points of both texts
};

// /predict: TEI PredictRequest. `inputs` is a string, a pair ["a", "b"] (or ["a"]), or a
// batch of those as lists: [["a"], ["a", "b"], ...].
struct PredictRequest {
  std::vector<PredictInput> inputs;
  bool batch = false;
  std::optional<bool> truncate;
  TruncationSide truncation_direction = TruncationSide::Right;
  bool raw_scores = false;
};

// /rerank: TEI RerankRequest.
struct RerankRequest {
  std::string query;
  std::vector<std::string> texts;
  std::optional<bool> truncate;
  TruncationSide truncation_direction = TruncationSide::Right;
  bool raw_scores = false;
  bool return_text = false;
};

EmbedRequest parse_embed_request(std::string_view body);
OpenAIRequest parse_openai_request(std::string_view body);
SimilarityRequest parse_similarity_request(std::string_view body);
TokenizeRequest parse_tokenize_request(std::string_view body);
DecodeRequest parse_decode_request(std::string_view body);
PredictRequest parse_predict_request(std::string_view body);
RerankRequest parse_rerank_request(std::string_view body);

// JSON nested deeper than this is refused before parsing (no request needs more than 3).
constexpr int kMaxJsonDepth = 16;

}  // namespace encore::serve
