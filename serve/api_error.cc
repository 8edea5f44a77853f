#include "serve/api_error.h"

#include "serve/json_text.h"

namespace encore::serve {

const char* error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::Unhealthy: return "unhealthy";
    case ErrorType::Backend: return "backend";
    case ErrorType::Overloaded: return "overloaded";
    case ErrorType::Validation: return "validation";
    case ErrorType::Tokenizer: return "tokenizer";
    case ErrorType::Empty: return "empty";
    case ErrorType::Unauthorized: return "unauthorized";
    case ErrorType::NotFound: return "not_found";
    case ErrorType::Timeout: return "timeout";
  }
  return "backend";
}

std::string ApiError::tei_json() const {
  return "{\"error\":" + json_string(message) + ",\"error_type\":\"" + error_type_name(type) + "\"}";
}

std::string ApiError::openai_json() const {
  return "{\"message\":" + json_string(message) + ",\"code\":" + std::to_string(status) + ",\"type\":\"" +
         error_type_name(type) + "\"}";
}

ApiError invalid_body(const std::string& m) { return {422, ErrorType::Validation, m}; }
ApiError validation(const std::string& m) { return {413, ErrorType::Validation, m}; }
ApiError empty_input(const std::string& m) { return {400, ErrorType::Empty, m}; }
ApiError tokenizer_error(const std::string& m) { return {422, ErrorType::Tokenizer, "tokenizer error " + m}; }
ApiError backend_error(const std::string& m) { return {424, ErrorType::Backend, "Backend error: " + m}; }
ApiError overloaded() { return {429, ErrorType::Overloaded, "Model is overloaded"}; }
ApiError unhealthy(const std::string& m) { return {503, ErrorType::Unhealthy, m}; }
ApiError timed_out(const std::string& m) { return {503, ErrorType::Timeout, m}; }

void raise(ApiError error) { throw ApiException{std::move(error)}; }

}  // namespace encore::serve
