// tokenizers' Replace normalizer (normalizers/replace.rs, NormalizedString::replace): each
// match of the pattern becomes `content`, whose code points take the span of the match's
// last code point.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/pattern.h"
#include "tokenizer/stages.h"

namespace encore::tok {

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Pattern> pattern, const std::string& content);
  void normalize(NText& text) const override;

 private:
  std::unique_ptr<Pattern> pattern_;
  std::u32string content_;
};

}  // namespace encore::tok
