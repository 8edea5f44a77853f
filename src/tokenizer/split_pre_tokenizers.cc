#include "tokenizer/split_pre_tokenizers.h"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>

#include "encore/error.h"
#include "tokenizer/pre_tokenizer.h"

namespace encore::tok {
namespace {

// tokenizer/normalizer.rs NormalizedString::split: pieces (matches and gaps, in order)
// regrouped by the behaviour; removed pieces and empty ones are dropped.
void regroup(const std::vector<Pattern::Piece>& pieces, SplitBehavior behavior, std::vector<Split>& out) {
  std::vector<Pattern::Piece> acc;  // `match` now means "drop"
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto p : pieces) acc.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::Removed:
      acc = pieces;
      break;
    case SplitBehavior::Contiguous: {
      bool previous = false;
      for (const auto& p : pieces) {
        if (p.match == previous && !acc.empty())
          acc.back().end = p.end;
        else
          acc.push_back({p.begin, p.end, false});
        previous = p.match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool previous = false;
      for (const auto& p : pieces) {
        if (p.match && !previous && !acc.empty())
          acc.back().end = p.end;
        else
          acc.push_back({p.begin, p.end, false});
        previous = p.match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous = false;
      for (size_t k = pieces.size(); k-- > 0;) {
        const auto& p = pieces[k];
        if (p.match && !previous && !acc.empty())
          acc.back().begin = p.begin;
        else
          acc.push_back({p.begin, p.end, false});
        previous = p.match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    }
  }
  for (const auto& p : acc)
    if (!p.match && p.begin < p.end) out.push_back({p.begin, p.end});
}

// Rust regex's \w (Unicode 16): Alphabetic, M*, Nd, Pc, Join_Control: the general categories
// (L*, Nl, M*, Nd, Pc) and the joiners, plus the generated table of what they miss (Other_Alphabetic
// symbols, letters newer than utf8proc's Unicode); equal on every code point (make_tok_models.py
// unicode-tables checks both directions).
bool is_word(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ND) || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_PC || hf_regex_word_extra(c);
}

}  // namespace

SplitBehavior split_behavior_from_name(const std::string& name) {
  std::string n;
  for (char c : name) if (c != '_') n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (n == "removed") return SplitBehavior::Removed;
  if (n == "isolated") return SplitBehavior::Isolated;
  if (n == "mergedwithprevious") return SplitBehavior::MergedWithPrevious;
  if (n == "mergedwithnext") return SplitBehavior::MergedWithNext;
  if (n == "contiguous") return SplitBehavior::Contiguous;
  fail("split behavior '", name, "' is unknown");
}

void SplitPreTokenizer::pre_tokenize(PreTokenized& p) const {
  std::vector<Pattern::Piece> pieces;
  split_each(p, [&](uint32_t begin, uint32_t end, std::vector<Split>& out) {
    pieces.clear();
    if (pattern_) {
      pattern_->find_matches(p.text, begin, end, pieces);
      if (invert_)
        for (auto& x : pieces) x.match = !x.match;
    } else {
      // A code point predicate: every matching code point is its own match.
      uint32_t last = begin;
      for (uint32_t i = begin; i < end; ++i) {
        if (!predicate_(p.text[i].c)) continue;
        if (last < i) pieces.push_back({last, i, false});
        pieces.push_back({i, i + 1, true});
        last = i + 1;
      }
      if (last < end) pieces.push_back({last, end, false});
    }
    regroup(pieces, behavior_, out);
  });
}

void WhitespacePreTokenizer::pre_tokenize(PreTokenized& p) const {
  split_each(p, [&](uint32_t begin, uint32_t end, std::vector<Split>& out) {
    uint32_t i = begin;
    while (i < end) {
      const char32_t c = p.text[i].c;
      if (is_split_space(c, TokenizerFlavour::HfFast)) {
        ++i;
        continue;
      }
      const bool word = is_word(c);
      uint32_t j = i + 1;
      while (j < end && is_word(p.text[j].c) == word &&
             (word || !is_split_space(p.text[j].c, TokenizerFlavour::HfFast)))
        ++j;
      out.push_back({i, j});
      i = j;
    }
  });
}

namespace {

struct ScriptRange {
  char32_t lo, hi;
  uint8_t script;
};
#include "tokenizer/hf_script_tables.inc"

// The script id of c (generated from the wheel), 0 for Any.
int script_of(char32_t c) {
  const auto* end = std::end(kHfScripts);
  const auto* it = std::upper_bound(std::begin(kHfScripts), end, c,
                                    [](char32_t x, const ScriptRange& r) { return x < r.lo; });
  if (it == std::begin(kHfScripts)) return 0;
  --it;
  return c <= it->hi ? it->script : 0;
}

}  // namespace

void UnicodeScriptsPreTokenizer::pre_tokenize(PreTokenized& p) const {
  split_each(p, [&](uint32_t begin, uint32_t end, std::vector<Split>& out) {
    int last = -1;  // no script yet
    uint32_t start = end;  // where the current piece began (nothing before the first script)
    for (uint32_t i = begin; i < end; ++i) {
      const int s = script_of(p.text[i].c);
      if (s == 0) continue;
      if (s != last) {
        if (start < i) out.push_back({start, i});
        start = i;
      }
      last = s;
    }
    if (start < end) out.push_back({start, end});
  });
}

}  // namespace encore::tok
