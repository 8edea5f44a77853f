#include "tokenizer/wordpiece.h"

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

std::u32string code_points(const std::string& s) {
  NText t;
  decode_utf8(s, 0, t);
  std::u32string out;
  out.reserve(t.size());
  for (const auto& c : t) out.push_back(c.c);
  return out;
}

}  // namespace

WordPiece::WordPiece(const std::vector<std::pair<std::string, int32_t>>& vocab,
                     std::string unk_token, std::string prefix, size_t max_input_chars_per_word)
    : unk_token_(std::move(unk_token)), prefix_(std::move(prefix)),
      max_chars_(max_input_chars_per_word) {
  if (vocab.empty()) fail("the vocabulary is empty");
  for (const auto& [token, id] : vocab) {
    if (id < 0) fail("vocabulary token '", token, "' has a negative id ", id);
    token_to_id_[token] = id;
  }
  for (const auto& [token, id] : token_to_id_) id_to_token_[id] = token;
  auto unk = token_to_id_.find(unk_token_);
  if (unk == token_to_id_.end())
    fail("the vocabulary has no unknown token '", unk_token_, "'");
  unk_id_ = unk->second;

  terminal_.push_back(-1);
  word_root_ = 0;
  if (prefix_.empty()) {
    cont_root_ = word_root_;
  } else {
    terminal_.push_back(-1);
    cont_root_ = 1;
  }
  edges_.reserve(token_to_id_.size() * 4);
  for (const auto& [token, id] : token_to_id_) {
    std::u32string chars;
    try {
      chars = code_points(token);
    } catch (const Error& e) {
      fail("vocabulary token with id ", id, ": ", e.what());
    }
    insert(word_root_, chars, id);
    if (!prefix_.empty() && token.size() > prefix_.size() &&
        token.compare(0, prefix_.size(), prefix_) == 0) {
      insert(cont_root_, code_points(token.substr(prefix_.size())), id);
    }
  }
}

uint32_t WordPiece::child(uint32_t node, char32_t c) const {
  auto it = edges_.find((static_cast<uint64_t>(node) << 21) | c);
  return it == edges_.end() ? 0 : it->second;
}

uint32_t WordPiece::add_child(uint32_t node, char32_t c) {
  uint64_t key = (static_cast<uint64_t>(node) << 21) | c;
  auto it = edges_.find(key);
  if (it != edges_.end()) return it->second;
  auto next = static_cast<uint32_t>(terminal_.size());
  terminal_.push_back(-1);
  edges_.emplace(key, next);
  return next;
}

void WordPiece::insert(uint32_t root, const std::u32string& chars, int32_t id) {
  if (chars.empty()) return;  // an empty piece never matches (start < end)
  uint32_t node = root;
  for (char32_t c : chars) node = add_child(node, c);
  terminal_[node] = id;
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
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* WordPiece::token(int32_t id) const {
  auto it = id_to_token_.find(id);
  return it == id_to_token_.end() ? nullptr : &it->second;
}

}  // namespace encore::tok
