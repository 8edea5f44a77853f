// ids -> text: the tokenizer.json decoder (HfFast) or transformers' slow decode (HfSlow,
// Google; tokenization.py itself has no decoder).
#include <string>

#include "tokenizer/decoders.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/wordpiece.h"

namespace encore::tok {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (s.find(from) == std::string::npos) return;
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

bool is_py_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F); }

// transformers' BertTokenizer.convert_tokens_to_string + PreTrainedTokenizer._decode.
std::string decode_slow(std::vector<std::string> tokens, bool clean) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  replace_all(out, " ##", "");
  size_t b = 0, e = out.size();
  while (b < e && is_py_space(static_cast<unsigned char>(out[b]))) ++b;
  while (e > b && is_py_space(static_cast<unsigned char>(out[e - 1]))) --e;
  out = out.substr(b, e - b);
  if (clean) cleanup_tokenization(out, false);
  return out;
}

}  // namespace

std::string decode_tokens(const Tokenizer::Impl& impl, std::vector<std::string> tokens,
                          std::optional<bool> cleanup) {
  if (impl.config.flavour != TokenizerFlavour::HfFast)
    return decode_slow(std::move(tokens), cleanup.value_or(impl.config.decode_cleanup));
  if (!impl.decoder) {  // TokenizerImpl::decode without a decoder: tokens.join(" ")
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  impl.decoder->decode_chain(tokens, cleanup);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::string decode_ids(const Tokenizer::Impl& impl, const std::vector<int32_t>& ids,
                       const DecodeOptions& options) {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  if (impl.config.flavour == TokenizerFlavour::HfFast) {
    // TokenizerImpl::decode: unknown ids vanish; special tokens are skipped by content.
    for (int32_t id : ids) {
      const std::string* token = nullptr;
      auto added = impl.added_by_id.find(id);
      if (added != impl.added_by_id.end())
        token = &added->second;
      else
        token = impl.model->id_to_token(id);
      if (!token || (options.skip_special_tokens && impl.special_contents.count(*token))) continue;
      tokens.push_back(*token);
    }
    return decode_tokens(impl, std::move(tokens), options.clean_up_tokenization_spaces);
  }
  // transformers PreTrainedTokenizer._decode: unknown ids become the unknown token.
  for (int32_t id : ids) {
    if (options.skip_special_tokens && impl.special_ids.count(id)) continue;
    const std::string* t = impl.model->id_to_token(id);
    tokens.push_back(t ? *t : impl.config.unk_token);
  }
  return decode_tokens(impl, std::move(tokens), options.clean_up_tokenization_spaces);
}

std::optional<std::string> continuing_subword_prefix(const Tokenizer::Impl& impl) {
  if (const auto* wp = dynamic_cast<const WordPiece*>(impl.model.get())) return wp->prefix();
  return impl.model_prefix;
}

}  // namespace encore::tok
