// encore tokenize / encore detokenize: text lines <-> JSON lines of ids.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "encore/error.h"
#include "encore/tokenizer.h"
#include "io_util.h"

namespace {

using encore::cli::Args;
using encore::cli::UsageError;

const char* kTokenizeUsage = R"(usage: encore tokenize --model DIR [options] [TEXT ... | --input FILE]

Tokenizes each TEXT argument, or each line of FILE ('-': stdin; stdin without either), and
writes one JSON object per input:
  {"input_ids":[...],"token_type_ids":[...],"attention_mask":[...]}

options:
  --model DIR           model directory: tokenizer.json, or vocab.txt (+ tokenizer_config.json)
  --flavour F           hf (tokenizers, tokenizer.json), hf-slow (transformers BertTokenizer)
                        or google (tokenization.py); default hf when tokenizer.json exists
  --input FILE          one input per line ('-': stdin)
  --jsonl               every input is a JSON object: {"text": ...}, with --pair
                        {"text": ..., "text_pair": ...} (the names of transformers' tokenizers)
  --pair                inputs are TEXT<TAB>TEXT_PAIR pairs (a line without a TAB is an error)
  --max-length N        truncate to N tokens, special tokens included
  --truncation S        longest_first (default with --max-length), only_first, only_second,
                        none (also drops the truncation tokenizer.json sets)
  --stride N            with --max-length: also print the overflowing windows (hf)
  --no-special-tokens   no [CLS]/[SEP]
  --pad-to N            pad every input to N tokens (no padding otherwise)
  --offsets             add "offsets": [start,end) in Unicode code points (as Python reports)
  --byte-offsets        add "offsets" in bytes of the UTF-8 line instead
  --details             add "tokens", "special_tokens_mask" and "word_ids"

Without --max-length the truncation is the tokenizers library's: tokenizer.json's
"truncation" section (all-MiniLM-L6-v2: 128 tokens), else none. `encore embed` truncates as
sentence-transformers does instead, to max_seq_length of sentence_bert_config.json
(all-MiniLM-L6-v2: 256); --max-length 256 shows what embed sees there.

An input that cannot be encoded (invalid UTF-8, a pair without a TAB, invalid JSON, ...) is
reported on stderr with its line (or argument) number; the others are still written (an
empty line stands for the failed one) and the exit status is 1.

example:
  printf 'Hello, world!\tSecond text\n' | encore tokenize --model models/all-MiniLM-L6-v2 --pair --offsets
  encore tokenize --model tests/fixtures/tokenizer/minilm --details "Hello, world!"
)";

const char* kDetokenizeUsage = R"(usage: encore detokenize --model DIR [options] [IDS ... | --input FILE]

Decodes each IDS argument, or each line of FILE ('-': stdin; stdin without either), and
prints one text per input. Every input is JSON: an object with "input_ids" (as encore
tokenize writes it) or a plain array of ids; there is no --jsonl, the input always is.
An input that cannot be decoded is reported on stderr with its line (or argument) number,
an empty line stands for it, and the exit status is 1.

options:
  --model DIR             model directory (as for encore tokenize)
  --input FILE            one input per line ('-': stdin)
  --flavour F             hf, hf-slow or google
  --keep-special-tokens   keep [CLS], [SEP], [PAD], ...
  --no-cleanup            no clean_up_tokenization_spaces (" ." -> "." and friends)

example:
  echo '[101, 7592, 1010, 2088, 999, 102]' | encore detokenize --model models/all-MiniLM-L6-v2
  encore detokenize --model tests/fixtures/tokenizer/minilm '{"input_ids": [101, 7592, 102]}'
)";

void append_ints(std::string& out, const std::vector<int32_t>& v, bool null_negative = false) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    if (null_negative && v[i] < 0)
      out += "null";
    else
      out += std::to_string(v[i]);
  }
  out += ']';
}

struct OutputOptions {
  int offsets = 0;  // 0 none, 1 chars, 2 bytes
  bool details = false;
};

void append_encoding(std::string& out, const encore::Encoding& e, const OutputOptions& o) {
  out += "{\"input_ids\":";
  append_ints(out, e.ids);
  out += ",\"token_type_ids\":";
  append_ints(out, e.type_ids);
  out += ",\"attention_mask\":";
  append_ints(out, e.attention_mask);
  if (o.offsets) {
    const auto& offs = o.offsets == 1 ? e.char_offsets : e.offsets;
    out += ",\"offsets\":[";
    for (size_t i = 0; i < offs.size(); ++i) {
      if (i) out += ',';
      out += '[' + std::to_string(offs[i].first) + ',' + std::to_string(offs[i].second) + ']';
    }
    out += ']';
  }
  if (o.details) {
    out += ",\"tokens\":";
    out += nlohmann::json(e.tokens).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += ",\"special_tokens_mask\":";
    append_ints(out, e.special_tokens_mask);
    out += ",\"word_ids\":";
    append_ints(out, e.word_ids, true);
  }
  if (!e.overflowing.empty()) {
    out += ",\"overflowing\":[";
    for (size_t i = 0; i < e.overflowing.size(); ++i) {
      if (i) out += ',';
      append_encoding(out, e.overflowing[i], o);
    }
    out += ']';
  }
  out += '}';
}

std::optional<encore::TokenizerFlavour> flavour_of(const Args& args) {
  if (auto f = args.get("flavour")) {
    try {
      return encore::flavour_from_name(*f);
    } catch (const encore::Error& e) {
      throw UsageError{e.what()};
    }
  }
  return std::nullopt;
}

// Calls fn(inputs) on the inputs in blocks: a large file is never held whole, and a block
// is encoded in parallel.
template <class Fn>
void for_each_block(encore::cli::InputSource& source, Fn&& fn) {
  for (auto block = source.next(2048); !block.empty(); block = source.next(2048)) fn(block);
}

int run_tokenize(const std::vector<std::string>& argv) {
  Args args(argv, {"model", "input", "flavour", "max-length", "truncation", "stride", "pad-to"},
            {"pair", "no-special-tokens", "offsets", "byte-offsets", "details", "jsonl"});
  const auto tokenizer = encore::Tokenizer::from_dir(args.require("model"), flavour_of(args));
  encore::EncodeOptions options = tokenizer.config().defaults;
  options.padding = {};
  options.add_special_tokens = !args.has("no-special-tokens");
  if (args.has("max-length")) {
    int n = args.get_int("max-length", 0);
    if (n < 0) throw UsageError{"--max-length must be >= 0"};
    options.truncation.max_length = static_cast<size_t>(n);
    if (options.truncation.strategy == encore::TruncationStrategy::None)
      options.truncation.strategy = encore::TruncationStrategy::LongestFirst;
  }
  if (auto t = args.get("truncation")) {
    try {
      options.truncation.strategy = encore::truncation_from_name(*t);
    } catch (const encore::Error& e) {
      throw UsageError{e.what()};
    }
    if (!args.has("max-length") && tokenizer.config().defaults.truncation.strategy ==
                                       encore::TruncationStrategy::None)
      options.truncation.max_length = tokenizer.config().model_max_length;
  }
  if (args.has("stride")) {
    int s = args.get_int("stride", 0);
    if (s < 0) throw UsageError{"--stride must be >= 0"};
    options.truncation.stride = static_cast<size_t>(s);
    options.return_overflowing = true;
  }
  if (args.has("pad-to")) {
    int n = args.get_int("pad-to", 0);
    if (n < 0) throw UsageError{"--pad-to must be >= 0"};
    options.padding.strategy = encore::PaddingStrategy::Fixed;
    options.padding.length = static_cast<size_t>(n);
  }
  OutputOptions out_opts;
  out_opts.offsets = args.has("byte-offsets") ? 2 : args.has("offsets") ? 1 : 0;
  out_opts.details = args.has("details");
  const auto shape = args.has("pair") ? encore::cli::InputShape::TextPair : encore::cli::InputShape::Text;
  const bool jsonl = args.has("jsonl");

  encore::cli::InputSource source(args);
  size_t done = 0;
  size_t failed = 0;
  std::string out;
  for_each_block(source, [&](const std::vector<std::string>& lines) {
    const auto n = static_cast<int64_t>(lines.size());
    std::vector<std::string> rendered(lines.size());
    std::vector<std::string> errors(lines.size());
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; ++i) {
      const encore::cli::Input in = encore::cli::parse_input(lines[static_cast<size_t>(i)], shape, jsonl);
      try {
        if (!in.error.empty()) encore::fail(in.error);
        const encore::Encoding e = in.fields.size() == 2 ? tokenizer.encode_pair(in.fields[0], in.fields[1], options)
                                                         : tokenizer.encode(in.fields[0], options);
        append_encoding(rendered[static_cast<size_t>(i)], e, out_opts);
      } catch (const std::exception& ex) {
        errors[static_cast<size_t>(i)] = ex.what();
      }
    }
    out.clear();
    for (size_t i = 0; i < lines.size(); ++i, ++done) {
      if (!errors[i].empty()) {
        std::fflush(stdout);
        std::fprintf(stderr, "encore tokenize: %s: %s\n",
                     encore::cli::input_name(source.from_arguments(), done).c_str(), errors[i].c_str());
        ++failed;
      }
      out += rendered[i];
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
  std::fflush(stdout);
  if (failed) {
    std::fprintf(stderr, "encore tokenize: %zu of %zu inputs failed\n", failed, done);
    return 1;
  }
  return 0;
}

int run_detokenize(const std::vector<std::string>& argv) {
  Args args(argv, {"model", "input", "flavour"}, {"keep-special-tokens", "no-cleanup"});
  const auto tokenizer = encore::Tokenizer::from_dir(args.require("model"), flavour_of(args));
  encore::DecodeOptions options;
  options.skip_special_tokens = !args.has("keep-special-tokens");
  if (args.has("no-cleanup")) options.clean_up_tokenization_spaces = false;
  encore::cli::InputSource source(args);
  size_t done = 0, failed = 0;
  for_each_block(source, [&](const std::vector<std::string>& lines) {
    for (const auto& line : lines) {
      const size_t index = done++;
      try {
        auto j = nlohmann::json::parse(line);
        const auto& ids = j.is_object() ? j.at("input_ids") : j;
        if (!ids.is_array()) encore::fail("expected an array of ids or an object with input_ids");
        std::vector<int32_t> v;
        for (const auto& x : ids) {
          if (!x.is_number_integer()) encore::fail("ids must be integers, got ", x.dump());
          v.push_back(x.get<int32_t>());
        }
        std::string text = tokenizer.decode(v, options);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
      } catch (const std::exception& ex) {
        std::fputc('\n', stdout);
        std::fflush(stdout);
        std::fprintf(stderr, "encore detokenize: %s: %s\n",
                     encore::cli::input_name(source.from_arguments(), index).c_str(), ex.what());
        ++failed;
      }
    }
  });
  std::fflush(stdout);
  if (failed) {
    std::fprintf(stderr, "encore detokenize: %zu of %zu inputs failed\n", failed, done);
    return 1;
  }
  return 0;
}

const bool registered_tokenize = encore::cli::register_command(
    {"tokenize", "text lines -> JSON lines of token ids (WordPiece)", kTokenizeUsage, &run_tokenize});
const bool registered_detokenize = encore::cli::register_command(
    {"detokenize", "JSON lines of token ids -> text", kDetokenizeUsage, &run_detokenize});

}  // namespace
