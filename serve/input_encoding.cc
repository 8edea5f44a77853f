// One request input to one queued sequence, with TEI's checks
// (text-embeddings-inference core/src/tokenization.rs encode_input / tokenize_input).
#include "encore/error.h"
#include "serve/service.h"

namespace encore::serve {

namespace {

// The longest prefix of at most `bytes` bytes that ends on a UTF-8 character boundary.
size_t char_boundary(const std::string& s, size_t bytes) {
  if (bytes >= s.size()) return s.size();
  while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
  return bytes;
}

// "Input validation error: `inputs` must have less than 256 tokens. Given: 302", naming
// the request's field (TEI's `inputs`, OpenAI's `input`).
ApiError too_long(const char* field, size_t limit, const char* unit, size_t given) {
  return validation(std::string("Input validation error: `") + field + "` must have less than " +
                    std::to_string(limit) + " " + unit + ". Given: " + std::to_string(given));
}

ApiError cannot_be_empty(const char* field) {
  return validation(std::string("Input validation error: `") + field + "` cannot be empty");
}

// Runs `encode` (a tokenizer error is 422), checks the result against TEI's token limit
// (413) and that it has tokens, and moves its ids and type ids into `seq`.
template <class Encode>
void take_encoding(Sequence& seq, Encode&& encode, size_t max_length, const char* field) {
  Encoding e;
  try {
    e = encode();
  } catch (const Error& err) {
    raise(tokenizer_error(err.what()));
  }
  if (e.size() > max_length) raise(too_long(field, max_length, "tokens", e.size()));
  if (e.size() == 0) raise(validation("Input validation error: the input has no tokens"));
  seq.ids = std::move(e.ids);
  seq.type_ids = std::move(e.type_ids);
}

}  // namespace

std::string Service::prompt(const std::optional<std::string>& prompt_name) const {
  if (!prompt_name) {  // sentence-transformers' encode(): the model's default_prompt_name, if any
    if (embedder_ && embedder_->default_prompt_name()) return embedder_->prompts().at(*embedder_->default_prompt_name());
    return "";
  }
  const std::map<std::string, std::string>& prompts = embedder_ ? embedder_->prompts() : options_.prompts;
  auto it = prompts.find(*prompt_name);
  if (it == prompts.end()) {
    std::string names;
    for (const auto& [name, value] : prompts) names += (names.empty() ? "" : ", ") + name;
    raise(validation("Input validation error: `prompt_name` is `" + *prompt_name +
                     "` but it is not among the model's prompts (config_sentence_transformers.json): " +
                     (names.empty() ? "none" : names)));
  }
  return it->second;
}

bool Service::is_blank(const std::string& text) const {
  for (const char c : text)
    if (c > ' ' && c < 0x7f) return false;  // printable ASCII: a token with any tokenizer
  if (text.empty()) return true;
  EncodeOptions options;
  options.add_special_tokens = false;
  try {
    return tokenizer().encode(text, options).size() == 0;
  } catch (const Error&) {
    return false;  // the tokenizer's error is reported (422) where the input is encoded
  }
}

Sequence Service::encode_input(const Input& input, bool truncate, TruncationSide side,
                               const std::optional<std::string>& prompt_name, size_t index, const char* field) const {
  const size_t max_length = static_cast<size_t>(max_length_);
  Sequence seq;
  seq.index = index;
  if (input.is_ids) {
    if (input.ids.empty()) raise(cannot_be_empty(field));
    if (prompt_name) raise(validation("Input validation error: `prompt_name` cannot be used with token ids"));
    const int64_t vocab = static_cast<int64_t>(tokenizer().vocab_size());
    for (size_t k = 0; k < input.ids.size(); ++k)
      if (input.ids[k] >= vocab)
        raise(tokenizer_error("token id " + std::to_string(input.ids[k]) + " (input " + std::to_string(index) +
                              ", position " + std::to_string(k) + ") is outside the vocabulary [0, " +
                              std::to_string(vocab) + ")"));
    size_t n = input.ids.size();
    if (n > max_length) {
      if (!truncate) raise(too_long(field, max_length, "tokens", n));
      n = max_length;
    }
    const size_t first = side == TruncationSide::Left ? input.ids.size() - n : 0;
    seq.ids.reserve(n);
    for (size_t k = first; k < first + n; ++k) seq.ids.push_back(static_cast<int32_t>(input.ids[k]));
    return seq;
  }

  if (is_blank(input.text)) raise(cannot_be_empty(field));
  encore::EmbedRequest request;
  request.prompt = prompt(prompt_name);
  std::string text = input.text;
  const size_t limit = char_limit();
  const size_t chars = Input{*request.prompt + text, {}, false}.count_chars();
  if (chars > limit) {
    if (!truncate) raise(too_long(field, limit, "characters", chars));
    // TEI cuts at `limit` bytes: tokens past it are cut anyway
    text.resize(char_boundary(text, limit > request.prompt->size() ? limit - request.prompt->size() : 0));
  }
  take_encoding(
      seq,
      [&]() -> Encoding {
        if (sparse_ || m3_) {  // SparseEncoder (MLMTransformer), bge-m3: the prompt and the text as one text
          EncodeOptions o;
          if (truncate) {
            o.truncation.strategy = TruncationStrategy::LongestFirst;
            o.truncation.max_length = max_length;
            o.truncation.side = side;
          }
          return tokenizer().encode(*request.prompt + text, o);
        }
        PreparedText p = embedder_->prepare(text, request, truncate, side);
        seq.prompt_tokens = p.prompt_tokens;
        return std::move(p.encoding);
      },
      max_length, field);
  return seq;
}

Sequence Service::encode_colbert_input(const Input& input, bool is_query, size_t index, const char* field) const {
  if (input.is_ids)
    raise(validation("Input validation error: a ColBERT model takes texts, not token ids (it inserts its [Q] / [D] "
                     "token itself)"));
  if (is_blank(input.text)) raise(cannot_be_empty(field));
  // PyLate always cuts to query_length / document_length tokens, so a text beyond the
  // character limit is cut there, as TEI does with `truncate` (its tokens past it are cut anyway).
  const std::string& text = input.text;
  const size_t keep = input.count_chars() > char_limit() ? char_boundary(text, char_limit()) : text.size();
  Sequence seq;
  seq.index = index;
  ColBERT::Input in;
  try {
    in = colbert_->prepare(text.substr(0, keep), is_query);
  } catch (const Error& err) {
    raise(tokenizer_error(err.what()));
  }
  seq.ids = std::move(in.ids);
  seq.attended = in.attended;
  seq.is_query = in.is_query;
  return seq;
}

Sequence Service::encode_predict_input(const PredictInput& input, bool truncate, TruncationSide side,
                                       size_t index) const {
  const size_t max_length = static_cast<size_t>(max_length_);
  if (is_blank(input.text) && (!input.pair || is_blank(*input.pair))) raise(cannot_be_empty("inputs"));
  std::string text = input.text;
  std::optional<std::string> pair = input.pair;
  const size_t limit = char_limit();
  const size_t chars = input.count_chars();
  if (chars > limit) {
    if (!truncate) raise(too_long("inputs", limit, "characters", chars));
    if (pair) {  // TEI: each text of a pair to half the limit
      text.resize(char_boundary(text, limit / 2));
      pair->resize(char_boundary(*pair, limit / 2));
    } else {
      text.resize(char_boundary(text, limit));
    }
  }
  Sequence seq;
  seq.index = index;
  take_encoding(
      seq,
      [&] {
        return classifier_->encode(text, pair ? std::optional<std::string_view>(*pair) : std::nullopt,
                                   truncate ? max_length : 0, side);
      },
      max_length, "inputs");
  return seq;
}

}  // namespace encore::serve
