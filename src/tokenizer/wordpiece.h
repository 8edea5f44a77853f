// WordPiece: greedy longest-match-first over a vocabulary, `##`-style continuations.
// Matching walks a code-point trie, so a word costs O(chars x longest token) rather than
// the references' O(chars^2) substring look-ups; the result is the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace encore::tok {

class WordPiece {
 public:
  struct Piece {
    int32_t id;
    uint32_t begin;  // code point range within the word
    uint32_t end;
  };

  // `vocab` pairs are applied in order (a later duplicate token overrides an earlier one).
  WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab, std::string unk_token,
            std::string prefix, size_t max_input_chars_per_word);

  // Appends the pieces of one word; a word that is too long or cannot be matched
  // completely becomes a single [UNK] spanning it.
  void tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const;

  std::optional<int32_t> find(std::string_view token) const;
  const std::string* token(int32_t id) const;  // nullptr when the id has no token
  int32_t unk_id() const { return unk_id_; }
  size_t size() const { return token_to_id_.size(); }
  const std::string& prefix() const { return prefix_; }

 private:
  uint32_t child(uint32_t node, char32_t c) const;
  uint32_t add_child(uint32_t node, char32_t c);
  void insert(uint32_t root, const std::u32string& chars, int32_t id);

  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<int32_t, std::string> id_to_token_;
  std::unordered_map<uint64_t, uint32_t> edges_;  // (node << 21 | code point) -> node
  std::vector<int32_t> terminal_;                 // node -> token id, or -1
  uint32_t word_root_ = 0;
  uint32_t cont_root_ = 0;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_;
  int32_t unk_id_ = -1;
};

}  // namespace encore::tok
