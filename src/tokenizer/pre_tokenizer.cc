#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/normalizer.h"

namespace encore::tok {
namespace {

std::string utf8_of(const NText& text, size_t begin, size_t end) {
  std::string s;
  for (size_t i = begin; i < end; ++i) append_utf8(text[i].c, s);
  return s;
}

// Punctuation split of out[begin, end) into words.
void split_on_punctuation(const NText& out, size_t begin, size_t end, TokenizerFlavour f,
                          std::vector<Word>& words) {
  size_t start = begin;
  for (size_t i = begin; i < end; ++i) {
    if (!is_punctuation(out[i].c, f)) continue;
    if (start < i) words.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(i)});
    words.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
    start = i + 1;
  }
  if (start < end) words.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
}

}  // namespace

void pre_tokenize_hf_fast(const NText& text, size_t begin, size_t end, std::vector<Word>& words) {
  const auto f = TokenizerFlavour::HfFast;
  size_t start = begin;
  for (size_t i = begin; i < end; ++i) {
    char32_t c = text[i].c;
    bool space = is_split_space(c, f);
    if (!space && !is_punctuation(c, f)) continue;
    if (start < i) words.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(i)});
    if (!space) words.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
    start = i + 1;
  }
  if (start < end) words.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
}

void BertPreTokenizer::pre_tokenize(PreTokenized& p) const {
  split_each(p, [&](uint32_t begin, uint32_t end, std::vector<Split>& out) {
    pre_tokenize_hf_fast(p.text, begin, end, out);
  });
}

void basic_tokenize(const NText& text, const TokenizerConfig& config,
                    const std::unordered_set<std::string>& never_split, NText& out,
                    std::vector<Word>& words) {
  const auto f = config.flavour;
  const bool strip = config.lowercase ? config.strip_accents.value_or(true)
                                      : config.strip_accents.value_or(false);
  NText token;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (is_split_space(text[i].c, f)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !is_split_space(text[j].c, f)) ++j;
    const bool guarded = !never_split.empty() && never_split.count(utf8_of(text, i, j)) != 0;
    token.clear();
    if (guarded) {
      token.assign(text.begin() + static_cast<std::ptrdiff_t>(i),
                   text.begin() + static_cast<std::ptrdiff_t>(j));
    } else {
      if (config.lowercase) {
        python_lower_token(text, i, j, f, token);
      } else {
        token.assign(text.begin() + static_cast<std::ptrdiff_t>(i),
                     text.begin() + static_cast<std::ptrdiff_t>(j));
      }
      if (strip) strip_accents(token, f);
    }
    const size_t base = out.size();
    out.insert(out.end(), token.begin(), token.end());
    if (guarded || (!never_split.empty() && !token.empty() &&
                    never_split.count(utf8_of(token, 0, token.size())) != 0)) {
      words.push_back({static_cast<uint32_t>(base), static_cast<uint32_t>(out.size()), true});
    } else {
      split_on_punctuation(out, base, out.size(), f, words);
    }
    i = j;
  }
}

}  // namespace encore::tok
