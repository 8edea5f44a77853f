// tokenizers' operations on whole encodings (tokenizer/encoding.rs, utils/truncation.rs,
// processors/mod.rs), which every post-processor composes: truncation into overflowing
// windows, merging (with the cross product of overflowing windows) and process().
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "encore/tokenizer.h"
#include "tokenizer/stages.h"

namespace encore::tok {

// Encoding::truncate: keeps max_len tokens, the rest become overflowing windows that
// overlap by `stride`.
void truncate(Encoding& e, size_t max_len, size_t stride, TruncationSide side);
// truncate_encodings(): `max_length` excludes the special tokens. Throws what tokenizers
// reports as an error (a sequence too short for only_first / only_second).
void truncate_encodings(Encoding& a, Encoding* b, size_t max_length, const TruncationOptions& t);
// Encoding::merge_with(growing_offsets = false).
void merge_with(Encoding& self, Encoding pair);
// Encoding with every field of `n` tokens of one sequence (special tokens: sequence -1).
void set_sequence_id(Encoding& e, int32_t sequence);
// PostProcessor::process: sequence ids and type ids, the stage's process_encodings (none:
// default_process), then one merged encoding.
Encoding process(const PostProcessor* pp, Encoding a, std::optional<Encoding> b,
                 bool add_special_tokens, const std::string_view* texts);

}  // namespace encore::tok
