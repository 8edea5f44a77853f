#include "tokenizer/wordlevel.h"

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {

WordLevel::WordLevel(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token)
    : unk_token_(std::move(unk_token)) {
  for (const auto& [token, id] : vocab) vocab_[token] = id;
  for (const auto& [token, id] : vocab_) by_id_[id] = token;
}

void WordLevel::tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const {
  if (n == 0) return;
  auto it = vocab_.find(to_utf8(chars, n));
  if (it == vocab_.end()) it = vocab_.find(unk_token_);
  if (it == vocab_.end()) fail("model WordLevel: the unknown token '", unk_token_, "' is not in the vocabulary");
  out.push_back({it->second, 0, static_cast<uint32_t>(n)});
}

std::optional<int32_t> WordLevel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* WordLevel::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

}  // namespace encore::tok
