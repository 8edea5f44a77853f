#include "tokenizer/wordpiece.h"

#include <algorithm>
#include <bit>

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

// Ids beyond this are refused: the id -> token table is a dense vector.
constexpr int64_t kMaxId = int64_t{1} << 24;

// Fibonacci hashing: the top bits of key * 2^64/phi index a table of mask + 1 slots.
inline size_t slot_of(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> (64 - std::popcount(mask)));
}

}  // namespace

WordPiece::WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab,
                     std::string unk_token, std::string prefix, size_t max_input_chars_per_word)
    : unk_token_(std::move(unk_token)), prefix_(std::move(prefix)),
      max_chars_(max_input_chars_per_word) {
  if (vocab.empty()) fail("the vocabulary is empty");
  terminal_.push_back(-1);
  word_root_ = 0;
  if (prefix_.empty()) {
    cont_root_ = word_root_;
  } else {
    terminal_.push_back(-1);
    cont_root_ = 1;
  }
  size_t capacity = 1024;
  while (capacity < vocab.size() * 8) capacity *= 2;  // ~4 edges per token, load <= 1/2
  edges_.assign(capacity, Edge{});
  terminal_.reserve(vocab.size() * 4);
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) max_id = std::max(max_id, id);
  if (max_id >= kMaxId) fail("vocabulary token id ", max_id, " is too large (at most ", kMaxId - 1, ")");
  id_to_token_.resize(static_cast<size_t>(max_id) + 1);
  has_token_.assign(static_cast<size_t>(max_id) + 1, 0);
  // A later duplicate token overrides an earlier one, and the earlier id then has no token
  // (the references build their id -> token maps from the final token -> id map).
  for (const auto& [token, id] : vocab) {
    if (id < 0) fail("vocabulary token '", token, "' has a negative id ", id);
    uint32_t node;
    try {
      node = insert(word_root_, token);
    } catch (const Error& e) {
      fail("vocabulary token with id ", id, ": ", e.what());
    }
    // The empty token (Google's tokenizer strips a vocab line of white space to "") is a
    // vocabulary entry that never matches a piece (start < end): it has no trie node.
    int32_t& slot = node == word_root_ ? empty_id_ : terminal_[node];
    const int32_t old = slot;
    if (old >= 0 && old != id && id_to_token_[static_cast<size_t>(old)] == token) has_token_[static_cast<size_t>(old)] = 0;
    if (old < 0) ++size_;
    slot = id;
    id_to_token_[static_cast<size_t>(id)] = token;
    has_token_[static_cast<size_t>(id)] = 1;
  }
  // Continuation pieces: every token that starts with the prefix, without it.
  if (!prefix_.empty()) {
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
      const std::string& token = id_to_token_[id];
      if (!has_token_[id] || token.size() <= prefix_.size() || token.compare(0, prefix_.size(), prefix_) != 0)
        continue;
      const uint32_t node = insert(cont_root_, std::string_view(token).substr(prefix_.size()));
      terminal_[node] = static_cast<int32_t>(id);
    }
  }
  auto unk = find(unk_token_);
  if (!unk) fail("the vocabulary has no unknown token '", unk_token_, "'");
  unk_id_ = *unk;
}

uint32_t WordPiece::insert(uint32_t root, std::string_view token) {
  NText t;
  decode_utf8(token, 0, t);
  uint32_t node = root;
  for (const auto& c : t) node = add_child(node, c.c);
  return node;
}

uint32_t WordPiece::child(uint32_t node, char32_t c) const {
  const uint64_t key = (static_cast<uint64_t>(node) << 21) | c;
  const size_t mask = edges_.size() - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    const Edge& e = edges_[i];
    if (e.key == key) return e.to;
    if (e.key == kEmpty) return 0;
  }
}

uint32_t WordPiece::add_child(uint32_t node, char32_t c) {
  const uint64_t key = (static_cast<uint64_t>(node) << 21) | c;
  if (const uint32_t to = child(node, c)) return to;
  if (2 * (edge_count_ + 1) > edges_.size()) grow();
  const auto next = static_cast<uint32_t>(terminal_.size());
  terminal_.push_back(-1);
  const size_t mask = edges_.size() - 1;
  size_t i = slot_of(key, mask);
  while (edges_[i].key != kEmpty) i = (i + 1) & mask;
  edges_[i] = Edge{key, next};
  ++edge_count_;
  return next;
}

void WordPiece::grow() {
  std::vector<Edge> old = std::move(edges_);
  edges_.assign(old.size() * 2, Edge{});
  const size_t mask = edges_.size() - 1;
  for (const Edge& e : old) {
    if (e.key == kEmpty) continue;
    size_t i = slot_of(e.key, mask);
    while (edges_[i].key != kEmpty) i = (i + 1) & mask;
    edges_[i] = e;
  }
}

void WordPiece::tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const {
  if (n == 0) return;
  const size_t mark = out.size();
  if (n <= max_chars_) {
    size_t start = 0;
    while (start < n) {
      uint32_t node = start == 0 ? word_root_ : cont_root_;
      int32_t best_id = -1;
      size_t best_end = start;
      for (size_t i = start; i < n; ++i) {
        node = child(node, chars[i]);
        if (node == 0) break;  // node 0 is the word root: never a child
        if (terminal_[node] >= 0) {
          best_id = terminal_[node];
          best_end = i + 1;
        }
      }
      if (best_id < 0) break;
      out.push_back({best_id, static_cast<uint32_t>(start), static_cast<uint32_t>(best_end)});
      start = best_end;
    }
    if (start == n) return;
  }
  out.resize(mark);
  out.push_back({unk_id_, 0, static_cast<uint32_t>(n)});
}

std::optional<int32_t> WordPiece::find(std::string_view token) const {
  if (token.empty()) return empty_id_ >= 0 ? std::optional<int32_t>(empty_id_) : std::nullopt;
  NText t;
  try {
    decode_utf8(token, 0, t);
  } catch (const Error&) {
    return std::nullopt;
  }
  uint32_t node = word_root_;
  for (const auto& c : t) {
    node = child(node, c.c);
    if (node == 0) return std::nullopt;
  }
  return terminal_[node] >= 0 ? std::optional<int32_t>(terminal_[node]) : std::nullopt;
}

const std::string* WordPiece::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<size_t>(id)]) return nullptr;
  return &id_to_token_[static_cast<size_t>(id)];
}

}  // namespace encore::tok
