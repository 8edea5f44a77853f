// tokenizers' Metaspace pre-tokenizer (pre_tokenizers/metaspace.rs): every ' ' becomes the
// replacement (U+2581 by default), the replacement is prepended (always; first: only to
// the split that starts the text; never) unless there already, and with `split` each
// replacement starts a new split.
#pragma once

#include "tokenizer/stages.h"

namespace encore::tok {

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme prepend, bool split)
      : replacement_(replacement), prepend_(prepend), split_(split) {}
  void pre_tokenize(PreTokenized& p) const override;

 private:
  char32_t replacement_;
  PrependScheme prepend_;
  bool split_;
};

}  // namespace encore::tok
