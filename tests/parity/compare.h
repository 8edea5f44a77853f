// The fixture comparison rule (tests/fixtures/README.md), shared by every parity suite:
//   |encore - reference| <= 1e-5 * max(1, |reference|) on compared positions;
// padded positions (compare_mask 0) must be zero in encore's output; a case's "tolerance"
// loosens only its fully masked sequences.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "encore/model.h"
#include "encore/safetensors.h"

namespace encore::testing {

// For element `i` of output `name`, the (batch, position) whose compare_mask decides, or
// {-1,-1} when the element is compared unconditionally (pooled and per-sequence outputs).
struct Locator {
  int64_t B = 0, S = 0;
  bool torch = false, batch_first = false;  // PyTorch: [S, B, E] unless batch_first, [S, E] unbatched
  std::pair<int64_t, int64_t> operator()(const std::string& name, const Shape& shape, int64_t i) const {
    if (name == "pooler_output" || name == "pooled_output") return {-1, -1};
    if (name.rfind("attentions.", 0) == 0) {  // [B, heads, S, S]: the query row decides
      const int64_t s = shape[2], heads = shape[1];
      return {i / (s * s * heads), (i / s) % s};
    }
    if (torch) {
      const int64_t row = i / shape.back();
      if (shape.size() == 2) return {0, row};  // unbatched [S, E]
      if (batch_first) return {row / shape[1], row % shape[1]};
      return {row % shape[1], row / shape[1]};  // [S, B, E]
    }
    if (shape.size() >= 2 && shape[0] == B && shape[1] == S) {  // per token: [B, S, ...]
      const int64_t inner = shape_numel(shape) / (B * S);
      return {i / (inner * S), (i / inner) % S};
    }
    return {-1, -1};  // per sequence: [B, labels], ...
  }
};

struct CompareOptions {
  std::string label;                        // for messages
  bool torch = false, batch_first = false;  // see Locator
  std::vector<std::string> outputs;         // compare only these (heads); empty: every reference output
  bool extra_outputs_fail = true;           // an encore output the reference lacks is a failure
  double fully_masked_tolerance = 1e-5;
};

// The sequences of `in` whose 2-D mask has no 1 (their every position is compared).
inline std::vector<uint8_t> fully_masked_rows(const TensorFile& in, int64_t B) {
  std::vector<uint8_t> rows(static_cast<size_t>(B), 0);
  for (const char* mask_name : {"attention_mask", "input_mask"}) {
    if (!in.tensors.count(mask_name) || in.tensors.at(mask_name).dim() != 2) continue;
    const Tensor m = in.tensors.at(mask_name).to_i64();
    for (int64_t b = 0; b < m.size(0); ++b) {
      bool any = false;
      for (int64_t j = 0; j < m.size(1); ++j) any = any || m.data<int64_t>()[b * m.size(1) + j];
      rows[static_cast<size_t>(b)] = !any;
    }
  }
  return rows;
}

// Compares and reports; returns the worst scaled error outside fully masked sequences.
inline double expect_matches_reference(const TensorMap& out, const TensorFile& in, const TensorFile& expected,
                                       const CompareOptions& o) {
  EXPECT_TRUE(expected.tensors.count("compare_mask")) << o.label << ": fixture has no compare_mask";
  if (!expected.tensors.count("compare_mask")) return 0.0;
  const Tensor cmp = expected.tensors.at("compare_mask").to_i64();
  const int64_t B = cmp.size(0), S = cmp.size(1);
  const Locator locate{B, S, o.torch, o.batch_first};
  const std::vector<uint8_t> fully_masked = fully_masked_rows(in, B);
  std::vector<std::string> names = o.outputs;
  if (names.empty())
    for (const auto& [name, t] : expected.tensors)
      if (name != "compare_mask") names.push_back(name);

  double worst = 0.0, worst_loose = 0.0;
  std::string worst_name;
  int64_t compared = 0, nan_matches = 0, padded_nonzero = 0;
  for (const std::string& name : names) {
    EXPECT_TRUE(out.count(name)) << o.label << ": encore produced no '" << name << "'";
    EXPECT_TRUE(expected.tensors.count(name)) << o.label << ": the fixture has no '" << name << "'";
    if (!out.count(name) || !expected.tensors.count(name)) continue;
    const Tensor ref = expected.tensors.at(name).to_f32();
    const Tensor& got = out.at(name);
    EXPECT_EQ(got.shape(), ref.shape()) << o.label << ": " << name;
    if (got.shape() != ref.shape()) continue;
    const float* r = ref.data<float>();
    const float* g = got.data<float>();
    int64_t failures = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
      auto [b, s] = locate(name, ref.shape(), i);
      if (b >= 0 && !cmp.data<int64_t>()[b * S + s]) {  // padding: encore defines it as zero
        if (g[i] != 0.0f && padded_nonzero++ < 3)
          ADD_FAILURE() << o.label << ": " << name << "[" << i << "] is padding but " << g[i];
        continue;
      }
      ++compared;
      if (std::isnan(r[i]) && std::isnan(g[i])) {
        ++nan_matches;
        continue;
      }
      const double err = std::fabs(static_cast<double>(g[i]) - r[i]);
      const double rel = err / std::max(1.0, std::fabs(static_cast<double>(r[i])));
      const bool loose = b >= 0 && fully_masked[static_cast<size_t>(b)];
      const double tol = loose ? o.fully_masked_tolerance : 1e-5;
      if (!(rel <= tol) && failures++ < 5)
        ADD_FAILURE() << o.label << ": " << name << "[" << i << "] (batch " << b << ", position " << s << "): encore "
                      << g[i] << " vs reference " << r[i];
      if (tol > 1e-5) {
        worst_loose = std::max(worst_loose, rel);
      } else if (!(rel <= worst)) {
        worst = rel, worst_name = name;
      }
    }
    EXPECT_EQ(failures, 0) << o.label << ": " << name << " has " << failures << " mismatches";
  }
  if (o.extra_outputs_fail) {
    for (const auto& [name, t] : out) {
      EXPECT_TRUE(expected.tensors.count(name)) << o.label << ": encore produced extra output '" << name << "'";
    }
  }
  std::printf("[parity] %-44s worst scaled error %.3g (%s), %lld values compared, %lld NaN==NaN\n", o.label.c_str(),
              worst, worst_name.c_str(), static_cast<long long>(compared), static_cast<long long>(nan_matches));
  if (worst_loose > 0)
    std::printf("[parity] %-44s fully masked sequences: worst %.3g (tolerance %.g)\n", o.label.c_str(), worst_loose,
                o.fully_masked_tolerance);
  EXPECT_GT(compared, 0) << o.label;
  EXPECT_EQ(padded_nonzero, 0) << o.label << ": padded positions must be zero";
  return worst;
}

}  // namespace encore::testing
