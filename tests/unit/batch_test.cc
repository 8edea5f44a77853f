// Batching never changes a real position's result: each sequence of a padded batch equals
// the same sequence run alone, for every dialect's ragged fixture.
#include <gtest/gtest.h>

#include "encore/safetensors.h"
#include "parity/fixture.h"
#include "test_util.h"

namespace encore::testing {
namespace {

// Slices row b (first n positions) out of a [B, S, ...] tensor, or [S, B, ...] when seq_first.
Tensor slice_row(const Tensor& t, int64_t b, int64_t n, bool seq_first) {
  Shape s = t.shape();
  const int64_t B = seq_first ? s[1] : s[0], S = seq_first ? s[0] : s[1];
  int64_t inner = 1;
  for (size_t i = 2; i < s.size(); ++i) inner *= s[i];
  Shape out_shape = s;
  out_shape[seq_first ? 1 : 0] = 1;
  out_shape[seq_first ? 0 : 1] = n;
  // Square masks [B,S,S] slice both position axes.
  const bool square = !seq_first && s.size() == 3 && s[2] == S && t.dtype() != DType::F32;
  if (square) out_shape[2] = n, inner = n;
  Tensor out = Tensor::zeros(t.dtype(), out_shape);
  const size_t es = dtype_size(t.dtype());
  const auto* src = static_cast<const unsigned char*>(t.raw());
  auto* dst = static_cast<unsigned char*>(out.raw_mut());
  for (int64_t j = 0; j < n; ++j) {
    const int64_t row = seq_first ? j * B + b : b * S + j;
    const int64_t src_inner = square ? S : inner;
    std::memcpy(dst + j * inner * es, src + row * src_inner * es, static_cast<size_t>(inner) * es);
  }
  return out;
}

TEST(Batch, SequenceAloneEqualsSequenceInBatch) {
  int checked = 0;
  for (const FixtureCase& c : all_core_cases()) {
    if (c.name != "ragged") continue;
    Model model = Model::load((c.dir / "model").string(), load_options_of(c));
    const bool torch = model.config().dialect == Dialect::Torch;
    const bool seq_first = torch && !model.config().batch_first;
    TensorFile in = read_safetensors((c.dir / "ragged.in.safetensors").string());
    TensorMap inputs(in.tensors.begin(), in.tensors.end());
    const std::string out_name = torch ? "output"
                                 : model.config().dialect == Dialect::BertGoogle ? "sequence_output"
                                                                                 : "last_hidden_state";
    const Tensor batched = model.forward(inputs, {}).at(out_name);
    const std::string mask_name = torch ? "src_key_padding_mask"
                                  : model.config().dialect == Dialect::BertGoogle ? "input_mask"
                                                                                  : "attention_mask";
    ASSERT_TRUE(inputs.count(mask_name)) << c.label();
    const Tensor mask = inputs.at(mask_name).to_i64();
    const int64_t B = mask.size(0), S = mask.size(1), H = batched.size(-1);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;  // right padding: the real length
      for (int64_t j = 0; j < S; ++j) n += torch ? !mask.data<int64_t>()[b * S + j] : mask.data<int64_t>()[b * S + j];
      TensorMap alone;
      for (const auto& [name, t] : inputs) {
        if (name == mask_name) continue;
        alone[name] = slice_row(t, b, n, name == "src" && seq_first);
      }
      const Tensor single = model.forward(alone, {}).at(out_name);
      const Tensor expect = slice_row(batched, b, n, seq_first);
      ASSERT_EQ(single.numel(), n * H);
      double worst = 0;
      for (int64_t i = 0; i < single.numel(); ++i) {
        const double r = expect.data<float>()[i];
        worst = std::max(worst, std::fabs(single.data<float>()[i] - r) / std::max(1.0, std::fabs(r)));
      }
      EXPECT_LE(worst, 1e-5) << c.label() << " sequence " << b << " (length " << n << ")";
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace encore::testing
