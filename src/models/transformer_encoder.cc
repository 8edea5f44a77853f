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

}  // namespace

TensorMap transformer_encoder_forward(const Model::Impl& m, const TensorMap& inputs, const ForwardOptions& opt) {
  const ModelConfig& c = m.config;
  const ForwardNames& io = m.arch->io;
  check_known_inputs(inputs, io.inputs, m.arch->name.c_str());
  const Tensor* src_in = find_input(inputs, io.ids);
  ENCORE_CHECK(src_in, "missing input '", io.ids, "'");
  const int64_t E = c.hidden, nhead = c.heads;
  const bool unbatched = src_in->dim() == 2;
  ENCORE_CHECK(src_in->dim() == 3 || unbatched, "src must be [S, B, E], [B, S, E] (batch_first) or [S, E], got ",
               shape_string(src_in->shape()));
  ENCORE_CHECK(src_in->size(-1) == E, "src has feature size ", src_in->size(-1), ", the model has d_model ", E);
  const bool seq_first = !unbatched && !c.batch_first;
  const int64_t B = unbatched ? 1 : (c.batch_first ? src_in->size(0) : src_in->size(1));
  const int64_t S = unbatched ? src_in->size(0) : (c.batch_first ? src_in->size(1) : src_in->size(0));
  ENCORE_CHECK(src_in->dtype() == DType::F32 || src_in->dtype() == DType::F16 || src_in->dtype() == DType::BF16 ||
                   src_in->dtype() == DType::F64,
               "src must have a floating-point dtype, got ", dtype_name(src_in->dtype()));
  Tensor src = src_in->to_f32();

  // Key padding: True / -inf = padding (dropped); other float values are added to scores.
  std::vector<uint8_t> keep(static_cast<size_t>(B * S), 1);
  Tensor kpm;
  if (const Tensor* t = find_input(inputs, io.key_padding)) {
    const Shape want = unbatched ? Shape{S} : Shape{B, S};
    ENCORE_CHECK(t->shape() == want, "src_key_padding_mask has shape ", shape_string(t->shape()), ", expected ",
                 shape_string(want));
    kpm = canonical_mask(*t, "src_key_padding_mask");
    for (int64_t i = 0; i < B * S; ++i) keep[static_cast<size_t>(i)] = kpm.data<float>()[i] != kNegInf;
  }
  Tensor attn_mask;
  int64_t mask_heads = 0;  // 0: [S,S] shared; nhead: [B*nhead, S, S]
  if (const Tensor* t = find_input(inputs, io.mask)) {
    attn_mask = canonical_mask(*t, "mask");
    if (attn_mask.shape() == (Shape{S, S})) {
      mask_heads = 0;
    } else {
      ENCORE_CHECK(attn_mask.shape() == (Shape{B * nhead, S, S}), "mask has shape ", shape_string(t->shape()),
                   ", expected [", S, ", ", S, "] or [", B * nhead, ", ", S, ", ", S, "]");
      mask_heads = nhead;
    }
  }

  nn::AttentionMask mask;
  nn::RaggedBatch batch = ragged_from_keep(keep, B, S, &mask.all_masked);
  mask.causal = opt.causal;
  // Dense bias = mask (+ finite key-padding values), PyTorch's merge of the two masks.
  Tensor dense;
  bool kpm_finite = false;
  if (kpm.defined() && kpm.numel())
    for (int64_t i = 0; i < B * S; ++i) kpm_finite = kpm_finite || (kpm.data<float>()[i] != 0.0f && keep[i]);
  if ((attn_mask.defined() && attn_mask.numel()) || kpm_finite) {
    const int64_t Hm = mask_heads ? nhead : 1;
    dense = Tensor::zeros(DType::F32, {B, Hm, S, S});
    float* d = dense.data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hm; ++h)
        for (int64_t i = 0; i < S; ++i)
          for (int64_t j = 0; j < S; ++j) {
            float v = 0.0f;
            if (attn_mask.defined() && attn_mask.numel())
              v = attn_mask.data<float>()[(mask_heads ? (b * nhead + h) * S * S : 0) + i * S + j];
            if (kpm_finite) v += kpm.data<float>()[b * S + j];
            d[((b * Hm + h) * S + i) * S + j] = v;
          }
    mask.dense = {d, Hm * S * S, mask_heads ? S * S : 0, S, 1};
  }

  // Gather real tokens into [T, E].
  const int64_t T = batch.tokens();
  Tensor x = Tensor::zeros(DType::F32, {T, E});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = batch.cu[b]; t < batch.cu[b + 1]; ++t) {
      const int64_t j = batch.position[t];
      const int64_t row = unbatched ? j : (c.batch_first ? b * S + j : j * B + b);
      std::copy(src.data<float>() + row * E, src.data<float>() + (row + 1) * E, x.data<float>() + t * E);
    }

  TensorMap out;
  auto padded = [&](const Tensor& t) {
    Tensor p = scatter_padded(t.data<float>(), batch, E, seq_first);
    return unbatched ? p.reshaped({S, E}) : p;
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
