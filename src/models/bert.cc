// The BERT front end (HF BertModel and Google modeling.py BertModel): embeddings,
// the shared encoder layers, the pooler, and reference-named outputs.
//
//   emb    = LN(word[ids] + token_type[types] + position[positions])   then dropout
//   h_i    = EncoderLayer_i(h_{i-1})
//   pooled = tanh(W h_L[:, 0] + b)
//
// Masks: a 2-D mask [B,S] drops masked positions from the ragged batch (their keys would
// get exp(fill - max) == 0 in the reference); a 3-D HF mask [B,S,S] becomes a dense
// additive bias (1 - m) * float32_min, exactly transformers' get_extended_attention_mask.
#include <cmath>

#include "kernels/kernels.h"
#include "models/batch.h"
#include "models/model_impl.h"

namespace encore {

namespace {

struct BertInputs {
  int64_t B = 0, S = 0;
  Tensor ids, types, positions;  // I64 [B,S]; positions may be [1,S]
  Tensor mask2d;                 // I64 [B,S] 0/1
  Tensor bias3d;                 // F32 [B,S,S] additive
  Tensor head_mask;              // F32 [L, heads]
};

// Index inputs must have an integer dtype, as the references require (an embedding lookup
// with a float tensor is an error in PyTorch); they are widened to I64.
Tensor integer_input(const Tensor& t, const char* name) {
  const DType d = t.dtype();
  ENCORE_CHECK(d == DType::I64 || d == DType::I32 || d == DType::I16 || d == DType::I8 || d == DType::U8, name,
               " must have an integer dtype, got ", dtype_name(d));
  return t.to_i64();
}

BertInputs read_inputs(const Model::Impl& m, const TensorMap& in) {
  const ModelConfig& c = m.config;
  const bool google = c.dialect == Dialect::BertGoogle;
  const char* mask_name = google ? "input_mask" : "attention_mask";
  if (google) {
    check_known_inputs(in, {"input_ids", "input_mask", "attention_mask", "token_type_ids"}, "bert-google");
  } else {
    check_known_inputs(in, {"input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask"},
                       "bert-hf");
  }
  BertInputs r;
  const Tensor* ids = find_input(in, "input_ids");
  ENCORE_CHECK(ids, "missing input 'input_ids'");
  ENCORE_CHECK(ids->dim() == 2, "input_ids must be [batch, seq], got ", shape_string(ids->shape()));
  r.ids = integer_input(*ids, "input_ids");
  r.B = ids->size(0), r.S = ids->size(1);
  const Shape bs{r.B, r.S};
  for (int64_t i = 0; i < r.ids.numel(); ++i) {
    int64_t v = r.ids.data<int64_t>()[i];
    ENCORE_CHECK(v >= 0 && v < c.vocab_size, "input_ids[", i / r.S, "][", i % r.S, "] = ", v,
                 " is out of the vocabulary range [0, ", c.vocab_size, ")");
  }
  ENCORE_CHECK(c.absolute_positions || r.S <= c.max_positions, "sequence length ", r.S,
               " exceeds max_position_embeddings ", c.max_positions);

  if (const Tensor* t = find_input(in, "token_type_ids")) {
    ENCORE_CHECK(t->shape() == bs, "token_type_ids has shape ", shape_string(t->shape()), ", expected ",
                 shape_string(bs));
    r.types = integer_input(*t, "token_type_ids");
    for (int64_t i = 0; i < r.types.numel(); ++i) {
      int64_t v = r.types.data<int64_t>()[i];
      ENCORE_CHECK(v >= 0 && v < c.type_vocab_size, "token_type_ids[", i / r.S, "][", i % r.S, "] = ", v,
                   " is out of range: the model has type_vocab_size ", c.type_vocab_size);
    }
  }
  if (const Tensor* t = find_input(in, "position_ids")) {
    ENCORE_CHECK(t->shape() == bs || t->shape() == (Shape{1, r.S}), "position_ids has shape ",
                 shape_string(t->shape()), ", expected ", shape_string(bs), " or [1, ", r.S, "]");
    r.positions = integer_input(*t, "position_ids");
  } else if (c.absolute_positions) {
    ENCORE_CHECK(r.S <= c.max_positions, "sequence length ", r.S, " exceeds max_position_embeddings ",
                 c.max_positions);
  }
  if (r.positions.defined() && r.positions.numel() && c.absolute_positions) {
    for (int64_t i = 0; i < r.positions.numel(); ++i) {
      int64_t v = r.positions.data<int64_t>()[i];
      ENCORE_CHECK(v >= 0 && v < c.max_positions, "position_ids value ", v,
                   " is out of range [0, max_position_embeddings=", c.max_positions, ")");
    }
  }

  const Tensor* mask = find_input(in, mask_name);
  if (!mask && google) mask = find_input(in, "attention_mask");
  if (mask) {
    if (mask->dim() == 2) {
      ENCORE_CHECK(mask->shape() == bs, mask_name, " has shape ", shape_string(mask->shape()), ", expected ",
                   shape_string(bs));
      r.mask2d = mask->to_i64();
      for (int64_t i = 0; i < r.mask2d.numel(); ++i) {
        int64_t v = r.mask2d.data<int64_t>()[i];
        ENCORE_CHECK(v == 0 || v == 1, mask_name, " values must be 0 or 1, found ", v);
      }
    } else {
      ENCORE_CHECK(!google && mask->dim() == 3 && mask->shape() == (Shape{r.B, r.S, r.S}), mask_name,
                   " has shape ", shape_string(mask->shape()), ", expected ", shape_string(bs),
                   google ? "" : " or [batch, seq, seq]");
      Tensor m3 = mask->to_f32();
      r.bias3d = Tensor::zeros(DType::F32, m3.shape());
      const float lowest = c.layer.attention.mask_fill;  // (1.0 - mask) * torch.finfo(dtype).min
      for (int64_t i = 0; i < m3.numel(); ++i)
        r.bias3d.data<float>()[i] = (1.0f - m3.data<float>()[i]) * lowest;
    }
  }
  if (const Tensor* t = find_input(in, "head_mask")) {
    Tensor hm = t->to_f32();
    if (hm.dim() == 1) {  // [heads]: the same for every layer (transformers get_head_mask)
      ENCORE_CHECK(hm.size(0) == c.heads, "head_mask has shape ", shape_string(hm.shape()), ", expected [",
                   c.heads, "] or [", c.layers, ", ", c.heads, "]");
      r.head_mask = Tensor::zeros(DType::F32, {c.layers, c.heads});
      for (int64_t l = 0; l < c.layers; ++l)
        for (int64_t h = 0; h < c.heads; ++h) r.head_mask.data<float>()[l * c.heads + h] = hm.data<float>()[h];
    } else {
      ENCORE_CHECK(hm.shape() == (Shape{c.layers, c.heads}), "head_mask has shape ", shape_string(hm.shape()),
                   ", expected [", c.heads, "] or [", c.layers, ", ", c.heads, "]");
      r.head_mask = hm;
    }
  }
  return r;
}

// Per-token inputs of a ragged batch: vocabulary id, token type and position id.
struct TokenInputs {
  std::vector<int64_t> ids, types, positions;  // [T]
};

TokenInputs gather_tokens(const BertInputs& in, const nn::RaggedBatch& batch) {
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

// emb[t] = LN(word[id] + token_type[type] (+ position[pos])), added in the references' order.
Tensor embed(const Model::Impl& m, const TokenInputs& tok, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const int64_t H = c.hidden, T = static_cast<int64_t>(tok.ids.size());
  Tensor x = Tensor::zeros(DType::F32, {T, H});
  float* out = x.data<float>();
  const float* word = m.word_embeddings.data<float>();
  const float* type = m.token_type_embeddings.data<float>();
  const float* pos = c.absolute_positions ? m.position_embeddings.data<float>() : nullptr;
#pragma omp parallel for if (T * H > 65536)
  for (int64_t t = 0; t < T; ++t) {
    const float* w = word + tok.ids[t] * H;
    const float* ty = type + tok.types[t] * H;
    float* o = out + t * H;
    for (int64_t k = 0; k < H; ++k) o[k] = w[k] + ty[k];
    if (pos) {
      const float* pe = pos + tok.positions[t] * H;
      for (int64_t k = 0; k < H; ++k) o[k] += pe[k];
    }
  }
  const nn::LayerNorm& ln = m.embedding_norm;
  kernels::layer_norm(out, out, ln.gamma.data<float>(), ln.beta.data<float>(), T, H, c.layer.layer_norm_eps);
  if (opt.train) kernels::dropout(out, T * H, c.embedding_dropout, opt.seed, nn::kEmbeddingSite);
  return x;
}

// tanh(W h[first token] + b) per sequence; a sequence whose position 0 was padding gets
// tanh(b) (its first-token state is the zero row encore defines for padding).
Tensor pool(const Model::Impl& m, const float* x, const nn::RaggedBatch& batch) {
  const int64_t H = m.config.hidden, B = batch.size();
  Tensor first = Tensor::zeros(DType::F32, {B, H});
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = batch.cu[b];
    if (t < batch.cu[b + 1] && batch.position[t] == 0)
      std::copy(x + t * H, x + (t + 1) * H, first.data<float>() + b * H);
  }
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

// Runs the encoder stack on embedded tokens; `after_layer(l, x)` sees every layer's output.
template <class AfterLayer>
void run_layers(const Model::Impl& m, Tensor& x, const nn::RaggedBatch& batch, const nn::AttentionMask& mask,
                nn::RunContext& run, float* probs, AfterLayer&& after_layer) {
  const ModelConfig& c = m.config;
  const int64_t S = batch.padded_len;
  for (int64_t l = 0; l < c.layers; ++l) {
    if (probs) {
      std::fill(probs, probs + batch.size() * c.heads * S * S, 0.0f);
      run.probs_out = probs;
    }
    nn::encoder_layer_forward(x.data<float>(), batch, mask, m.layers[l], c.layer, c.heads, nn::LayerStep::plain(l),
                              run);
    after_layer(l, x);
  }
}

}  // namespace

Tensor bert_embed_sequence(const Model::Impl& m, const std::vector<int64_t>& ids) {
  TokenInputs tok;
  for (size_t j = 0; j < ids.size(); ++j) {
    tok.ids.push_back(ids[j]);
    tok.types.push_back(0);
    tok.positions.push_back(static_cast<int64_t>(j));
  }
  return embed(m, tok, ForwardOptions{});
}

Encoded bert_encode(const Model::Impl& m, const TokenBatch& tokens, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  ENCORE_CHECK(tokens.type_ids.empty() || tokens.type_ids.size() == tokens.ids.size(),
               "type_ids has ", tokens.type_ids.size(), " sequences, ids has ", tokens.ids.size());
  nn::RaggedBatch batch;
  TokenInputs tok;
  batch.cu.push_back(0);
  for (size_t b = 0; b < tokens.ids.size(); ++b) {
    const auto& ids = tokens.ids[b];
    const int64_t n = static_cast<int64_t>(ids.size());
    ENCORE_CHECK(n <= c.max_positions, "sequence ", b, " has ", n, " tokens, more than max_position_embeddings ",
                 c.max_positions);
    ENCORE_CHECK(tokens.type_ids.empty() || tokens.type_ids[b].size() == ids.size(), "sequence ", b,
                 ": type_ids and ids differ in length");
    for (int64_t j = 0; j < n; ++j) {
      const int64_t id = ids[j], type = tokens.type_ids.empty() ? 0 : tokens.type_ids[b][j];
      ENCORE_CHECK(id >= 0 && id < c.vocab_size, "sequence ", b, " token ", j, ": id ", id,
                   " is out of the vocabulary range [0, ", c.vocab_size, ")");
      ENCORE_CHECK(type >= 0 && type < c.type_vocab_size, "sequence ", b, " token ", j, ": token type ", type,
                   " is out of range: the model has type_vocab_size ", c.type_vocab_size);
      tok.ids.push_back(id), tok.types.push_back(type), tok.positions.push_back(j);
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
  run_layers(m, out.states, batch, nn::AttentionMask{}, run, nullptr, [](int64_t, const Tensor&) {});
  if (c.has_pooler) out.pooled = pool(m, out.states.data<float>(), batch);
  return out;
}

TensorMap bert_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const bool google = c.dialect == Dialect::BertGoogle;
  BertInputs in = read_inputs(m, inputs);
  const int64_t B = in.B, S = in.S, H = c.hidden;

  std::vector<uint8_t> keep(static_cast<size_t>(B * S), 1);
  if (in.mask2d.defined() && in.mask2d.numel())
    for (int64_t i = 0; i < B * S; ++i) keep[static_cast<size_t>(i)] = in.mask2d.data<int64_t>()[i] != 0;
  nn::AttentionMask mask;
  nn::RaggedBatch batch = ragged_from_keep(keep, B, S, &mask.all_masked);
  if (in.bias3d.defined() && in.bias3d.numel()) {
    mask.dense = {in.bias3d.data<float>(), S * S, 0, S, 1};
  }

  Tensor x = embed(m, gather_tokens(in, batch), opt);
  TensorMap out;
  auto padded = [&](const Tensor& t) { return scatter_padded(t.data<float>(), batch, H); };
  if (google) out["embedding_output"] = padded(x);
  if (!google && opt.all_hidden) out["hidden_states.0"] = padded(x);

  nn::WorkspacePool::Lease workspace = m.workspaces.take();
  nn::RunContext run;
  run.options = &opt;
  run.workspace = workspace.get();
  run.head_mask = &in.head_mask;
  Tensor probs = opt.attentions ? Tensor::zeros(DType::F32, {B, c.heads, S, S}) : Tensor();
  run_layers(m, x, batch, mask, run, opt.attentions ? probs.data<float>() : nullptr,
             [&](int64_t l, const Tensor& h) {
               if (opt.attentions) out["attentions." + std::to_string(l)] = probs.clone();
               if (opt.all_hidden)
                 out[google ? "all_encoder_layers." + std::to_string(l) : "hidden_states." + std::to_string(l + 1)] =
                     padded(h);
             });
  out[google ? "sequence_output" : "last_hidden_state"] = padded(x);
  Tensor pooled = c.has_pooler ? pool(m, x.data<float>(), batch) : Tensor();
  if (c.has_pooler) out[google ? "pooled_output" : "pooler_output"] = pooled;
  add_head_outputs(m, x.data<float>(), batch, pooled, out);  // task-head logits (src/models/heads.cc)
  return out;
}

}  // namespace encore
