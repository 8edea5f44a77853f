// libFuzzer target: encore serve's request parsers (serve/request.cc) on arbitrary
// bodies. The first byte picks the route's parser; the rest is the body. An ApiException
// (a 4xx answer) is a correct outcome; a crash, sanitizer report or other exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/api_error.h"
#include "serve/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace encore::serve;
  try {
    size_t n = 0;
    switch (data[0] % 7) {
      case 0: n = parse_embed_request(body).inputs.size(); break;
      case 1: n = parse_openai_request(body).inputs.size(); break;
      case 2: n = parse_similarity_request(body).sentences.size(); break;
      case 3: n = parse_tokenize_request(body).inputs.size(); break;
      case 4: n = parse_decode_request(body).ids.size(); break;
      case 5: n = parse_predict_request(body).inputs.size(); break;
      default: n = parse_rerank_request(body).texts.size(); break;
    }
    volatile size_t sink = n;
    (void)sink;
  } catch (const ApiException& e) {
    if (e.error.status != 422) __builtin_trap();  // parsing only ever answers 422
    volatile size_t sink = e.error.tei_json().size();
    (void)sink;
  }
  return 0;
}
