// tokenizer.json pipelines beyond WordPiece (byte-level BPE, Unigram behind Precompiled and
// Metaspace): goldens written by `tokenizers` 0.22.2 (tools/reference/make_tok_models.py
// goldens) for rebuilt roberta-base, xlm-roberta-base, albert-base-v2 and modernbert-base
// pipelines and a WordLevel one with the splitting pre-tokenizers. Every
// field must be identical: ids, type ids, attention and special-tokens masks, word ids,
// offsets in code points and bytes, tokens, overflowing windows, decode with and without
// special tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/error.h"
#include "encore/tokenizer.h"
#include "test_util.h"

namespace {

using encore::Encoding;
using encore::EncodeOptions;
using encore::Tokenizer;
using nlohmann::json;

const std::filesystem::path kDir = std::filesystem::path(ENCORE_FIXTURES_DIR) / "tokenizer";

json words_of(const Encoding& e) {
  json w = json::array();
  for (int32_t v : e.word_ids) w.push_back(v < 0 ? json() : json(v));
  return w;
}

// The differences between an encoding and its expected JSON, one line each.
std::string diff(const Encoding& e, const json& x) {
  std::string out;
  auto check = [&](const char* name, const json& got) {
    if (got != x.at(name)) out += std::string(name) + ": " + got.dump() + " != " + x.at(name).dump() + "\n";
  };
  check("ids", e.ids);
  check("types", e.type_ids);
  check("attention", e.attention_mask);
  check("special", e.special_tokens_mask);
  check("words", words_of(e));
  check("offsets", e.char_offsets);
  check("byte_offsets", e.offsets);
  check("tokens", e.tokens);
  return out;
}

EncodeOptions options_of(const json& c) {
  EncodeOptions o;
  o.add_special_tokens = c.value("special", true);
  if (c.contains("truncation")) {
    const json& t = c["truncation"];
    o.truncation.strategy = encore::truncation_from_name(t.at("strategy").get<std::string>());
    o.truncation.max_length = t.at("max_length").get<size_t>();
    o.truncation.stride = t.value("stride", 0);
    o.truncation.side = t.value("side", "right") == "left" ? encore::TruncationSide::Left : encore::TruncationSide::Right;
    o.return_overflowing = true;
  }
  if (c.contains("padding")) {
    o.padding.strategy = encore::PaddingStrategy::Fixed;
    o.padding.length = c["padding"].at("length").get<size_t>();
    o.padding.side = c["padding"].value("side", "right") == "left" ? encore::PaddingSide::Left : encore::PaddingSide::Right;
  }
  return o;
}

void check_goldens(const Tokenizer& tok, const std::filesystem::path& golden) {
  std::ifstream in(golden);
  ASSERT_TRUE(in) << golden;
  size_t cases = 0, same = 0;
  for (std::string line; std::getline(in, line);) {
    const json g = json::parse(line);
    const json& c = g.at("case");
    const json& x = g.at("expected");
    ++cases;
    SCOPED_TRACE(c.dump().substr(0, 300));
    const std::string a = c.at("a").get<std::string>();
    const EncodeOptions o = options_of(c);
    if (x.contains("error")) {
      EXPECT_THROW(c.contains("b") ? tok.encode_pair(a, c["b"].get<std::string>(), o) : tok.encode(a, o), encore::Error);
      ++same;
      continue;
    }
    const Encoding e = c.contains("b") ? tok.encode_pair(a, c["b"].get<std::string>(), o) : tok.encode(a, o);
    std::string d = diff(e, x);
    if (e.overflowing.size() != x.at("overflow").size()) {
      d += "overflowing windows: " + std::to_string(e.overflowing.size()) + " != " + std::to_string(x["overflow"].size()) + "\n";
    } else {
      for (size_t i = 0; i < e.overflowing.size(); ++i) d += diff(e.overflowing[i], x["overflow"][i]);
    }
    encore::DecodeOptions keep;
    keep.skip_special_tokens = false;
    if (tok.decode(e.ids) != x.at("decoded").get<std::string>()) d += "decoded: " + tok.decode(e.ids) + "\n";
    if (tok.decode(e.ids, keep) != x.at("decoded_keep").get<std::string>()) d += "decoded_keep: " + tok.decode(e.ids, keep) + "\n";
    EXPECT_EQ(d, "");
    same += d.empty();
  }
  EXPECT_GT(cases, 150u);
  EXPECT_EQ(same, cases);
}

class ModelGoldens : public ::testing::TestWithParam<const char*> {};

TEST_P(ModelGoldens, IdenticalToTokenizers) {
  const auto dir = kDir / GetParam();
  check_goldens(Tokenizer::from_dir(dir), dir / "golden.jsonl");
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, ModelGoldens,
                         ::testing::Values("roberta-base", "xlm-roberta-base", "albert-base-v2", "modernbert-base",
                                           "wordlevel"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

// roberta-base's file has merges as "a b" strings; tokenizers 0.20 on writes [a, b] pairs.
// Both must give the same tokenizer.
TEST(TokenizerModels, BothMergeFormats) {
  std::ifstream in(kDir / "roberta-base" / "tokenizer.json");
  json tj = json::parse(in);
  json pairs = json::array();
  for (const auto& m : tj["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  tj["model"]["merges"] = pairs;
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("encore_merges_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(tmp);
  std::ofstream(tmp / "tokenizer.json") << tj.dump();
  for (const char* f : {"tokenizer_config.json", "special_tokens_map.json"})
    std::filesystem::copy_file(kDir / "roberta-base" / f, tmp / f);
  const Tokenizer tuple = Tokenizer::from_dir(tmp);
  std::filesystem::remove_all(tmp);
  check_goldens(tuple, kDir / "roberta-base" / "golden.jsonl");
}

// The Whitespace pre-tokenizer's \w is the regex crate's (Unicode 16 Alphabetic): circled
// letters (So, Other_Alphabetic), U+1C89/U+1C8A and U+0897 (new in Unicode 16) are word
// characters. Offsets from tokenizers 0.22.2 on the same file.
TEST(TokenizerModels, WhitespaceWordCharacters) {
  std::ifstream in(kDir / "wordlevel" / "tokenizer.json");
  json tj = json::parse(in);
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {{"type", "Whitespace"}};
  encore::testing::TempDir tmp;
  std::ofstream(tmp.path / "tokenizer.json") << tj.dump();
  const Tokenizer t = Tokenizer::from_dir(tmp.path);
  EncodeOptions o;
  o.add_special_tokens = false;
  const Encoding e = t.encode("a\u24B6b \u1C89\u1C8A! x\u0897y", o);
  const std::vector<std::pair<size_t, size_t>> want = {{0, 3}, {4, 6}, {6, 7}, {8, 11}};
  EXPECT_EQ(e.char_offsets, want);
}

// UnicodeScripts: splits where the script changes; ' ' and unassigned code points join the
// piece before them, leading ones are dropped; Hiragana and Katakana are Han. Offsets from
// tokenizers 0.22.2 on the same file.
TEST(TokenizerModels, UnicodeScripts) {
  std::ifstream in(kDir / "wordlevel" / "tokenizer.json");
  json tj = json::parse(in);
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  encore::testing::TempDir tmp;
  std::ofstream(tmp.path / "tokenizer.json") << tj.dump();
  const Tokenizer t = Tokenizer::from_dir(tmp.path);
  EncodeOptions o;
  o.add_special_tokens = false;
  using Offsets = std::vector<std::pair<size_t, size_t>>;
  const std::vector<std::pair<std::string, Offsets>> cases = {
      {" a", {{1, 2}}},
      {"  ", {}},
      {"ab 12 cd", {{0, 3}, {3, 6}, {6, 8}}},
      {"Hello\u4E16\u754C\u3053\u3093\u30AB\u30FC123 abc", {{0, 5}, {5, 11}, {11, 15}, {15, 18}}},
      {"\u041F\u0440\u0438 \u043C\u0438\u0440 hello", {{0, 8}, {8, 13}}},
      {"x\u0301y", {{0, 1}, {1, 2}, {2, 3}}},
      {"\u0627\u0644\u0639 \u05E9\u05DC\u05D5\u05DD \u0E2A\u0E27\u0E31\u0E2A\u0E14\u0E35\U0001F600!",
       {{0, 4}, {4, 9}, {9, 15}, {15, 17}}},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(t.encode(text, o).char_offsets, want) << text;
}

// Digits: char::is_numeric of Rust's Unicode 16, so the digits of scripts new there (Garay
// U+10D40.., Kirat Rai U+16D70..) are digits. Offsets from tokenizers 0.22.2.
TEST(TokenizerModels, DigitsOfUnicode16) {
  std::ifstream in(kDir / "wordlevel" / "tokenizer.json");
  json tj = json::parse(in);
  tj["normalizer"] = nullptr;
  EncodeOptions o;
  o.add_special_tokens = false;
  using Offsets = std::vector<std::pair<size_t, size_t>>;
  const std::string text = "x\U00010D40\U00010D41y\U00016D70 7";
  for (const bool individual : {true, false}) {
    tj["pre_tokenizer"] = {{"type", "Digits"}, {"individual_digits", individual}};
    encore::testing::TempDir tmp;
    std::ofstream(tmp.path / "tokenizer.json") << tj.dump();
    const Offsets want = individual ? Offsets{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}}
                                    : Offsets{{0, 1}, {1, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}};
    EXPECT_EQ(Tokenizer::from_dir(tmp.path).encode(text, o).char_offsets, want) << individual;
  }
}

// A malformed added_tokens_decoder key in tokenizer_config.json is one encore::Error naming it
// (it once escaped as std::invalid_argument from std::stoi).
TEST(TokenizerModels, BadAddedTokenIdIsAnError) {
  encore::testing::TempDir tmp;
  std::filesystem::copy_file(kDir / "minilm" / "vocab.txt", tmp.path / "vocab.txt");
  for (const char* key : {"abc", "99999999999", "-1", "7x"}) {
    std::ofstream(tmp.path / "tokenizer_config.json", std::ios::trunc)
        << json{{"added_tokens_decoder", {{key, {{"content", "[X]"}}}}}}.dump();
    try {
      (void)Tokenizer::from_dir(tmp.path, encore::TokenizerFlavour::HfSlow);
      ADD_FAILURE() << key << ": loaded";
    } catch (const encore::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + key + "' is not a token id"), std::string::npos)
          << e.what();
    }
  }
}

TEST(TokenizerModels, NamesAndPrefixes) {
  const Tokenizer roberta = Tokenizer::from_dir(kDir / "roberta-base");
  EXPECT_EQ(roberta.config().cls_token, "<s>");
  EXPECT_EQ(roberta.config().sep_token, "</s>");
  EXPECT_EQ(roberta.config().mask_token, "<mask>");
  EXPECT_EQ(roberta.num_special_tokens_to_add(true), 4u);
  EXPECT_EQ(roberta.continuing_subword_prefix(), std::optional<std::string>(""));
  const Tokenizer xlmr = Tokenizer::from_dir(kDir / "xlm-roberta-base");
  EXPECT_EQ(xlmr.config().unk_token, "<unk>");
  EXPECT_EQ(xlmr.continuing_subword_prefix(), std::nullopt);
  // sentence-transformers' do_lower_case on a tokenizer without a lowercasing normalizer.
  const Tokenizer lower = Tokenizer::from_dir(kDir / "xlm-roberta-base", std::nullopt,
                                              [](encore::TokenizerConfig& c) { c.lowercase_input(); });
  EXPECT_EQ(lower.encode("HELLO World").ids, xlmr.encode("hello world").ids);
}

}  // namespace

namespace {

// A directory with only the SentencePiece model and tokenizer_config.json is read as
// transformers' slow-to-fast converter reads it: the goldens (of the converter's own
// tokenizer.json) must hold.
class SentencePieceAlone : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SentencePieceAlone, EqualsTheConvertersTokenizerJson) {
  const auto [name, model] = GetParam();
  const auto src = kDir / name;
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("encore_spm_" + std::string(name) + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(tmp);
  for (const char* f : {model, "tokenizer_config.json", "special_tokens_map.json"})
    std::filesystem::copy_file(src / f, tmp / f, std::filesystem::copy_options::overwrite_existing);
  const Tokenizer tok = Tokenizer::from_dir(tmp);
  std::filesystem::remove_all(tmp);
  check_goldens(tok, src / "golden.jsonl");
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, SentencePieceAlone,
                         ::testing::Values(std::pair{"xlm-roberta-base", "sentencepiece.bpe.model"},
                                           std::pair{"albert-base-v2", "spiece.model"}),
                         [](const auto& info) {
                           std::string s = info.param.first;
                           for (auto& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
