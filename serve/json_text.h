// Writing JSON text by hand where it is hot (embedding outputs): string literals for
// arbitrary bytes and float arrays with round-trip precision. Shared by the CLI and the
// HTTP server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace encore {

// A JSON string literal (quotes included) for arbitrary bytes: invalid UTF-8 becomes U+FFFD.
std::string json_string(const std::string& s);
// Appends v with round-trip precision (%.9g); NaN and infinities, which JSON cannot spell,
// are written as null.
void append_float(std::string& out, float v);
// Appends "[v0,v1,...]", each as append_float writes it.
void append_float_array(std::string& out, const float* v, size_t n);
// Appends a sparse vector as TEI's /embed_sparse writes one: [{"index":i,"value":v},...].
void append_sparse(std::string& out, const int32_t* indices, const float* values, size_t n);

}  // namespace encore
