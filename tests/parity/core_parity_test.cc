// Every output of every core fixture against the reference, under the fixture rule
// (parity/compare.h). The log prints the worst error per fixture.
#include <gtest/gtest.h>

#include "parity/compare.h"
#include "parity/fixture.h"

namespace encore::testing {
namespace {

class CoreParity : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(CoreParity, MatchesReference) {
  const FixtureCase& c = GetParam();
  Model model = Model::load((c.dir / "model").string(), load_options_of(c));
  TensorFile in = read_safetensors((c.dir / (c.name + ".in.safetensors")).string());
  TensorFile expected = read_safetensors((c.dir / (c.name + ".out.safetensors")).string());
  TensorMap out = model.forward(TensorMap(in.tensors.begin(), in.tensors.end()), forward_options_of(c));
  CompareOptions o;
  o.label = c.label();
  o.torch = model.config().dialect == Dialect::Torch;
  o.batch_first = model.config().batch_first;
  // A case's "tolerance" loosens only its fully masked sequences (tests/fixtures/README.md).
  o.fully_masked_tolerance = c.case_spec.value("tolerance", 1e-5);
  expect_matches_reference(out, in, expected, o);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CoreParity, ::testing::ValuesIn(all_core_cases()),
                         [](const auto& info) { return test_name(info.param.label()); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CoreParity);

TEST(CoreFixtures, ArePresent) {
  // The parity suite is only meaningful with fixtures: fail loudly if they went missing.
  EXPECT_GE(all_core_cases().size(), 10u)
      << "tests/fixtures/core is missing; run tools/reference/make_core_fixtures.sh";
}

}  // namespace
}  // namespace encore::testing
