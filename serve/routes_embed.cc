// /embed, /embed_all, /similarity and /v1/embeddings (text-embeddings-inference
// router/src/http/server.rs embed, embed_all, similarity, openai_embed).
#include <bit>
#include <cmath>

#include "serve/base64.h"
#include "serve/json_text.h"
#include "serve/service.h"

namespace encore::serve {

namespace {

// What the pooled-embedding routes answer for a ColBERT model.
constexpr const char* kColBERTRoutes =
    "Model is a ColBERT model: its vectors are per token (/embed_all, with \"is_query\" for queries) "
    "and its scores MaxSim (/rerank)";

// Each row of `rows` ([n, width]) to unit length, as l2_normalize does a vector.
void normalize_rows(std::vector<float>& rows, size_t width) {
  std::vector<float> row(width);
  for (size_t at = 0; at + width <= rows.size(); at += width) {
    std::copy(rows.begin() + static_cast<std::ptrdiff_t>(at), rows.begin() + static_cast<std::ptrdiff_t>(at + width),
              row.begin());
    l2_normalize(row);
    std::copy(row.begin(), row.end(), rows.begin() + static_cast<std::ptrdiff_t>(at));
  }
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  double acc = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) acc += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(acc);
}

size_t chars_of(const std::vector<Input>& inputs) {
  size_t n = 0;
  for (const Input& in : inputs) n += in.count_chars();
  return n;
}

}  // namespace

void Service::embed(Call& call, bool all_tokens) {
  EmbedRequest req = parse_embed_request(call.request.body);
  check_batch_size(req.inputs.size(), "inputs");
  require_embedding_model();
  if (sparse_ && all_tokens) raise(backend_error("`embed_all` is not available for SPLADE models"));
  if (sparse_ && req.normalize) raise(backend_error("`normalize` is not available for SPLADE models"));
  if (colbert_ && !all_tokens) raise(backend_error(kColBERTRoutes));
  if (!all_tokens) check_dimensions(req.dimensions);
  const bool truncate = req.truncate.value_or(options_.auto_truncate);
  std::vector<Sequence> sequences;
  sequences.reserve(req.inputs.size());
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    sequences.push_back(colbert_ ? encode_colbert_input(req.inputs[i], req.is_query, i)
                                 : encode_input(req.inputs[i], truncate, req.truncation_direction, req.prompt_name, i));
    sequences.back().all_tokens = all_tokens;
  }
  if (sparse_) {  // TEI's embed_pooled on a SPLADE model: the weights as a dense vector
    infer(call, std::move(sequences), chars_of(req.inputs), [this, dims = req.dimensions](Job& job) {
      std::string body = "[";
      for (size_t i = 0; i < job.results.size(); ++i) {
        if (i) body += ',';
        const std::vector<float> v = dense_sparse(job.results[i].sparse, dims);
        append_float_array(body, v.data(), v.size());
      }
      body += ']';
      return HttpResponse{200, std::move(body), "application/json", {}};
    });
    return;
  }
  const int64_t width = colbert_ ? colbert_->dimensions()
                        : m3_    ? m3_->colbert_dimensions()
                                 : embedder_->token_dimensions();
  if (all_tokens && width == 0)
    raise(validation("Input validation error: a StaticEmbedding model has no token embeddings for /embed_all"));
  infer(call, std::move(sequences), chars_of(req.inputs),
        [this, all_tokens, width, normalize = req.normalize, dims = req.dimensions](Job& job) {
          std::string body = "[";
          for (size_t i = 0; i < job.results.size(); ++i) {
            if (i) body += ',';
            SequenceResult& r = job.results[i];
            if (all_tokens) {  // [[token embeddings], ...] per input (sentence-transformers' token_embeddings)
              body += '[';
              const size_t n = r.tokens.size() / static_cast<size_t>(width);
              if (m3_) normalize_rows(r.tokens, static_cast<size_t>(width));  // BGEM3FlagModel's colbert_vecs
              for (size_t t = 0; t < n; ++t) {
                if (t) body += ',';
                append_float_array(body, r.tokens.data() + t * width, static_cast<size_t>(width));
              }
              body += ']';
            } else {
              const std::vector<float> v = finish_embedding(std::move(r.pooled), normalize, dims);
              append_float_array(body, v.data(), v.size());
            }
          }
          body += ']';
          return HttpResponse{200, std::move(body), "application/json", {}};
        });
}

void Service::embed_sparse(Call& call) {
  EmbedRequest req = parse_embed_request(call.request.body);
  check_batch_size(req.inputs.size(), "inputs");
  require_embedding_model();
  if (!has_sparse()) raise(backend_error("Model is not an embedding model with SPLADE pooling"));
  const bool truncate = req.truncate.value_or(options_.auto_truncate);
  std::vector<Sequence> sequences;
  sequences.reserve(req.inputs.size());
  for (size_t i = 0; i < req.inputs.size(); ++i)
    sequences.push_back(encode_input(req.inputs[i], truncate, req.truncation_direction, req.prompt_name, i));
  infer(call, std::move(sequences), chars_of(req.inputs), [](Job& job) {
    // [[{"index", "value"}, ...], ...]: the non-zero weights by index ascending (TEI's sparsify)
    std::string body = "[";
    for (size_t i = 0; i < job.results.size(); ++i) {
      if (i) body += ',';
      const SparseEmbedding& s = job.results[i].sparse;
      append_sparse(body, s.indices.data(), s.values.data(), s.indices.size());
    }
    body += ']';
    return HttpResponse{200, std::move(body), "application/json", {}};
  });
}

void Service::similarity(Call& call) {
  SimilarityRequest req = parse_similarity_request(call.request.body);
  if (req.sentences.empty()) raise(empty_input("`inputs.sentences` cannot be empty"));
  check_batch_size(req.sentences.size() + 1, "inputs.sentences");  // + 1: the source sentence, as TEI
  require_embedding_model();
  if (colbert_) raise(backend_error(kColBERTRoutes));
  const bool truncate = req.truncate.value_or(options_.auto_truncate);
  std::vector<Input> inputs;
  inputs.push_back({req.source_sentence, {}, false});
  for (std::string& s : req.sentences) inputs.push_back({std::move(s), {}, false});
  std::vector<Sequence> sequences;
  for (size_t i = 0; i < inputs.size(); ++i)
    sequences.push_back(encode_input(inputs[i], truncate, req.truncation_direction, req.prompt_name, i));
  // The model's similarity_fn_name on its embeddings as sentence-transformers' encode()
  // returns them (final Normalize module, then truncate_dim).
  if (sparse_) {  // SparseEncoder.similarity: the model's similarity_fn_name ("dot" by default)
    infer(call, std::move(sequences), chars_of(inputs), [this](Job& job) {
      std::vector<float> scores;
      for (size_t i = 1; i < job.results.size(); ++i)
        scores.push_back(sparse_->similarity(job.results[0].sparse, job.results[i].sparse));
      std::string body;
      append_float_array(body, scores.data(), scores.size());
      return HttpResponse{200, std::move(body), "application/json", {}};
    });
    return;
  }
  infer(call, std::move(sequences), chars_of(inputs), [this](Job& job) {
    for (SequenceResult& r : job.results) r.pooled = sentence_embedding(std::move(r.pooled));
    std::vector<float> scores;
    for (size_t i = 1; i < job.results.size(); ++i)
      scores.push_back(m3_ ? dot(job.results[0].pooled, job.results[i].pooled)  // normalized: the cosine
                           : embedder_->similarity(job.results[0].pooled, job.results[i].pooled));
    std::string body;
    append_float_array(body, scores.data(), scores.size());
    return HttpResponse{200, std::move(body), "application/json", {}};
  });
}

void Service::openai(Call& call) {
  OpenAIRequest req = parse_openai_request(call.request.body);
  check_batch_size(req.inputs.size(), "input");
  require_embedding_model();
  if (sparse_) raise(backend_error("`normalize` is not available for SPLADE models"));  // OpenAI's always normalizes
  if (colbert_) raise(backend_error(kColBERTRoutes));
  check_dimensions(req.dimensions);
  std::vector<Sequence> sequences;
  for (size_t i = 0; i < req.inputs.size(); ++i)
    sequences.push_back(
        encode_input(req.inputs[i], options_.auto_truncate, TruncationSide::Right, std::nullopt, i, "input"));
  infer(call, std::move(sequences), chars_of(req.inputs),
        [this, base64 = req.encoding_format == EncodingFormat::Base64, dims = req.dimensions](Job& job) {
          static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian float32");
          std::string body = "{\"object\":\"list\",\"data\":[";
          for (size_t i = 0; i < job.results.size(); ++i) {
            const std::vector<float> v = finish_embedding(std::move(job.results[i].pooled), true, dims);
            body += i ? ",{\"object\":\"embedding\",\"embedding\":" : "{\"object\":\"embedding\",\"embedding\":";
            if (base64) {
              body += '"';
              append_base64(body, v.data(), v.size() * sizeof(float));
              body += '"';
            } else {
              append_float_array(body, v.data(), v.size());
            }
            body += ",\"index\":" + std::to_string(i) + "}";
          }
          const std::string tokens = std::to_string(job.tokens);
          body += "],\"model\":" + json_string(options_.model_id) + ",\"usage\":{\"prompt_tokens\":" + tokens +
                  ",\"total_tokens\":" + tokens + "}}";
          return HttpResponse{200, std::move(body), "application/json", {}};
        });
}

}  // namespace encore::serve
