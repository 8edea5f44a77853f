// Driver for tools/reference/compare_tok_models.py and tokenizer benchmarks: reads JSON
// cases, one per line, from stdin and writes every field of their encodings and decodings.
//
//   encore_tokenize_cases DIR < cases.jsonl > results.jsonl
//   case: {"a": TEXT, "b": TEXT (optional), "special": true, "truncation": {"strategy":
//          "longest_first", "max_length": N, "stride": N, "side": "right"}, "padding":
//          {"length": N, "side": "right"}}
//   result: {"ids", "types", "attention", "special", "words", "offsets" (code points),
//            "byte_offsets", "tokens", "overflow": [...], "decoded", "decoded_keep"}
//           or {"error": MESSAGE}
//   encore_tokenize_cases DIR --bench FILE [--repeat N]: encode_batch of FILE's lines on
//   one thread, prints lines/s and tokens/s.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/error.h"
#include "encore/tokenizer.h"

namespace {

using nlohmann::json;

json encoding_json(const encore::Encoding& e) {
  json o;
  o["ids"] = e.ids;
  o["types"] = e.type_ids;
  o["attention"] = e.attention_mask;
  o["special"] = e.special_tokens_mask;
  json words = json::array();
  for (int32_t w : e.word_ids) words.push_back(w < 0 ? json() : json(w));
  o["words"] = words;
  o["offsets"] = e.char_offsets;
  o["byte_offsets"] = e.offsets;
  o["tokens"] = e.tokens;
  return o;
}

int bench(const encore::Tokenizer& tok, const std::string& file, int repeat) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::string_view> views(lines.begin(), lines.end());
  encore::EncodeOptions o;
  double best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = tok.encode_batch(views, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tokens = 0;
    for (const auto& e : out) tokens += e.size();
    best = std::min(best, s);
  }
  std::printf("{\"lines\": %zu, \"tokens\": %zu, \"seconds\": %.4f}\n", lines.size(), tokens, best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: encore_tokenize_cases DIR [--bench FILE [--repeat N]] < cases.jsonl\n");
    return 2;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const encore::Tokenizer tok = encore::Tokenizer::from_dir(argv[1]);
    const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (argc >= 4 && std::string(argv[2]) == "--bench")
      return bench(tok, argv[3], argc >= 6 ? std::stoi(argv[5]) : 3);
    if (argc >= 3 && std::string(argv[2]) == "--load") {
      std::printf("{\"load_seconds\": %.4f}\n", load);
      return 0;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      json out;
      try {
        const json c = json::parse(line);
        encore::EncodeOptions o;
        o.add_special_tokens = c.value("special", true);
        if (c.contains("truncation") && !c["truncation"].is_null()) {
          const json& t = c["truncation"];
          o.truncation.strategy = encore::truncation_from_name(t.value("strategy", "longest_first"));
          o.truncation.max_length = t.value("max_length", 512);
          o.truncation.stride = t.value("stride", 0);
          o.truncation.side = t.value("side", "right") == "left" ? encore::TruncationSide::Left : encore::TruncationSide::Right;
          o.return_overflowing = true;
        }
        if (c.contains("padding") && !c["padding"].is_null()) {
          const json& p = c["padding"];
          o.padding.strategy = encore::PaddingStrategy::Fixed;
          o.padding.length = p.value("length", 0);
          o.padding.side = p.value("side", "right") == "left" ? encore::PaddingSide::Left : encore::PaddingSide::Right;
        }
        const std::string a = c.at("a").get<std::string>();
        const encore::Encoding e = c.contains("b") && !c["b"].is_null()
                                       ? tok.encode_pair(a, c["b"].get<std::string>(), o)
                                       : tok.encode(a, o);
        out = encoding_json(e);
        json overflow = json::array();
        for (const auto& w : e.overflowing) overflow.push_back(encoding_json(w));
        out["overflow"] = overflow;
        encore::DecodeOptions skip, keep;
        keep.skip_special_tokens = false;
        out["decoded"] = tok.decode(e.ids, skip);
        out["decoded_keep"] = tok.decode(e.ids, keep);
      } catch (const std::exception& ex) {
        out = json{{"error", ex.what()}};
      }
      std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    }
  } catch (const encore::Error& e) {
    std::fprintf(stderr, "encore_tokenize_cases: %s\n", e.what());
    return 1;
  }
  return 0;
}
