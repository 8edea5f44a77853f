// Standard base64 (RFC 4648, with padding), for OpenAI's encoding_format "base64".
#pragma once

#include <cstddef>
#include <string>

namespace encore::serve {

void append_base64(std::string& out, const void* data, size_t size);

}  // namespace encore::serve
