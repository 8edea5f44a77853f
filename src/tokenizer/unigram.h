// tokenizers' Unigram model (models/unigram/model.rs encode_optimized): the Viterbi path
// over the split's UTF-8 bytes, each step a vocabulary piece (its score) found by a trie
// walk, or one code point as the unknown piece (min score - 10) where no single-code-point
// piece starts; consecutive unknown code points fuse into one token; byte_fallback turns
// an unknown token into <0xNN> pieces. Scores are doubles, compared as the reference does
// (a strictly better path replaces, the first found wins ties).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/stages.h"

namespace encore::tok {

class Unigram : public Model {
 public:
  Unigram(std::vector<std::pair<std::string, double>> vocab, std::optional<size_t> unk_id, bool byte_fallback);

  void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return pieces_.size(); }

 private:
  // A byte trie: edges in one open-addressing table (key = node << 8 | byte).
  struct Edge {
    uint64_t key;
    uint32_t to;
  };
  uint32_t child(uint32_t node, unsigned char b) const;
  void insert(const std::string& piece, int32_t id);

  std::vector<std::pair<std::string, double>> pieces_;
  std::unordered_map<std::string, int32_t> ids_;  // a later duplicate piece wins
  std::vector<Edge> edges_;
  size_t edge_count_ = 0;
  std::vector<int32_t> terminal_;  // node -> id of the piece ending there, or -1
  std::optional<size_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
  int32_t byte_ids_[256];
};

}  // namespace encore::tok
