// tokenizers' post-processors (processors/*.rs): TemplateProcessing (BertProcessing is the
// template it amounts to), RobertaProcessing, ByteLevel (offset trimming) and Sequence.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/stages.h"

namespace encore::tok {

class TemplateProcessing : public PostProcessor {
 public:
  explicit TemplateProcessing(PostProcessorConfig pp);
  size_t added_tokens(bool pair) const override { return pair ? added_pair_ : added_single_; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                         const std::string_view* texts) const override;

 private:
  const SpecialTokenIds& special(const std::string& name) const;
  PostProcessorConfig pp_;
  size_t added_single_ = 0, added_pair_ = 0;
};

class RobertaProcessing : public PostProcessor {
 public:
  RobertaProcessing(std::pair<std::string, int32_t> sep, std::pair<std::string, int32_t> cls,
                    bool trim_offsets, bool add_prefix_space)
      : sep_(std::move(sep)), cls_(std::move(cls)), trim_(trim_offsets), prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool pair) const override { return pair ? 4 : 2; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                         const std::string_view* texts) const override;

 private:
  std::pair<std::string, int32_t> sep_, cls_;
  bool trim_, prefix_space_;
};

// processors: ByteLevel only trims offsets (trim_offsets); it adds no token.
class ByteLevelProcessing : public PostProcessor {
 public:
  ByteLevelProcessing(bool trim_offsets, bool add_prefix_space) : trim_(trim_offsets), prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                         const std::string_view* texts) const override;

 private:
  bool trim_, prefix_space_;
};

class ProcessorSequence : public PostProcessor {
 public:
  explicit ProcessorSequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  size_t added_tokens(bool pair) const override;
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens,
                         const std::string_view* texts) const override;

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

// processors/byte_level.rs process_offsets(): offsets lose the leading and trailing
// spaces ('Ġ' or white space) of their tokens, except the one space add_prefix_space put
// before the first token.
void trim_offsets(Encoding& e, bool add_prefix_space, const std::string_view* texts);

}  // namespace encore::tok
