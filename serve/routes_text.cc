// /tokenize and /decode (text-embeddings-inference router/src/http/server.rs tokenize,
// decode): the model's tokenizer as it is, without the embedding's truncation.
#include "serve/json_text.h"
#include "encore/error.h"
#include "serve/service.h"

namespace encore::serve {

void Service::tokenize(Call& call) {
  TokenizeRequest req = parse_tokenize_request(call.request.body);
  if (req.batch) check_batch_size(req.inputs.size(), "inputs");
  EncodeOptions options;
  options.add_special_tokens = req.add_special_tokens;
  std::string body = "[";
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    const std::string text = prompt(req.prompt_name) + req.inputs[i];
    if (is_blank(text)) raise(validation("Input validation error: `inputs` cannot be empty"));
    const size_t chars = Input{text, {}, false}.count_chars();
    if (chars > char_limit())
      raise(validation("Input validation error: `inputs` must have less than " + std::to_string(char_limit()) +
                       " characters. Given: " + std::to_string(chars)));
    Encoding e;
    try {
      e = tokenizer().encode(text, options);
    } catch (const Error& err) {
      raise(tokenizer_error(err.what()));
    }
    body += i ? ",[" : "[";
    for (size_t t = 0; t < e.size(); ++t) {
      const bool special = e.special_tokens_mask[t] != 0;
      body += t ? ",{\"id\":" : "{\"id\":";
      body += std::to_string(e.ids[t]);
      if (special) {  // TEI: the token's text, no span
        body += ",\"text\":" + json_string(e.tokens[t]) + ",\"special\":true,\"start\":null,\"stop\":null}";
      } else {  // the covered input text; start and stop count code points
        const auto [begin, end] = e.offsets[t];
        const std::string piece = begin <= end && end <= text.size() ? text.substr(begin, end - begin) : e.tokens[t];
        body += ",\"text\":" + json_string(piece) + ",\"special\":false,\"start\":" +
                std::to_string(e.char_offsets[t].first) + ",\"stop\":" + std::to_string(e.char_offsets[t].second) + "}";
      }
    }
    body += ']';
  }
  body += ']';
  call.respond(HttpResponse{200, std::move(body), "application/json", {}});
}

void Service::decode(Call& call) {
  DecodeRequest req = parse_decode_request(call.request.body);
  if (req.batch) check_batch_size(req.ids.size(), "ids");
  const size_t vocab = tokenizer().vocab_size();
  DecodeOptions options;
  options.skip_special_tokens = req.skip_special_tokens;
  std::string body = "[";
  for (size_t i = 0; i < req.ids.size(); ++i) {
    if (req.ids[i].empty()) raise(validation("Input validation error: `input_ids` cannot be empty"));
    std::vector<int32_t> ids;
    ids.reserve(req.ids[i].size());
    for (int64_t id : req.ids[i]) {
      if (static_cast<uint64_t>(id) >= vocab)
        raise(tokenizer_error("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                              std::to_string(vocab) + ")"));
      ids.push_back(static_cast<int32_t>(id));
    }
    std::string text;
    try {
      text = tokenizer().decode(ids, options);
    } catch (const Error& err) {
      raise(tokenizer_error(err.what()));
    }
    if (i) body += ',';
    body += json_string(text);
  }
  body += ']';
  call.respond(HttpResponse{200, std::move(body), "application/json", {}});
}

}  // namespace encore::serve
