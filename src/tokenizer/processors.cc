#include "tokenizer/processors.h"

#include <algorithm>

#include "encore/error.h"
#include "tokenizer/encoding_ops.h"

namespace encore::tok {
namespace {

Encoding special_encoding(const std::vector<int32_t>& ids, const std::vector<std::string>& tokens,
                          int32_t type_id) {
  Encoding e;
  const size_t n = ids.size();
  e.ids = ids;
  e.tokens = tokens;
  e.tokens.resize(n);
  e.type_ids.assign(n, type_id);
  e.word_ids.assign(n, -1);
  e.offsets.assign(n, {0, 0});
  e.special_tokens_mask.assign(n, 1);
  e.attention_mask.assign(n, 1);
  e.sequence_ids.assign(n, -1);
  return e;
}

// [first] e [last], type ids `type` for the specials and, unless keep_types, for e too.
Encoding wrap(const Encoding& e, const std::pair<std::string, int32_t>& first,
              const std::pair<std::string, int32_t>& last, int32_t type) {
  Encoding out = special_encoding({first.second}, {first.first}, type);
  Encoding body = e;
  body.overflowing.clear();
  merge_with(out, std::move(body));
  merge_with(out, special_encoding({last.second}, {last.first}, type));
  return out;
}

bool is_trim_space(char32_t c) { return c == 0x120 || is_split_space(c, TokenizerFlavour::HfFast); }

// Byte position `n` code points after `at` in `text`, not beyond `limit`.
size_t advance(std::string_view text, size_t at, size_t n, size_t limit) {
  while (n > 0 && at < limit && at < text.size()) {
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    --n;
  }
  return std::min(at, limit);
}

}  // namespace

void trim_offsets(Encoding& e, bool add_prefix_space, const std::string_view* texts) {
  NText chars;
  for (size_t i = 0; i < e.size(); ++i) {
    const std::string& token = e.tokens[i];
    chars.clear();
    decode_utf8(token, 0, chars);
    size_t leading = 0, trailing = 0;
    while (leading < chars.size() && is_trim_space(chars[leading].c)) ++leading;
    while (trailing < chars.size() && is_trim_space(chars[chars.size() - 1 - trailing].c)) ++trailing;
    if (leading == 0 && trailing == 0) continue;
    auto& [start, end] = e.offsets[i];
    const int32_t s = e.sequence_ids[i];
    const std::string_view text = s >= 0 ? texts[s] : std::string_view();
    if (leading > 0) {
      const bool is_first = i == 0 || start == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      start = advance(text, start, leading, end);
    }
    if (trailing > 0) {
      // offsets.1 >= trailing (in code points): step back `trailing` code points.
      size_t at = end, k = trailing;
      while (k > 0 && at > 0) {
        --at;
        while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
        --k;
      }
      if (k == 0) end = std::max(at, start);
    }
  }
}

TemplateProcessing::TemplateProcessing(PostProcessorConfig pp) : pp_(std::move(pp)) {
  for (const auto& piece : pp_.single)
    if (piece.kind == TemplatePiece::Kind::Special) added_single_ += special(piece.special).ids.size();
  for (const auto& piece : pp_.pair)
    if (piece.kind == TemplatePiece::Kind::Special) added_pair_ += special(piece.special).ids.size();
}

const SpecialTokenIds& TemplateProcessing::special(const std::string& name) const {
  for (const auto& [key, value] : pp_.specials)
    if (key == name) return value;
  fail("post-processor template names unknown special token '", name, "'");
}

// processors/template.rs apply_template().
void TemplateProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                                           const std::string_view*) const {
  std::vector<Encoding> out;
  for (const auto& piece : encodings.size() == 2 ? pp_.pair : pp_.single) {
    switch (piece.kind) {
      case TemplatePiece::Kind::SequenceA:
      case TemplatePiece::Kind::SequenceB: {
        const size_t i = piece.kind == TemplatePiece::Kind::SequenceA ? 0 : 1;
        if (i >= encodings.size()) fail("the post-processor's template has no second sequence");
        Encoding& e = encodings[i];
        e.type_ids.assign(e.size(), piece.type_id);
        set_sequence_id(e, static_cast<int32_t>(i));
        out.push_back(e);
        break;
      }
      case TemplatePiece::Kind::Special:
        if (add_special_tokens) {
          const SpecialTokenIds& sp = special(piece.special);
          out.push_back(special_encoding(sp.ids, sp.tokens, piece.type_id));
        }
        break;
    }
  }
  encodings.swap(out);
}

// processors/roberta.rs.
void RobertaProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                                          const std::string_view* texts) const {
  if (trim_) {
    for (auto& e : encodings) {
      trim_offsets(e, prefix_space_, texts);
      for (auto& o : e.overflowing) trim_offsets(o, prefix_space_, texts);
    }
  }
  for (auto& e : encodings) e.type_ids.assign(e.size(), 0);
  if (!add_special_tokens) return;
  for (size_t i = 0; i < encodings.size(); ++i) {
    Encoding& e = encodings[i];
    const auto& first = i == 0 ? cls_ : sep_;
    Encoding out = wrap(e, first, sep_, 0);
    for (const auto& o : e.overflowing) {
      Encoding w = wrap(o, first, sep_, 0);
      w.type_ids.assign(w.size(), 0);
      out.overflowing.push_back(std::move(w));
    }
    e = std::move(out);
  }
}

void ByteLevelProcessing::process_encodings(std::vector<Encoding>& encodings, bool,
                                            const std::string_view* texts) const {
  if (trim_) {
    for (auto& e : encodings) {
      trim_offsets(e, prefix_space_, texts);
      for (auto& o : e.overflowing) trim_offsets(o, prefix_space_, texts);
    }
  }
  for (size_t i = 0; i < encodings.size(); ++i) set_sequence_id(encodings[i], static_cast<int32_t>(i));
}

size_t ProcessorSequence::added_tokens(bool pair) const {
  size_t n = 0;
  for (const auto& s : steps_) n += s->added_tokens(pair);
  return n;
}

void ProcessorSequence::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                                          const std::string_view* texts) const {
  for (const auto& s : steps_) s->process_encodings(encodings, add_special_tokens, texts);
}

std::unique_ptr<PostProcessor> make_template_processing(const PostProcessorConfig& pp) {
  return std::make_unique<TemplateProcessing>(pp);
}

}  // namespace encore::tok
