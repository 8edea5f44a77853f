// A model directory with only a SentencePiece model (sentencepiece.bpe.model, spiece.model,
// spm.model) and tokenizer_config.json: the tokenizer.json transformers' slow-to-fast
// converter (convert_slow_tokenizer.py, 4.57.6) would write for its tokenizer_class, built
// from the model's protobuf (ModelProto: pieces, trainer_spec, normalizer_spec).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace encore::tok {

struct SentencePieceModel {
  struct Piece {
    std::string piece;
    float score = 0.0f;
    int type = 1;  // 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte
  };
  std::vector<Piece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  int unk_id = 0;
  std::string precompiled_charsmap;
};

// Parses a serialized ModelProto; throws encore::Error on malformed input.
SentencePieceModel parse_sentencepiece_model(const std::string& bytes);

// The SentencePiece model file of DIR, if it has one (the names transformers uses).
std::optional<std::filesystem::path> find_sentencepiece_model(const std::filesystem::path& dir);

// The converter's tokenizer.json for DIR's model and tokenizer_config.json (XLMRoberta,
// Camembert, Albert, DebertaV2 tokenizers; Unigram models).
nlohmann::json convert_sentencepiece(const std::filesystem::path& model_file, const std::filesystem::path& dir);

}  // namespace encore::tok
