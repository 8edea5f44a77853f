#include "tokenizer/unigram.h"

#include <bit>
#include <cstdio>
#include <limits>

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

constexpr uint64_t kEmpty = ~uint64_t{0};
constexpr double kUnkPenalty = 10.0;  // model.rs K_UNK_PENALTY

inline size_t slot_of(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> (64 - std::popcount(mask)));
}

}  // namespace

Unigram::Unigram(std::vector<std::pair<std::string, double>> vocab, std::optional<size_t> unk_id, bool byte_fallback)
    : pieces_(std::move(vocab)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  if (unk_id_) {
    if (pieces_.empty()) fail("model Unigram: the vocabulary is empty");
    if (*unk_id_ >= pieces_.size()) fail("model Unigram: unk_id ", *unk_id_, " is not in the vocabulary");
  }
  if (pieces_.size() >= (size_t{1} << 31)) fail("model Unigram: too many pieces");
  size_t bytes = 0;
  for (const auto& p : pieces_) bytes += p.first.size();
  size_t capacity = 1024;
  while (capacity < bytes * 2 + 2) capacity *= 2;
  edges_.assign(capacity, Edge{kEmpty, 0});
  terminal_.reserve(bytes / 2 + 1);
  terminal_.push_back(-1);
  ids_.reserve(pieces_.size());
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    ids_[pieces_[i].first] = static_cast<int32_t>(i);
    if (pieces_[i].second < min_score_) min_score_ = pieces_[i].second;
  }
  // The trie holds every piece; a match looks its string up (so a duplicate gets the id,
  // and the score, of its last occurrence).
  for (const auto& [piece, id] : ids_) insert(piece, id);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = ids_.find(name);
    byte_ids_[b] = it == ids_.end() ? -1 : it->second;
  }
}

uint32_t Unigram::child(uint32_t node, unsigned char b) const {
  const uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
  const size_t mask = edges_.size() - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    const Edge& e = edges_[i];
    if (e.key == key) return e.to;
    if (e.key == kEmpty) return 0;
  }
}

void Unigram::insert(const std::string& piece, int32_t id) {
  if (piece.empty()) return;  // the trie never yields the empty key
  uint32_t node = 0;
  const size_t mask = edges_.size() - 1;
  for (unsigned char b : piece) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
    size_t i = slot_of(key, mask);
    while (edges_[i].key != kEmpty && edges_[i].key != key) i = (i + 1) & mask;
    if (edges_[i].key == kEmpty) {
      edges_[i] = Edge{key, static_cast<uint32_t>(terminal_.size())};
      terminal_.push_back(-1);
      ++edge_count_;
    }
    node = edges_[i].to;
  }
  terminal_[node] = id;
}

void Unigram::tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const {
  if (n == 0) return;
  // Buffers reused across calls on this thread.
  thread_local std::string s;
  thread_local std::vector<uint32_t> char_at;  // byte -> index of its code point
  s.clear();
  char_at.clear();
  for (size_t i = 0; i < n; ++i) {
    const size_t before = s.size();
    append_utf8(chars[i], s);
    char_at.insert(char_at.end(), s.size() - before, static_cast<uint32_t>(i));
  }
  char_at.push_back(static_cast<uint32_t>(n));
  const size_t size = s.size();
  struct Node {
    int32_t id = 0;
    double score = 0.0;
    int64_t starts_at = -1;
  };
  thread_local std::vector<Node> best;
  best.assign(size + 1, Node{});
  const double unk_score = min_score_ - kUnkPenalty;
  const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t start = 0; start < size;) {
    const double till_here = best[start].score;
    const unsigned char lead = bytes[start];
    const size_t mblen = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    bool has_single = false;
    uint32_t node = 0;
    for (size_t k = start; k < size; ++k) {
      node = child(node, bytes[k]);
      if (node == 0) break;
      const int32_t id = terminal_[node];
      if (id < 0) continue;
      Node& target = best[k + 1];
      const double candidate = pieces_[static_cast<size_t>(id)].second + till_here;
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<int64_t>(start);
        target.id = id;
      }
      if (k + 1 - start == mblen) has_single = true;
    }
    if (!has_single) {
      if (!unk_id_) fail("model Unigram: a character has no piece and the model has no unk_id");
      Node& target = best[start + mblen];
      const double candidate = unk_score + till_here;
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<int64_t>(start);
        target.id = static_cast<int32_t>(*unk_id_);
      }
    }
    start += mblen;
  }
  // Back from the end; consecutive unknown pieces fuse (fuse_unk is always on).
  struct Span {
    size_t begin, end;
    int32_t id;
    bool unk;
  };
  thread_local std::vector<Span> spans;  // reversed
  spans.clear();
  size_t end = size;
  bool open_unk = false;
  while (end > 0) {
    const Node& node = best[end];
    const auto start = static_cast<size_t>(node.starts_at);
    const bool unk = unk_id_ && static_cast<size_t>(node.id) == *unk_id_;
    if (unk && open_unk) {
      spans.back().begin = start;
    } else {
      spans.push_back({start, end, node.id, unk});
    }
    open_unk = unk;
    end = start;
  }
  for (size_t k = spans.size(); k-- > 0;) {
    const auto [b, e, id, unk] = spans[k];
    const uint32_t cb = char_at[b], ce = char_at[e];
    if (!unk) {  // a piece the trie found: its id is the one its string maps to
      out.push_back({id, cb, ce});
      continue;
    }
    // model.rs tokenize(): the (fused) unknown string is looked up as a whole first.
    const std::string_view piece(s.data() + b, e - b);
    auto it = ids_.find(std::string(piece));
    if (it != ids_.end()) {
      out.push_back({it->second, cb, ce});
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char c : piece) all &= byte_ids_[c] >= 0;
      if (all) {
        for (unsigned char c : piece) out.push_back({byte_ids_[c], cb, ce});
        continue;
      }
    }
    if (!unk_id_) fail("model Unigram: no unk_id for an unknown piece");
    out.push_back({static_cast<int32_t>(*unk_id_), cb, ce, true});
  }
}

std::optional<int32_t> Unigram::token_to_id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string* Unigram::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return nullptr;
  return &pieces_[static_cast<size_t>(id)].first;
}

}  // namespace encore::tok
