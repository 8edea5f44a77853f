#include "encore/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/readers.h"

namespace encore {

namespace {

constexpr uint64_t kMaxHeader = 100ull << 20;  // the reference reader's limit (100 MB)

}  // namespace

TensorFile read_safetensors(const std::string& path) { return io::read_safetensors_bytes(path, io::map_file(path)); }

namespace io {

TensorFile read_safetensors_bytes(const std::string& path, const Bytes& map) {
  const unsigned char* bytes = map.data;
  ENCORE_CHECK(map.size >= 8, path, ": truncated safetensors file (", map.size, " bytes, no header)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  ENCORE_CHECK(header_len <= kMaxHeader, path, ": safetensors header length ", header_len,
               " is too large (limit 100 MB): not a safetensors file?");
  ENCORE_CHECK(header_len <= map.size - 8, path, ": safetensors header length ", header_len,
               " exceeds the file size ", map.size);
  const char* header = reinterpret_cast<const char*>(bytes + 8);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header, header + header_len);
  } catch (const std::exception& e) {
    fail(path, ": safetensors header is not valid JSON: ", e.what());
  }
  ENCORE_CHECK(j.is_object(), path, ": safetensors header is not a JSON object");

  const unsigned char* data = bytes + 8 + header_len;
  const uint64_t data_len = map.size - 8 - header_len;
  const std::shared_ptr<const void>& owner = map.owner;

  TensorFile out;
  out.path = path;
  struct Span { uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& e = it.value();
    if (name == "__metadata__") {
      ENCORE_CHECK(e.is_object(), path, ": __metadata__ is not an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        ENCORE_CHECK(m.value().is_string(), path, ": __metadata__ value for '", m.key(), "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    ENCORE_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"),
                 path, ": tensor '", name, "': header entry needs dtype, shape and data_offsets");
    ENCORE_CHECK(e["dtype"].is_string(), path, ": tensor '", name, "': dtype is not a string");
    DType dtype;
    try {
      dtype = dtype_from_name(e["dtype"].get<std::string>());
    } catch (const Error& err) {
      fail(path, ": tensor '", name, "': ", err.what());
    }
    const auto& jshape = e["shape"];
    ENCORE_CHECK(jshape.is_array() && jshape.size() <= 8, path, ": tensor '", name, "': bad shape");
    Shape shape;
    uint64_t numel = 1;
    for (const auto& d : jshape) {
      ENCORE_CHECK(d.is_number_unsigned(), path, ": tensor '", name, "': shape entries must be non-negative integers");
      uint64_t v = d.get<uint64_t>();
      ENCORE_CHECK(v <= data_len && (v == 0 || numel <= data_len / v), path, ": tensor '", name,
                   "': shape is larger than the file");
      numel *= v;
      shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = e["data_offsets"];
    ENCORE_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(),
                 path, ": tensor '", name, "': data_offsets must be two non-negative integers");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    ENCORE_CHECK(begin <= end && end <= data_len, path, ": tensor '", name, "': data_offsets [", begin, ", ",
                 end, "] lie outside the data section (", data_len, " bytes)");
    ENCORE_CHECK(end - begin == numel * dtype_size(dtype), path, ": tensor '", name, "': data_offsets span ",
                 end - begin, " bytes but ", dtype_name(dtype), " ", shape_string(shape), " needs ",
                 numel * dtype_size(dtype));
    spans.push_back({begin, end, name});
    const unsigned char* p = data + begin;
    Tensor t = Tensor::view(dtype, shape, p, owner);
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(dtype) != 0) t = t.clone();  // keep loads aligned
    out.tensors[name] = std::move(t);
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    ENCORE_CHECK(spans[i].begin >= spans[i - 1].end || spans[i].begin == spans[i].end ||
                     spans[i - 1].begin == spans[i - 1].end,
                 path, ": tensors '", spans[i - 1].name, "' and '", spans[i].name, "' overlap");
  }
  return out;
}

}  // namespace io

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  ENCORE_CHECK(f.good(), path, ": cannot open for writing");
  uint64_t n = h.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  f.write(reinterpret_cast<const char*>(len), 8);
  f.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors)
    f.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  ENCORE_CHECK(f.good(), path, ": write failed");
}

}  // namespace encore
