// Sentence embeddings: tokenize (sentence-transformers' Transformer module: truncation
// longest_first to max_seq_length), encode the ragged batch, pool, normalize.
// Pooling formulas follow sentence_transformers/models/Pooling.py; without padding in the
// ragged batch, its attention-mask weighting reduces to sums over the real tokens.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "encore/embedder.h"

namespace encore {

namespace fs = std::filesystem;
using nlohmann::json;

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Cls: return "cls";
    case Pooling::Max: return "max";
    case Pooling::Mean: return "mean";
    case Pooling::MeanSqrtLen: return "mean_sqrt_len_tokens";
    case Pooling::WeightedMean: return "weightedmean";
    case Pooling::LastToken: return "lasttoken";
  }
  return "?";
}

Pooling pooling_from_name(const std::string& name) {
  for (Pooling p : {Pooling::Cls, Pooling::Max, Pooling::Mean, Pooling::MeanSqrtLen, Pooling::WeightedMean,
                    Pooling::LastToken})
    if (name == pooling_name(p)) return p;
  fail("unknown pooling mode '", name, "' (cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken)");
}

struct Embedder::Impl {
  Model model;
  Tokenizer tokenizer;
  std::vector<Pooling> pooling;
  bool normalize = false;
  bool lowercase = false;  // sentence_bert_config.json do_lower_case
  int max_length = 0;
  int dimensions = 0;
  int batch_size = 64;
  int threads = 0;
  Impl(Model m, Tokenizer t) : model(std::move(m)), tokenizer(std::move(t)) {}
};

namespace {

json read_json_file(const fs::path& p) {
  std::ifstream f(p);
  ENCORE_CHECK(f.good(), p.string(), ": cannot open");
  try {
    return json::parse(f);
  } catch (const std::exception& e) {
    fail(p.string(), ": invalid JSON: ", e.what());
  }
}

// Pooling modules and Normalize from modules.json; defaults for a bare HF directory.
void read_sentence_transformers(const fs::path& dir, Embedder::Impl& m) {
  m.pooling = {Pooling::Mean};
  m.normalize = false;
  const fs::path modules = dir / "modules.json";
  if (!fs::exists(modules)) return;
  json mods = read_json_file(modules);
  ENCORE_CHECK(mods.is_array(), modules.string(), ": expected a list of modules");
  for (const auto& mod : mods) {
    const std::string type = mod.value("type", "");
    const std::string path = mod.value("path", "");
    if (type.find("Normalize") != std::string::npos) m.normalize = true;
    if (type.find("Pooling") == std::string::npos) continue;
    const fs::path cfg = dir / path / "config.json";
    json p = read_json_file(cfg);
    // sentence-transformers concatenates enabled modes in this order (Pooling.forward).
    const std::pair<const char*, Pooling> keys[] = {{"pooling_mode_cls_token", Pooling::Cls},
                                                    {"pooling_mode_max_tokens", Pooling::Max},
                                                    {"pooling_mode_mean_tokens", Pooling::Mean},
                                                    {"pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen},
                                                    {"pooling_mode_weightedmean_tokens", Pooling::WeightedMean},
                                                    {"pooling_mode_lasttoken", Pooling::LastToken}};
    m.pooling.clear();
    for (const auto& [key, mode] : keys)
      if (p.value(key, false)) m.pooling.push_back(mode);
    ENCORE_CHECK(!m.pooling.empty(), cfg.string(), ": no pooling mode is enabled");
  }
  const fs::path sbert = dir / "sentence_bert_config.json";
  if (fs::exists(sbert)) {
    json s = read_json_file(sbert);
    if (s.contains("max_seq_length") && s["max_seq_length"].is_number_integer())
      m.max_length = s["max_seq_length"].get<int>();
    m.lowercase = s.value("do_lower_case", false);
  }
}

void pool_into(float* out, const float* x, int64_t n, int64_t H, Pooling mode) {
  switch (mode) {
    case Pooling::Cls:
      std::copy(x, x + H, out);
      break;
    case Pooling::LastToken:
      std::copy(x + (n - 1) * H, x + n * H, out);
      break;
    case Pooling::Max:
      std::copy(x, x + H, out);
      for (int64_t t = 1; t < n; ++t)
        for (int64_t k = 0; k < H; ++k) out[k] = std::max(out[k], x[t * H + k]);
      break;
    case Pooling::Mean:
    case Pooling::MeanSqrtLen: {
      std::fill(out, out + H, 0.0f);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t k = 0; k < H; ++k) out[k] += x[t * H + k];
      const float d = mode == Pooling::Mean ? static_cast<float>(n) : std::sqrt(static_cast<float>(n));
      for (int64_t k = 0; k < H; ++k) out[k] /= d;
      break;
    }
    case Pooling::WeightedMean: {  // weights 1..n by position
      std::fill(out, out + H, 0.0f);
      float wsum = 0.0f;
      for (int64_t t = 0; t < n; ++t) {
        const float w = static_cast<float>(t + 1);
        wsum += w;
        for (int64_t k = 0; k < H; ++k) out[k] += x[t * H + k] * w;
      }
      for (int64_t k = 0; k < H; ++k) out[k] /= wsum;
      break;
    }
  }
}

// Python's str.lower() with simple case mappings (utf8proc), for do_lower_case.
std::string lowercase_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t at = 0, n = static_cast<utf8proc_ssize_t>(s.size());
  while (at < n) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(p + at, n - at, &cp);
    ENCORE_CHECK(len > 0, "invalid UTF-8 at byte ", at);
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t w = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(w));
    at += len;
  }
  return out;
}

}  // namespace

void l2_normalize(std::vector<float>& v) {  // torch.nn.functional.normalize: x / max(||x||, 1e-12)
  double sq = 0.0;
  for (float f : v) sq += static_cast<double>(f) * f;
  const float norm = std::max(static_cast<float>(std::sqrt(sq)), 1e-12f);
  for (float& f : v) f /= norm;
}

Embedder Embedder::load(const std::string& dir, const EmbedderOptions& o) {
  LoadOptions lo;
  lo.dtype = o.dtype;
  auto impl = std::make_shared<Impl>(Model::load(dir, lo), Tokenizer::from_dir(dir));
  read_sentence_transformers(dir, *impl);
  if (o.pooling) impl->pooling = {pooling_from_name(*o.pooling)};
  if (o.normalize) impl->normalize = *o.normalize;
  const int model_limit = static_cast<int>(impl->model.config().max_positions);
  if (o.max_length > 0) impl->max_length = o.max_length;
  if (impl->max_length <= 0) impl->max_length = std::min<int>(model_limit, static_cast<int>(impl->tokenizer.config().model_max_length));
  ENCORE_CHECK(impl->max_length <= model_limit, "max length ", impl->max_length,
               " exceeds the model's max_position_embeddings ", model_limit);
  ENCORE_CHECK(impl->max_length >= 2, "max length ", impl->max_length, " leaves no room for text");
  const int64_t full = impl->model.config().hidden * static_cast<int64_t>(impl->pooling.size());
  ENCORE_CHECK(o.dimensions >= 0 && o.dimensions <= full, "dimensions ", o.dimensions, " must be within 1..", full);
  impl->dimensions = o.dimensions;
  impl->batch_size = std::max(1, o.batch_size);
  impl->threads = o.threads;
  Embedder e;
  e.impl_ = std::move(impl);
  return e;
}

Encoding Embedder::encode_text(std::string_view text, bool truncate, TruncationSide side) const {
  const Impl& m = *impl_;
  EncodeOptions enc;
  enc.truncation.strategy = truncate ? TruncationStrategy::LongestFirst : TruncationStrategy::None;
  enc.truncation.max_length = static_cast<size_t>(m.max_length);
  enc.truncation.side = side;
  if (!m.lowercase) return m.tokenizer.encode(text, enc);
  return m.tokenizer.encode(lowercase_utf8(std::string(text)), enc);
}

std::vector<float> Embedder::pool(const Encoded& encoded, size_t index) const {
  const Impl& m = *impl_;
  const int64_t H = m.model.config().hidden;
  ENCORE_CHECK(index + 1 < encoded.cu.size(), "pool: sequence ", index, " is not in a batch of ",
               encoded.cu.empty() ? 0 : encoded.cu.size() - 1);
  const int64_t begin = encoded.cu[index], n = encoded.cu[index + 1] - begin;
  ENCORE_CHECK(n > 0, "pool: sequence ", index, " is empty");
  std::vector<float> v(static_cast<size_t>(H) * m.pooling.size(), 0.0f);
  for (size_t p = 0; p < m.pooling.size(); ++p)
    pool_into(v.data() + p * H, encoded.states.data<float>() + begin * H, n, H, m.pooling[p]);
  return v;
}

void Embedder::finish(std::vector<float>& v) const {
  const Impl& m = *impl_;
  if (m.normalize) l2_normalize(v);
  if (m.dimensions > 0) {
    v.resize(static_cast<size_t>(m.dimensions));
    l2_normalize(v);
  }
}

std::vector<EmbedResult> Embedder::embed(const std::vector<std::string>& texts) const {
  const Impl& m = *impl_;
  std::vector<EmbedResult> results(texts.size());
  ForwardOptions fwd;
  fwd.threads = m.threads;

  for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(m.batch_size)) {
    const size_t end = std::min(texts.size(), start + static_cast<size_t>(m.batch_size));
    TokenBatch batch;
    std::vector<size_t> which;
    for (size_t i = start; i < end; ++i) {
      try {
        Encoding e = encode_text(texts[i]);
        ENCORE_CHECK(e.size() > 0, "the text has no tokens (the tokenizer adds no special tokens)");
        results[i].truncated = e.truncated > 0;
        batch.ids.push_back(std::move(e.ids));
        batch.type_ids.push_back(std::move(e.type_ids));
        which.push_back(i);
      } catch (const Error& err) {
        results[i].error = err.what();
      }
    }
    if (which.empty()) continue;
    Encoded out = m.model.encode(batch, fwd);
    for (size_t k = 0; k < which.size(); ++k) {
      std::vector<float>& v = results[which[k]].embedding;
      v = pool(out, k);
      finish(v);
    }
  }
  return results;
}

int64_t Embedder::dimensions() const {
  return impl_->dimensions > 0 ? impl_->dimensions
                               : impl_->model.config().hidden * static_cast<int64_t>(impl_->pooling.size());
}
int Embedder::max_length() const { return impl_->max_length; }
const std::vector<Pooling>& Embedder::pooling() const { return impl_->pooling; }
bool Embedder::normalizes() const { return impl_->normalize || impl_->dimensions > 0; }
const Model& Embedder::model() const { return impl_->model; }
const Tokenizer& Embedder::tokenizer() const { return impl_->tokenizer; }

}  // namespace encore
