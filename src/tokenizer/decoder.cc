// ids -> text: `tokenizers`' WordPiece decoder (HfFast) or transformers' slow decode
// (HfSlow, Google; tokenization.py itself has no decoder).
#include <string>

#include "tokenizer/tokenizer_impl.h"

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

// tokenizers decoders/wordpiece.rs cleanup() and transformers clean_up_tokenization().
void cleanup(std::string& s, bool with_do_not) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  if (with_do_not) replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

bool is_py_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F); }

}  // namespace

std::string decode_ids(const Tokenizer::Impl& impl, const std::vector<int32_t>& ids,
                       const DecodeOptions& options) {
  const auto& cfg = impl.config;
  const bool clean = options.clean_up_tokenization_spaces.value_or(cfg.decode_cleanup);
  std::string out;
  if (cfg.flavour == TokenizerFlavour::HfFast) {
    // Tokenizer::decode: unknown ids vanish; the decoder works token by token.
    const std::string& prefix = impl.model.prefix();
    bool first = true;
    for (int32_t id : ids) {
      if (options.skip_special_tokens && impl.special_ids.count(id)) continue;
      std::string token;
      auto added = impl.added_by_id.find(id);
      if (added != impl.added_by_id.end()) {
        token = added->second;
      } else if (const std::string* t = impl.model.token(id)) {
        token = *t;
      } else {
        continue;
      }
      if (!first) {
        if (!prefix.empty() && token.compare(0, prefix.size(), prefix) == 0)
          token.erase(0, prefix.size());
        else
          token.insert(0, " ");
      }
      first = false;
      if (clean) cleanup(token, true);
      out += token;
    }
    return out;
  }
  // transformers PreTrainedTokenizer._decode + BertTokenizer.convert_tokens_to_string.
  bool first = true;
  for (int32_t id : ids) {
    if (options.skip_special_tokens && impl.special_ids.count(id)) continue;
    const std::string* t = impl.model.token(id);
    if (!first) out += ' ';
    first = false;
    out += t ? *t : cfg.unk_token;
  }
  replace_all(out, " ##", "");
  size_t b = 0, e = out.size();
  while (b < e && is_py_space(static_cast<unsigned char>(out[b]))) ++b;
  while (e > b && is_py_space(static_cast<unsigned char>(out[e - 1]))) --e;
  out = out.substr(b, e - b);
  if (clean) cleanup(out, false);
  return out;
}

}  // namespace encore::tok
