// The token front end, for every architecture whose inputs are token ids: embeddings, the
// layer plan, the pooler, and outputs under the record's reference names.
//
//   emb    = LN(word[ids] + token_type[types] + position[positions]) over E, then dropout,
//            then the projection E -> H when the embeddings are factorized
//   h_i    = step i of the layer plan (EncoderLayer with its spec and weights)
//   pooled = tanh(W h_L[:, 0] + b)
//
// Masks: a 2-D mask [B,S] drops masked positions from the ragged batch (their keys would get
// exp(fill - max) == 0 in the reference); a 3-D mask [B,S,S] becomes a dense additive bias
// (1 - m) * fill, exactly transformers' get_extended_attention_mask.
#include <cmath>

#include "kernels/kernels.h"
#include "models/batch.h"
#include "models/model_impl.h"

namespace encore {

namespace {

struct PaddedInputs {
  int64_t B = 0, S = 0;
  Tensor ids, types, positions;  // I64 [B,S]; positions may be [1,S]
  Tensor mask2d;                 // I64 [B,S] 0/1
  Tensor bias3d;                 // F32 [B,S,S] additive
  Tensor head_mask;              // F32 [L, heads]
};

// Index inputs must have an integer dtype, as the references require (an embedding lookup
// with a float tensor is an error in PyTorch); they are widened to I64.
Tensor integer_input(const Tensor& t, const std::string& name) {
  const DType d = t.dtype();
  ENCORE_CHECK(d == DType::I64 || d == DType::I32 || d == DType::I16 || d == DType::I8 || d == DType::U8, name,
               " must have an integer dtype, got ", dtype_name(d));
  return t.to_i64();
}

void check_range(const Tensor& t, int64_t limit, int64_t S, const std::string& name, const char* what) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t v = t.data<int64_t>()[i];
    ENCORE_CHECK(v >= 0 && v < limit, name, "[", i / S, "][", i % S, "] = ", v, " is out of range: ", what, " ", limit);
  }
}

// RoBERTa's create_position_ids_from_input_ids (modeling_roberta.py L1537-1550): padding_idx
// + the count of non-pad ids up to and including the token; pad ids get padding_idx.
void positions_from_ids(const int64_t* ids, int64_t n, int64_t padding_idx, int64_t* positions) {
  int64_t count = 0;
  for (int64_t j = 0; j < n; ++j) positions[j] = ids[j] == padding_idx ? padding_idx : padding_idx + ++count;
}

void read_mask(const ModelConfig& c, const ForwardNames& io, const TensorMap& in, PaddedInputs& r) {
  const Shape bs{r.B, r.S};
  const std::string* name = &io.mask;
  const Tensor* mask = find_input(in, io.mask);
  if (!mask && !io.mask_alias.empty()) mask = find_input(in, io.mask_alias), name = &io.mask_alias;
  if (!mask) return;
  if (mask->dim() == 2) {
    ENCORE_CHECK(mask->shape() == bs, *name, " has shape ", shape_string(mask->shape()), ", expected ",
                 shape_string(bs));
    r.mask2d = mask->to_i64();
    for (int64_t i = 0; i < r.mask2d.numel(); ++i) {
      const int64_t v = r.mask2d.data<int64_t>()[i];
      ENCORE_CHECK(v == 0 || v == 1, *name, " values must be 0 or 1, found ", v);
    }
    return;
  }
  ENCORE_CHECK(io.mask3d && mask->dim() == 3 && mask->shape() == (Shape{r.B, r.S, r.S}), *name, " has shape ",
               shape_string(mask->shape()), ", expected ", shape_string(bs), io.mask3d ? " or [batch, seq, seq]" : "");
  const Tensor m3 = mask->to_f32();
  r.bias3d = Tensor::zeros(DType::F32, m3.shape());
  const float fill = c.layer.attention.mask_fill;  // (1.0 - mask) * torch.finfo(dtype).min
  for (int64_t i = 0; i < m3.numel(); ++i) r.bias3d.data<float>()[i] = (1.0f - m3.data<float>()[i]) * fill;
}

void read_head_mask(const ModelConfig& c, const Tensor& t, PaddedInputs& r) {
  const Tensor hm = t.to_f32();
  if (hm.dim() == 1) {  // [heads]: the same for every layer (transformers get_head_mask)
    ENCORE_CHECK(hm.size(0) == c.heads, "head_mask has shape ", shape_string(hm.shape()), ", expected [", c.heads,
                 "] or [", c.layers, ", ", c.heads, "]");
    r.head_mask = Tensor::zeros(DType::F32, {c.layers, c.heads});
    for (int64_t l = 0; l < c.layers; ++l)
      for (int64_t h = 0; h < c.heads; ++h) r.head_mask.data<float>()[l * c.heads + h] = hm.data<float>()[h];
    return;
  }
  ENCORE_CHECK(hm.shape() == (Shape{c.layers, c.heads}), "head_mask has shape ", shape_string(hm.shape()),
               ", expected [", c.heads, "] or [", c.layers, ", ", c.heads, "]");
  r.head_mask = hm;
}

PaddedInputs read_inputs(const Model::Impl& m, const TensorMap& in) {
  const ModelConfig& c = m.config;
  const ForwardNames& io = m.arch->io;
  check_known_inputs(in, io.inputs, m.arch->name.c_str());
  PaddedInputs r;
  const Tensor* ids = find_input(in, io.ids);
  ENCORE_CHECK(ids, "missing input '", io.ids, "'");
  ENCORE_CHECK(ids->dim() == 2, io.ids, " must be [batch, seq], got ", shape_string(ids->shape()));
  r.ids = integer_input(*ids, io.ids);
  r.B = ids->size(0), r.S = ids->size(1);
  const Shape bs{r.B, r.S};
  for (int64_t i = 0; i < r.ids.numel(); ++i) {
    const int64_t v = r.ids.data<int64_t>()[i];
    ENCORE_CHECK(v >= 0 && v < c.vocab_size, io.ids, "[", i / r.S, "][", i % r.S, "] = ", v,
                 " is out of the vocabulary range [0, ", c.vocab_size, ")");
  }
  ENCORE_CHECK(c.absolute_positions || r.S <= c.max_positions, "sequence length ", r.S,
               " exceeds max_position_embeddings ", c.max_positions);
  if (const Tensor* t = io.types.empty() ? nullptr : find_input(in, io.types)) {
    ENCORE_CHECK(t->shape() == bs, io.types, " has shape ", shape_string(t->shape()), ", expected ", shape_string(bs));
    r.types = integer_input(*t, io.types);
    if (c.type_vocab_size == 0)
      r.types = Tensor();  // no token type embeddings (DeBERTa-v3): the reference ignores them
    else
      check_range(r.types, c.type_vocab_size, r.S, io.types, "the model has type_vocab_size");
  }
  if (const Tensor* t = io.positions.empty() ? nullptr : find_input(in, io.positions)) {
    ENCORE_CHECK(t->shape() == bs || t->shape() == (Shape{1, r.S}), io.positions, " has shape ",
                 shape_string(t->shape()), ", expected ", shape_string(bs), " or [1, ", r.S, "]");
    r.positions = integer_input(*t, io.positions);
  } else if (c.positions_from_ids) {
    r.positions = Tensor::zeros(DType::I64, bs);
    for (int64_t b = 0; b < r.B; ++b)
      positions_from_ids(r.ids.data<int64_t>() + b * r.S, r.S, c.padding_idx, r.positions.data<int64_t>() + b * r.S);
  } else if (c.absolute_positions) {
    ENCORE_CHECK(r.S <= c.max_positions, "sequence length ", r.S, " exceeds max_position_embeddings ", c.max_positions);
  }
  if (r.positions.defined() && r.positions.numel() && c.absolute_positions) {
    for (int64_t i = 0; i < r.positions.numel(); ++i) {
      const int64_t v = r.positions.data<int64_t>()[i];
      ENCORE_CHECK(v >= 0 && v < c.max_positions, "position_ids value ", v,
                   " is out of range [0, max_position_embeddings=", c.max_positions, ")");
    }
  }
  read_mask(c, io, in, r);
  if (const Tensor* t = io.head_mask.empty() ? nullptr : find_input(in, io.head_mask)) read_head_mask(c, *t, r);
  return r;
}

// Per-token inputs of a ragged batch: vocabulary id, token type and position id.
struct TokenInputs {
  std::vector<int64_t> ids, types, positions;  // [T]
};

TokenInputs gather_tokens(const PaddedInputs& in, const nn::RaggedBatch& batch) {
  TokenInputs tok;
  const int64_t T = batch.tokens();
  tok.ids.resize(T), tok.types.assign(T, 0), tok.positions.resize(T);
  const bool has_types = in.types.defined() && in.types.numel();
  const bool has_pos = in.positions.defined() && in.positions.numel();
  for (int64_t b = 0; b < batch.size(); ++b) {
    for (int64_t t = batch.cu[b]; t < batch.cu[b + 1]; ++t) {
      const int64_t j = batch.position[t], at = b * in.S + j;
      tok.ids[t] = in.ids.data<int64_t>()[at];
      if (has_types) tok.types[t] = in.types.data<int64_t>()[at];
      tok.positions[t] = has_pos ? in.positions.data<int64_t>()[(in.positions.size(0) == 1 ? 0 : b) * in.S + j] : j;
    }
  }
  return tok;
}

// emb[t] = LN(word[id] + token_type[type] (+ position[pos])), added in the references' order,
// then the projection to the hidden size when there is one.
Tensor embed(const Model::Impl& m, const TokenInputs& tok, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const Embeddings& e = m.embeddings;
  const int64_t E = c.embedding_size, T = static_cast<int64_t>(tok.ids.size());
  Tensor x = Tensor::zeros(DType::F32, {T, E});
  float* out = x.data<float>();
  const float* word = e.word.data<float>();
  const float* type = nn::data_or_null(e.token_type);
  const float* pos = c.absolute_positions ? e.position.data<float>() : nullptr;
#pragma omp parallel for if (T * E > 65536)
  for (int64_t t = 0; t < T; ++t) {
    const float* w = word + tok.ids[t] * E;
    float* o = out + t * E;
    if (type) {
      const float* ty = type + tok.types[t] * E;
      for (int64_t k = 0; k < E; ++k) o[k] = w[k] + ty[k];
    } else {
      for (int64_t k = 0; k < E; ++k) o[k] = w[k];
    }
    if (pos) {
      const float* pe = pos + tok.positions[t] * E;
      for (int64_t k = 0; k < E; ++k) o[k] += pe[k];
    }
  }
  if (c.embedding_norm_after_projection) {  // DeBERTa-v2: LN(embed_proj(sum)) over H, then dropout
    if (e.projection.defined()) {
      Tensor y = Tensor::empty(DType::F32, {T, c.hidden});
      kernels::linear_forward(y.data<float>(), out, nn::gemm_ref(e.projection), T);
      x = y;
    }
    nn::layer_norm(x.data<float>(), x.data<float>(), e.norm, T, c.hidden, c.embedding_norm_eps);
    if (opt.train) kernels::dropout(x.data<float>(), T * c.hidden, c.embedding_dropout, opt.seed, nn::kEmbeddingSite);
    return x;
  }
  nn::layer_norm(out, out, e.norm, T, E, c.embedding_norm_eps);
  if (opt.train) kernels::dropout(out, T * E, c.embedding_dropout, opt.seed, nn::kEmbeddingSite);
  if (!e.projection.defined()) return x;
  Tensor y = Tensor::empty(DType::F32, {T, c.hidden});
  kernels::linear_forward(y.data<float>(), out, nn::gemm_ref(e.projection), T);
  return y;
}

// The row of each sequence's position 0, or -1 when it was padding.
std::vector<int64_t> first_rows(const nn::RaggedBatch& batch) {
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < batch.size(); ++b) {
    const int64_t t = batch.cu[b];
    rows.push_back(t < batch.cu[b + 1] && batch.position[t] == 0 ? t : -1);
  }
  return rows;
}

// tanh(W h[first token] + b) per sequence; a sequence whose position 0 was padding gets
// tanh(b) (its first-token state is the zero row encore defines for padding).
Tensor pool(const Model::Impl& m, const float* x, const nn::RaggedBatch& batch) {
  const int64_t H = m.config.hidden, B = batch.size();
  const std::vector<int64_t> rows = first_rows(batch);
  Tensor first = Tensor::zeros(DType::F32, {B, H});
  for (int64_t b = 0; b < B; ++b)
    if (rows[b] >= 0) std::copy(x + rows[b] * H, x + (rows[b] + 1) * H, first.data<float>() + b * H);
  // One row at a time: a GEMM's rounding may depend on its row count, and a sequence's
  // pooled output must not depend on what else is in the batch (encore serve batches
  // concurrent requests and promises each the answer it would get alone).
  Tensor pooled = Tensor::zeros(DType::F32, {B, H});
  for (int64_t b = 0; b < B; ++b)
    kernels::linear(pooled.data<float>() + b * H, first.data<float>() + b * H, m.pooler.weight.data<float>(),
                    m.pooler.bias.data<float>(), 1, H, H);
  for (int64_t i = 0; i < B * H; ++i) pooled.data<float>()[i] = std::tanh(pooled.data<float>()[i]);
  return pooled;
}

// The norm after the last layer (ModernBERT's final_norm): last_hidden_state only, the
// hidden states before it.
void apply_final_norm(const Model::Impl& m, float* x, int64_t T) {
  if (m.config.final_norm) nn::layer_norm(x, x, m.final_norm, T, m.config.hidden, m.config.layer.layer_norm_eps);
}

// Position ids of one sequence given without padding (encode): 0..n-1, or from the ids.
void sequence_positions(const ModelConfig& c, const std::vector<int32_t>& ids, size_t b, std::vector<int64_t>& out) {
  const int64_t n = static_cast<int64_t>(ids.size());
  const size_t at = out.size();
  out.resize(at + ids.size());
  if (!c.positions_from_ids) {
    ENCORE_CHECK(n <= c.max_positions, "sequence ", b, " has ", n, " tokens, more than max_position_embeddings ",
                 c.max_positions);
    for (int64_t j = 0; j < n; ++j) out[at + j] = j;
    return;
  }
  const std::vector<int64_t> wide(ids.begin(), ids.end());
  positions_from_ids(wide.data(), n, c.padding_idx, out.data() + at);
  for (int64_t j = 0; j < n; ++j)
    ENCORE_CHECK(out[at + j] < c.max_positions, "sequence ", b, " has ", n, " tokens, more than the model's ",
                 c.max_length, " (max_position_embeddings ", c.max_positions, " less padding_idx + 1)");
}

}  // namespace

nn::PositionBias shared_position_bias(const Model::Impl& m, int64_t S) {
  if (!m.relative_attention_bias.defined()) return {};
  return nn::bucket_position_bias(m.relative_attention_bias, m.config.heads, S, m.arch->position_buckets,
                                  m.arch->position_max_distance);
}

Tensor embed_sequence(const Model::Impl& m, const std::vector<int64_t>& ids) {
  TokenInputs tok;
  tok.ids = ids;
  tok.types.assign(ids.size(), 0);
  tok.positions.resize(ids.size());
  if (m.config.positions_from_ids)
    positions_from_ids(ids.data(), static_cast<int64_t>(ids.size()), m.config.padding_idx, tok.positions.data());
  else
    for (size_t j = 0; j < ids.size(); ++j) tok.positions[j] = static_cast<int64_t>(j);
  return embed(m, tok, ForwardOptions{});
}

Encoded token_encode(const Model::Impl& m, const TokenBatch& tokens, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  ENCORE_CHECK(tokens.type_ids.empty() || tokens.type_ids.size() == tokens.ids.size(), "type_ids has ",
               tokens.type_ids.size(), " sequences, ids has ", tokens.ids.size());
  nn::RaggedBatch batch;
  TokenInputs tok;
  batch.cu.push_back(0);
  for (size_t b = 0; b < tokens.ids.size(); ++b) {
    const auto& ids = tokens.ids[b];
    const int64_t n = static_cast<int64_t>(ids.size());
    sequence_positions(c, ids, b, tok.positions);
    ENCORE_CHECK(tokens.type_ids.empty() || tokens.type_ids[b].size() == ids.size(), "sequence ", b,
                 ": type_ids and ids differ in length");
    for (int64_t j = 0; j < n; ++j) {
      const int64_t id = ids[j], type = tokens.type_ids.empty() ? 0 : tokens.type_ids[b][j];
      ENCORE_CHECK(id >= 0 && id < c.vocab_size, "sequence ", b, " token ", j, ": id ", id,
                   " is out of the vocabulary range [0, ", c.vocab_size, ")");
      // A model without token type embeddings ignores them (a tokenizer gives pairs types 0 and 1).
      ENCORE_CHECK(c.type_vocab_size == 0 || type == 0 || (type > 0 && type < c.type_vocab_size), "sequence ", b,
                   " token ", j, ": token type ", type, " is out of range: the model has type_vocab_size ",
                   c.type_vocab_size);
      tok.ids.push_back(id), tok.types.push_back(type);
      batch.position.push_back(j);
    }
    batch.padded_len = std::max(batch.padded_len, n);
    batch.cu.push_back(static_cast<int64_t>(batch.position.size()));
  }
  Encoded out;
  out.cu = batch.cu;
  out.states = embed(m, tok, opt);
  nn::WorkspacePool::Lease workspace = m.workspaces.take();
  nn::RunContext run;
  run.options = &opt;
  run.workspace = workspace.get();
  nn::AttentionMask mask;
  const nn::PositionBias position_bias = shared_position_bias(m, batch.padded_len);
  mask.position_bias = position_bias.bias;
  mask.positions = tok.positions.data();
  run_plan(m, out.states.data<float>(), batch, mask, run, [](size_t, const float*) {});
  apply_final_norm(m, out.states.data<float>(), batch.tokens());
  if (c.has_pooler) out.pooled = pool(m, out.states.data<float>(), batch);
  return out;
}

TensorMap token_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const ForwardNames& io = m.arch->io;
  PaddedInputs in = read_inputs(m, inputs);
  const int64_t B = in.B, S = in.S, H = c.hidden;

  std::vector<uint8_t> keep(static_cast<size_t>(B * S), 1);
  if (in.mask2d.defined() && in.mask2d.numel())
    for (int64_t i = 0; i < B * S; ++i) keep[static_cast<size_t>(i)] = in.mask2d.data<int64_t>()[i] != 0;
  nn::AttentionMask mask;
  nn::RaggedBatch batch = ragged_from_keep(keep, B, S, &mask.all_masked);
  if (in.bias3d.defined() && in.bias3d.numel()) mask.dense = {in.bias3d.data<float>(), S * S, 0, S, 1};
  const nn::PositionBias position_bias = shared_position_bias(m, S);
  mask.position_bias = position_bias.bias;

  const TokenInputs tok = gather_tokens(in, batch);
  mask.positions = tok.positions.data();
  Tensor x = embed(m, tok, opt);
  if (c.embeddings_masked)  // embeddings * mask: a fully masked sequence (kept whole) is zeros
    for (int64_t b = 0; b < B; ++b)
      if (!mask.all_masked.empty() && mask.all_masked[b])
        std::fill(x.data<float>() + batch.cu[b] * H, x.data<float>() + batch.cu[b + 1] * H, 0.0f);
  TensorMap out;
  auto padded = [&](const float* t) { return scatter_padded(t, batch, H); };
  if (!io.embedding_output.empty()) out[io.embedding_output] = padded(x.data<float>());
  int64_t hidden = 0;  // the next hidden state's index
  if (opt.all_hidden && io.hidden_counts_embeddings)
    out[io.hidden + std::to_string(hidden++)] = padded(x.data<float>());

  nn::WorkspacePool::Lease workspace = m.workspaces.take();
  nn::RunContext run;
  run.options = &opt;
  run.workspace = workspace.get();
  run.head_mask = &in.head_mask;
  Tensor probs = opt.attentions ? Tensor::zeros(DType::F32, {B, c.heads, S, S}) : Tensor();
  if (opt.attentions) run.probs_out = probs.data<float>();
  run_plan(m, x.data<float>(), batch, mask, run, [&](size_t i, const float* h) {
    if (opt.attentions) {
      out[io.attentions + std::to_string(i)] = probs.clone();
      std::fill(probs.data<float>(), probs.data<float>() + probs.numel(), 0.0f);
    }
    if (opt.all_hidden && m.plan[i].ends_depth) out[io.hidden + std::to_string(hidden++)] = padded(h);
  });
  apply_final_norm(m, x.data<float>(), batch.tokens());
  out[io.last] = padded(x.data<float>());
  const Tensor pooled = c.has_pooler ? pool(m, x.data<float>(), batch) : Tensor();
  if (c.has_pooler) out[io.pooled] = pooled;
  add_head_outputs(m, x.data<float>(), batch, first_rows(batch), mask.all_masked, pooled,
                   out);  // src/models/heads.cc
  return out;
}

}  // namespace encore
