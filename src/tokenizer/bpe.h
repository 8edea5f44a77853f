// tokenizers' BPE model (models/bpe/): each character of a split becomes its vocabulary
// token (with continuing_subword_prefix after the first, end_of_word_suffix on the last;
// byte_fallback: <0xNN> tokens; else the unknown token, fused when fuse_unk), then merges
// apply lowest rank first, leftmost first among equal ranks (Word::merge_all). dropout is
// not supported (null only); ignore_merges looks the whole split up first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/stages.h"

namespace encore::tok {

struct BPEOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BPE : public Model {
 public:
  // merges: (left, right) token pairs in rank order; a later duplicate pair takes its rank.
  BPE(const std::vector<std::pair<std::string, int32_t>>& vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, BPEOptions options);

  void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }
  const std::optional<std::string>& continuing_subword_prefix() const { return options_.continuing_subword_prefix; }

 private:
  struct Merge {
    uint64_t key = ~uint64_t{0};  // left id << 32 | right id
    uint32_t rank = 0;
    int32_t id = 0;
  };
  const Merge* find_merge(int32_t left, int32_t right) const;
  int32_t char_id(char32_t c, bool first, bool last) const;  // -1: not in the vocabulary

  BPEOptions options_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<uint8_t> has_token_;
  std::unordered_map<char32_t, int32_t> plain_chars_;  // without prefix or suffix
  std::vector<Merge> merges_;  // open addressing, power-of-two size
  int32_t byte_ids_[256];       // <0xNN> ids (byte_fallback), -1 when absent
  int32_t unk_id_ = -1;
  bool plain_ = true;  // no prefix and no suffix: plain_chars_ answers every character
};

// merges in either serialization: "left right" strings (legacy) or [left, right] pairs.
std::vector<std::pair<std::string, std::string>> read_merges(const nlohmann::json& merges);

}  // namespace encore::tok
