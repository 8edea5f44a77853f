// The PyTorch front end: nn.TransformerEncoder(TransformerEncoderLayer, num_layers, norm).
//
// Inputs follow TransformerEncoder.forward(src, mask, src_key_padding_mask, is_causal):
//   src [S,B,E] ([B,S,E] with batch_first, [S,E] unbatched); mask [S,S] or [B*nhead,S,S],
//   bool (True = not allowed, becomes -inf) or float (added); src_key_padding_mask [B,S]
//   bool (True = padding) or float (added). Padding positions are dropped from the ragged
//   batch (-inf keys weigh exactly 0); a sequence whose keys are all padding is computed in
//   full, every key -inf, which PyTorch's safe softmax turns into zero attention.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kernels.h"
#include "models/batch.h"
#include "models/model_impl.h"

namespace encore {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// A mask as float additive values (bool True -> -inf), PyTorch's F._canonical_mask.
Tensor canonical_mask(const Tensor& t, const char* name) {
  if (t.dtype() == DType::Bool || t.dtype() == DType::U8) {
    ENCORE_CHECK(t.dtype() == DType::Bool, name, " must be bool or float, got ", dtype_name(t.dtype()));
    Tensor f = Tensor::zeros(DType::F32, t.shape());
    const auto* s = static_cast<const uint8_t*>(t.raw());
    for (int64_t i = 0; i < t.numel(); ++i) f.data<float>()[i] = s[i] ? kNegInf : 0.0f;
    return f;
  }
  ENCORE_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16 ||
                   t.dtype() == DType::F64,
               name, " must be bool or float, got ", dtype_name(t.dtype()));
  return t.to_f32();
}

// src and its layout: [S, B, E], [B, S, E] (batch_first) or [S, E] (unbatched).
struct Source {
  Tensor x;  // float32
  int64_t B = 1, S = 0;
  bool unbatched = false, seq_first = false;
  // The row of (sequence b, position j) in x viewed as [rows, E].
  int64_t row(int64_t b, int64_t j, bool batch_first) const {
    return unbatched ? j : (batch_first ? b * S + j : j * B + b);
  }
};

Source read_source(const Tensor& src, const ModelConfig& c) {
  Source s;
  s.unbatched = src.dim() == 2;
  ENCORE_CHECK(src.dim() == 3 || s.unbatched, "src must be [S, B, E], [B, S, E] (batch_first) or [S, E], got ",
               shape_string(src.shape()));
  ENCORE_CHECK(src.size(-1) == c.hidden, "src has feature size ", src.size(-1), ", the model has d_model ", c.hidden);
  s.seq_first = !s.unbatched && !c.batch_first;
  s.B = s.unbatched ? 1 : (c.batch_first ? src.size(0) : src.size(1));
  s.S = s.unbatched ? src.size(0) : (c.batch_first ? src.size(1) : src.size(0));
  ENCORE_CHECK(src.dtype() == DType::F32 || src.dtype() == DType::F16 || src.dtype() == DType::BF16 ||
                   src.dtype() == DType::F64,
               "src must have a floating-point dtype, got ", dtype_name(src.dtype()));
  s.x = src.to_f32();
  return s;
}

// The two masks as PyTorch canonicalizes them.
struct Masks {
  std::vector<uint8_t> keep;  // [B * S]: 0 where the key padding mask says -inf (dropped)
  Tensor key_padding;         // [B, S] float, or undefined
  Tensor attn;                // [S, S] or [B * nhead, S, S] float, or undefined
  int64_t attn_heads = 0;     // 0: [S, S] shared; nhead: one per (sequence, head)
};

Masks read_masks(const TensorMap& inputs, const ForwardNames& io, const Source& s, int64_t nhead) {
  const int64_t B = s.B, S = s.S;
  Masks m;
  m.keep.assign(static_cast<size_t>(B * S), 1);
  if (const Tensor* t = find_input(inputs, io.key_padding)) {
    const Shape want = s.unbatched ? Shape{S} : Shape{B, S};
    ENCORE_CHECK(t->shape() == want, "src_key_padding_mask has shape ", shape_string(t->shape()), ", expected ",
                 shape_string(want));
    m.key_padding = canonical_mask(*t, "src_key_padding_mask");
    for (int64_t i = 0; i < B * S; ++i) m.keep[static_cast<size_t>(i)] = m.key_padding.data<float>()[i] != kNegInf;
  }
  if (const Tensor* t = find_input(inputs, io.mask)) {
    m.attn = canonical_mask(*t, "mask");
    if (m.attn.shape() != (Shape{S, S})) {
      ENCORE_CHECK(m.attn.shape() == (Shape{B * nhead, S, S}), "mask has shape ", shape_string(t->shape()),
                   ", expected [", S, ", ", S, "] or [", B * nhead, ", ", S, ", ", S, "]");
      m.attn_heads = nhead;
    }
  }
  return m;
}

// Dense bias = mask (+ finite key-padding values), PyTorch's merge of the two masks; an
// undefined tensor when neither adds anything (-inf key padding is dropped instead).
Tensor dense_bias(const Masks& m, int64_t B, int64_t S, int64_t nhead) {
  const bool has_attn = m.attn.defined() && m.attn.numel();
  bool kpm_finite = false;
  if (m.key_padding.defined() && m.key_padding.numel())
    for (int64_t i = 0; i < B * S; ++i)
      kpm_finite = kpm_finite || (m.key_padding.data<float>()[i] != 0.0f && m.keep[static_cast<size_t>(i)]);
  if (!has_attn && !kpm_finite) return Tensor();
  const int64_t Hm = m.attn_heads ? nhead : 1;
  Tensor dense = Tensor::zeros(DType::F32, {B, Hm, S, S});
  float* d = dense.data<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hm; ++h)
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < S; ++j) {
          float v = 0.0f;
          if (has_attn) v = m.attn.data<float>()[(m.attn_heads ? (b * nhead + h) * S * S : 0) + i * S + j];
          if (kpm_finite) v += m.key_padding.data<float>()[b * S + j];
          d[((b * Hm + h) * S + i) * S + j] = v;
        }
  return dense;
}

}  // namespace

TensorMap transformer_encoder_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const ForwardNames& io = m.arch->io;
  check_known_inputs(inputs, io.inputs, m.arch->name.c_str());
  const Tensor* src_in = find_input(inputs, io.ids);
  ENCORE_CHECK(src_in, "missing input '", io.ids, "'");
  const int64_t E = c.hidden, nhead = c.heads;
  const Source src = read_source(*src_in, c);
  const int64_t B = src.B, S = src.S;
  const Masks masks = read_masks(inputs, io, src, nhead);

  nn::AttentionMask mask;
  nn::RaggedBatch batch = ragged_from_keep(masks.keep, B, S, &mask.all_masked);
  mask.causal = opt.causal;
  const Tensor dense = dense_bias(masks, B, S, nhead);
  if (dense.defined()) {
    const int64_t Hm = dense.size(1);
    mask.dense = {dense.data<float>(), Hm * S * S, masks.attn_heads ? S * S : 0, S, 1};
  }

  // Gather real tokens into [T, E].
  const int64_t T = batch.tokens();
  Tensor x = Tensor::zeros(DType::F32, {T, E});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = batch.cu[b]; t < batch.cu[b + 1]; ++t) {
      const float* row = src.x.data<float>() + src.row(b, batch.position[t], c.batch_first) * E;
      std::copy(row, row + E, x.data<float>() + t * E);
    }

  TensorMap out;
  auto padded = [&](const Tensor& t) {
    Tensor p = scatter_padded(t.data<float>(), batch, E, src.seq_first);
    return src.unbatched ? p.reshaped({S, E}) : p;
  };
  nn::WorkspacePool::Lease workspace = m.workspaces.take();
  nn::RunContext run;
  run.options = &opt;
  run.workspace = workspace.get();
  run_plan(m, x.data<float>(), batch, mask, run, [&](size_t i, const float*) {
    if (opt.all_hidden) out[io.hidden + std::to_string(i)] = padded(x);
  });
  if (c.final_norm) nn::layer_norm(x.data<float>(), x.data<float>(), m.final_norm, T, E, c.layer.layer_norm_eps);
  out[io.last] = padded(x);
  return out;
}

}  // namespace encore
