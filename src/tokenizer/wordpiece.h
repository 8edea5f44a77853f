// WordPiece: greedy longest-match-first over a vocabulary, `##`-style continuations.
// Matching walks a code-point trie, so a word costs O(chars x longest token) rather than
// the references' O(chars^2) substring look-ups; the result is the same.
//
// The trie's edges live in one open-addressing hash table (a flat array, no per-edge
// allocation) and token strings in one vector indexed by id: building the 30,522-token
// bert-base vocabulary takes a few milliseconds, which matters for a CLI's cold start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/stages.h"

namespace encore::tok {

class WordPiece : public Model {
 public:
  // `vocab` pairs are applied in order (a later duplicate token overrides an earlier one).
  WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token,
            std::string prefix, size_t max_input_chars_per_word);

  // Appends the pieces of one word; a word that is too long or cannot be matched
  // completely becomes a single [UNK] spanning it.
  void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return find(token); }
  const std::string* id_to_token(int32_t id) const override { return token(id); }
  size_t vocab_size() const override { return size_; }

  std::optional<int32_t> find(std::string_view token) const;
  const std::string* token(int32_t id) const;  // nullptr when the id has no token
  int32_t unk_id() const { return unk_id_; }
  size_t size() const { return size_; }
  const std::string& prefix() const { return prefix_; }

 private:
  // One trie edge: key = node << 21 | code point; kEmpty marks a free slot (node < 2^32,
  // so no real key has all 64 bits set).
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Edge {
    uint64_t key = kEmpty;
    uint32_t to = 0;
  };
  uint32_t child(uint32_t node, char32_t c) const;
  uint32_t add_child(uint32_t node, char32_t c);
  void grow();
  // The node reached by `token`'s code points from `root`, created as needed.
  uint32_t insert(uint32_t root, std::string_view token);

  std::vector<Edge> edges_;        // open addressing, linear probing, power-of-two size
  size_t edge_count_ = 0;
  std::vector<int32_t> terminal_;  // node -> token id, or -1
  std::vector<std::string> id_to_token_;
  std::vector<uint8_t> has_token_;  // id -> 1 when id_to_token_[id] is a vocabulary token
  size_t size_ = 0;                 // distinct tokens
  int32_t empty_id_ = -1;           // the id of the empty token "", if the vocabulary has one
  uint32_t word_root_ = 0;
  uint32_t cont_root_ = 0;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_;
  int32_t unk_id_ = -1;
};

}  // namespace encore::tok
