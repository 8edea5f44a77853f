// Errors the HTTP API returns, with TEI's error types and status codes
// (text-embeddings-inference router/src/http/server.rs, `impl From<&ErrorType> for StatusCode`):
// unhealthy 503, backend 424, overloaded 429, validation 413, tokenizer 422, empty 400.
// encore adds 422 "validation" for a body that is not the expected JSON (TEI's framework
// answers those 422 as well, in plain text), 401, 404, 405 and a 503 "timeout".
#pragma once

#include <string>

namespace encore::serve {

enum class ErrorType { Unhealthy, Backend, Overloaded, Validation, Tokenizer, Empty, Unauthorized, NotFound, Timeout };

const char* error_type_name(ErrorType type);  // the JSON spelling: "validation", ...

struct ApiError {
  int status = 500;
  ErrorType type = ErrorType::Backend;
  std::string message;

  // TEI's shapes: {"error": ..., "error_type": ...}; /v1/embeddings: {"message", "code", "type"}.
  std::string tei_json() const;
  std::string openai_json() const;
};

// Thrown by request parsing and validation; the router turns it into a response.
struct ApiException {
  ApiError error;
};

ApiError invalid_body(const std::string& message);    // 422 validation: malformed JSON, wrong field type
ApiError validation(const std::string& message);      // 413 validation: too long, too many inputs
ApiError empty_input(const std::string& message);     // 400 empty
ApiError tokenizer_error(const std::string& message); // 422 tokenizer
ApiError backend_error(const std::string& message);   // 424 backend
ApiError overloaded();                                 // 429 overloaded
ApiError unhealthy(const std::string& message);       // 503 unhealthy
ApiError timed_out(const std::string& message);       // 503 timeout

[[noreturn]] void raise(ApiError error);

}  // namespace encore::serve
