// tokenizers' WordLevel model (models/wordlevel): a split is one vocabulary token, or the
// unknown token.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/stages.h"

namespace encore::tok {

class WordLevel : public Model {
 public:
  WordLevel(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token);
  void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<int32_t, std::string> by_id_;
  std::string unk_token_;
};

}  // namespace encore::tok
