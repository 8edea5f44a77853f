#include "tokenizer/bpe.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <queue>

#include "encore/error.h"
#include "tokenizer/unicode.h"

namespace encore::tok {
namespace {

constexpr int64_t kMaxId = int64_t{1} << 24;

inline size_t slot_of(uint64_t key, size_t mask) {
  return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> (64 - std::popcount(mask)));
}

inline uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_merges(const nlohmann::json& merges) {
  if (!merges.is_array()) fail("model.merges must be an array");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  size_t rank = 0;
  for (const auto& m : merges) {
    if (m.is_string()) {
      // models/bpe/model.rs convert_merges_to_hashmap(): "#version" lines are skipped,
      // every other line is two parts split on ' '.
      const std::string& line = m.get_ref<const std::string&>();
      if (line.rfind("#version", 0) == 0) continue;
      ++rank;
      const size_t sp = line.find(' ');
      if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
        fail("model.merges: merge ", rank, " ('", line, "') is not two tokens separated by one space");
      out.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      ++rank;
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      fail("model.merges: entry ", rank + 1, " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return out;
}

BPE::BPE(const std::vector<std::pair<std::string, int32_t>>& vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, BPEOptions options)
    : options_(std::move(options)) {
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    if (id < 0 || id >= kMaxId) fail("vocabulary token '", token, "' has id ", id, " (0 to ", kMaxId - 1, ")");
    max_id = std::max(max_id, id);
  }
  vocab_.reserve(vocab.size());
  id_to_token_.resize(static_cast<size_t>(max_id + 1));
  has_token_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [token, id] : vocab) {
    vocab_[token] = id;  // a later duplicate wins, as in a JSON object read into a map
  }
  for (const auto& [token, id] : vocab_) {
    id_to_token_[static_cast<size_t>(id)] = token;
    has_token_[static_cast<size_t>(id)] = 1;
  }
  // An empty prefix or suffix (RobertaConverter writes "") changes no token.
  if (options_.continuing_subword_prefix && options_.continuing_subword_prefix->empty()) options_.continuing_subword_prefix.reset();
  if (options_.end_of_word_suffix && options_.end_of_word_suffix->empty()) options_.end_of_word_suffix.reset();
  plain_ = !options_.continuing_subword_prefix && !options_.end_of_word_suffix;
  for (const auto& [token, id] : vocab_) {
    NText t;
    if (find_invalid_utf8(token) != std::string::npos) continue;
    decode_utf8(token, 0, t);
    if (t.size() == 1) plain_chars_[t[0].c] = id;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab_.find(name);
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  if (options_.unk_token) {
    auto it = vocab_.find(*options_.unk_token);
    unk_id_ = it == vocab_.end() ? -1 : it->second;
  }
  // models/bpe/model.rs BpeBuilder::build(): the merged token is a + b without b's prefix.
  size_t capacity = 16;
  while (capacity < merges.size() * 2 + 2) capacity *= 2;
  merges_.assign(capacity, Merge{});
  const size_t prefix_len = options_.continuing_subword_prefix ? options_.continuing_subword_prefix->size() : 0;
  const size_t mask = capacity - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    if (ia == vocab_.end()) fail("merge ", rank + 1, ": '", a, "' is not in the vocabulary");
    if (ib == vocab_.end()) fail("merge ", rank + 1, ": '", b, "' is not in the vocabulary");
    if (b.size() < prefix_len) fail("merge ", rank + 1, ": '", b, "' is shorter than the continuing_subword_prefix");
    const std::string merged = a + b.substr(prefix_len);
    auto im = vocab_.find(merged);
    if (im == vocab_.end()) fail("merge ", rank + 1, ": '", merged, "' is not in the vocabulary");
    const uint64_t key = pair_key(ia->second, ib->second);
    size_t i = slot_of(key, mask);
    while (merges_[i].key != ~uint64_t{0} && merges_[i].key != key) i = (i + 1) & mask;
    merges_[i] = Merge{key, static_cast<uint32_t>(rank), im->second};  // a later duplicate wins
  }
}

const BPE::Merge* BPE::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    const Merge& m = merges_[i];
    if (m.key == key) return &m;
    if (m.key == ~uint64_t{0}) return nullptr;
  }
}

int32_t BPE::char_id(char32_t c, bool first, bool last) const {
  if (plain_ || ((first || !options_.continuing_subword_prefix) && (!last || !options_.end_of_word_suffix))) {
    auto it = plain_chars_.find(c);
    return it == plain_chars_.end() ? -1 : it->second;
  }
  std::string s;
  if (!first && options_.continuing_subword_prefix) s = *options_.continuing_subword_prefix;
  append_utf8(c, s);
  if (last && options_.end_of_word_suffix) s += *options_.end_of_word_suffix;
  auto it = vocab_.find(s);
  return it == vocab_.end() ? -1 : it->second;
}

void BPE::tokenize(const char32_t* chars, size_t n, std::vector<Piece>& out) const {
  if (n == 0) return;
  if (options_.ignore_merges) {
    if (auto id = token_to_id(to_utf8(chars, n))) {
      out.push_back({*id, 0, static_cast<uint32_t>(n)});
      return;
    }
  }
  // models/bpe/model.rs merge_word(): symbols, with the unknown ones fused or not.
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t begin, end;
    bool live;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(n + 4);
  auto add = [&](int32_t id, uint32_t begin, uint32_t end) {
    const auto i = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, i - 1, i + 1, begin, end, true});
  };
  int32_t unk = -1;
  uint32_t unk_begin = 0, unk_end = 0;
  bool have_unk = false;
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint32_t>(i), e = static_cast<uint32_t>(i + 1);
    const int32_t id = char_id(chars[i], i == 0, i + 1 == n);
    if (id >= 0) {
      if (have_unk) add(unk, unk_begin, unk_end), have_unk = false;
      add(id, b, e);
      continue;
    }
    if (options_.byte_fallback) {
      std::string s;
      if (i != 0 && options_.continuing_subword_prefix) s = *options_.continuing_subword_prefix;
      append_utf8(chars[i], s);
      if (i + 1 == n && options_.end_of_word_suffix) s += *options_.end_of_word_suffix;
      bool all = true;
      for (unsigned char c : s) all &= byte_ids_[c] >= 0;
      if (all) {
        // Each byte token covers its byte of the character: offsets map to the character.
        for (unsigned char c : s) add(byte_ids_[c], b, e);
        continue;
      }
    }
    if (!options_.unk_token) continue;
    if (unk_id_ < 0) fail("the unknown token '", *options_.unk_token, "' is not in the vocabulary");
    if (have_unk && options_.fuse_unk) {
      unk_end = e;
    } else {
      if (have_unk) add(unk, unk_begin, unk_end);
      unk = unk_id_, unk_begin = b, unk_end = e, have_unk = true;
    }
  }
  if (have_unk) add(unk, unk_begin, unk_end);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // Word::merge_all: lowest rank first, then lowest position.
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t id;
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const Merge* m = find_merge(symbols[i].id, symbols[i + 1].id))
      queue.push({m->rank, static_cast<int32_t>(i), m->id});
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const auto pos = static_cast<size_t>(top.pos);
    Symbol& cur = symbols[pos];
    if (!cur.live || cur.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(cur.next)];
    const Merge* m = find_merge(cur.id, right.id);
    if (!m || m->id != top.id) continue;  // an expired entry
    cur.id = top.id;
    cur.end = right.end;
    cur.next = right.next;
    right.live = false;
    if (cur.next >= 0) symbols[static_cast<size_t>(cur.next)].prev = top.pos;
    if (cur.prev >= 0)
      if (const Merge* p = find_merge(symbols[static_cast<size_t>(cur.prev)].id, cur.id))
        queue.push({p->rank, cur.prev, p->id});
    if (cur.next >= 0)
      if (const Merge* q = find_merge(cur.id, symbols[static_cast<size_t>(cur.next)].id))
        queue.push({q->rank, top.pos, q->id});
  }
  for (const Symbol& s : symbols)
    if (s.live) out.push_back({s.id, s.begin, s.end});
}

std::optional<int32_t> BPE::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BPE::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<size_t>(id)]) return nullptr;
  return &id_to_token_[static_cast<size_t>(id)];
}

}  // namespace encore::tok
