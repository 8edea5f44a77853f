// Parity on tests/fixtures/family (docs/encoder-family.md; tools/reference/make_family_fixtures.py,
// transformers 4.57.6): every case of every fixture of an architecture, base models on every
// output they return and task heads on their logits, under the fixture rule (parity/compare.h).
// Then the ragged API on the same fixtures: Model::encode (what the pipelines and encore serve
// call) gives the reference's states, pooled output and head logits for the ids alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "parity/compare.h"
#include "parity/fixture.h"
#include "unit/test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kFamily = fs::path(ENCORE_FIXTURES_DIR) / "family";

struct FamilyCase {
  std::string fixture, name;
  fs::path dir;
  nlohmann::json spec, options;
  std::string label() const { return fixture + "." + name; }
  bool head() const { return spec.contains("head"); }
};
void PrintTo(const FamilyCase& c, std::ostream* os) {
  *os << c.label();
}

// Every case of the fixtures whose cases.json names one of `model_types`.
std::vector<FamilyCase> family_cases(const std::vector<std::string>& model_types) {
  std::vector<FamilyCase> out;
  if (!fs::exists(kFamily)) return out;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(kFamily))
    if (fs::exists(e.path() / "cases.json")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) {
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(d / "cases.json"));
    const std::string type = j.value("model_type", "");
    if (std::find(model_types.begin(), model_types.end(), type) == model_types.end()) continue;
    for (const auto& c : j["cases"])
      out.push_back({d.filename().string(), c["name"], d, j, c.value("options", nlohmann::json::object())});
  }
  return out;
}

TensorFile read_case(const FamilyCase& c, const char* what) {
  return read_safetensors((c.dir / (c.name + what)).string());
}

class FamilyParity : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(FamilyParity, MatchesReference) {
  const FamilyCase& c = GetParam();
  const Model model = Model::load((c.dir / "model").string());
  if (c.head()) {
    EXPECT_EQ(model.config().head.class_name, c.spec["head"].get<std::string>());
  }
  const TensorFile in = read_case(c, ".in.safetensors"), expected = read_case(c, ".out.safetensors");
  ForwardOptions fo;
  fo.all_hidden = c.options.value("all_hidden", false);
  fo.attentions = c.options.value("attentions", false);
  const TensorMap out = model.forward(TensorMap(in.tensors.begin(), in.tensors.end()), fo);
  CompareOptions o;
  o.label = c.label();
  o.outputs = c.spec["outputs"].get<std::vector<std::string>>();
  o.extra_outputs_fail = !c.head();  // a head's forward also returns the body's outputs
  expect_matches_reference(out, in, expected, o);
}

// The real tokens of row b of a padded case: its ids where the 2-D mask is 1 (all of them
// without a mask), as a tokenizer would hand them to encode().
std::vector<int32_t> real_ids(const TensorFile& in, int64_t b, std::vector<int64_t>* positions) {
  const Tensor ids = in.tensors.at("input_ids").to_i64();
  const int64_t S = ids.size(1);
  const Tensor mask = in.tensors.count("attention_mask") ? in.tensors.at("attention_mask").to_i64() : Tensor();
  std::vector<int32_t> out;
  for (int64_t j = 0; j < S; ++j)
    if (!mask.defined() || mask.data<int64_t>()[b * S + j]) {
      out.push_back(static_cast<int32_t>(ids.data<int64_t>()[b * S + j]));
      positions->push_back(j);
    }
  return out;
}

// The ragged cases of a fixture (right padding, 2-D mask, default positions) run through
// Model::encode: states, pooled output and head logits equal the reference's at real positions.
class FamilyEncode : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(FamilyEncode, EncodeMatchesReference) {
  const FamilyCase& c = GetParam();
  const Model model = Model::load((c.dir / "model").string());
  const TensorFile in = read_case(c, ".in.safetensors"), expected = read_case(c, ".out.safetensors");
  const int64_t B = in.tensors.at("input_ids").size(0), S = in.tensors.at("input_ids").size(1);
  TokenBatch batch;
  std::vector<std::vector<int64_t>> positions(static_cast<size_t>(B));
  const bool types = in.tensors.count("token_type_ids") != 0;
  for (int64_t b = 0; b < B; ++b) {
    batch.ids.push_back(real_ids(in, b, &positions[static_cast<size_t>(b)]));
    if (types) {
      const Tensor t = in.tensors.at("token_type_ids").to_i64();
      std::vector<int32_t> row;
      for (int64_t j : positions[static_cast<size_t>(b)])
        row.push_back(static_cast<int32_t>(t.data<int64_t>()[b * S + j]));
      batch.type_ids.push_back(row);
    }
  }
  const Encoded e = model.encode(batch);
  // The encoded rows scattered back to the padded layout, named as forward names them.
  auto padded = [&](const Tensor& rows, int64_t width) {
    Tensor p = Tensor::zeros(DType::F32, {B, S, width});
    for (int64_t b = 0; b < B; ++b)
      for (size_t k = 0; k < positions[static_cast<size_t>(b)].size(); ++k)
        std::copy(rows.data<float>() + (e.cu[b] + static_cast<int64_t>(k)) * width,
                  rows.data<float>() + (e.cu[b] + static_cast<int64_t>(k) + 1) * width,
                  p.data<float>() + (b * S + positions[static_cast<size_t>(b)][k]) * width);
    return p;
  };
  TensorMap out;
  CompareOptions o;
  o.label = c.label() + ".encode";
  o.extra_outputs_fail = false;
  if (!c.head()) {
    out["last_hidden_state"] = padded(e.states, model.config().hidden);
    o.outputs.push_back("last_hidden_state");
    if (e.pooled.defined()) out["pooler_output"] = e.pooled, o.outputs.push_back("pooler_output");
  } else {
    // The per-token part first (outputs[0], or start/end), the per-sequence part last.
    const TaskHead kind = model.config().head.kind;
    const auto& names = c.spec["outputs"];
    const bool sequence = kind == TaskHead::SequenceClassification || kind == TaskHead::PreTraining;
    if (kind != TaskHead::SequenceClassification) {
      const Tensor l = model.token_logits(e);
      const Tensor p = padded(l, l.size(1));
      if (kind == TaskHead::QuestionAnswering) {
        Tensor start = Tensor::zeros(DType::F32, {B, S}), end = Tensor::zeros(DType::F32, {B, S});
        for (int64_t i = 0; i < B * S; ++i)
          start.data<float>()[i] = p.data<float>()[2 * i], end.data<float>()[i] = p.data<float>()[2 * i + 1];
        out["start_logits"] = start, out["end_logits"] = end;
      } else {
        const Tensor& want = expected.tensors.at(names[0].get<std::string>());
        out[names[0].get<std::string>()] = p.numel() == want.numel() ? p.reshaped(want.shape()) : p;  // [B, S] squeezed
      }
    }
    if (sequence) out[names.back().get<std::string>()] = model.sequence_logits(e);
    for (const auto& [name, t] : out) o.outputs.push_back(name);
  }
  expect_matches_reference(out, in, expected, o);
}

std::vector<FamilyCase> ragged_only(std::vector<FamilyCase> cases) {
  std::erase_if(cases, [](const FamilyCase& c) { return c.name != "ragged"; });
  return cases;
}

auto case_name = [](const auto& info) { return test_name(info.param.label()); };

// One line per architecture: its model_type values.
#define ENCORE_FAMILY(Name, ...)                                                                             \
  INSTANTIATE_TEST_SUITE_P(Name, FamilyParity, ::testing::ValuesIn(family_cases({__VA_ARGS__})), case_name); \
  INSTANTIATE_TEST_SUITE_P(Name, FamilyEncode, ::testing::ValuesIn(ragged_only(family_cases({__VA_ARGS__}))), case_name)

TEST(FamilyFixtures, ArePresent) {
  EXPECT_GE(family_cases({"roberta", "xlm-roberta", "camembert", "distilbert", "electra", "albert", "mpnet"}).size(),
            100u)
      << "tests/fixtures/family is missing; run tools/reference/make_family_fixtures.sh";
}

// sentence-transformers saves the base model under the task class it was trained from
// (all-mpnet-base-v2's config.json names MPNetForMaskedLM, its checkpoint holds MPNetModel):
// it loads as the base model, as AutoModel loads it, and a task that needs the head says why.
TEST(FamilyFixtures, BaseWeightsUnderATaskClassLoadAsTheBaseModel) {
  TempDir dir;
  const fs::path base = kFamily / "mpnet-gelu-h36-pool" / "model";
  fs::copy_file(base / "model.safetensors", dir.path / "model.safetensors");
  nlohmann::json config = nlohmann::json::parse(std::ifstream(base / "config.json"));
  config["architectures"] = {"MPNetForMaskedLM"};
  std::ofstream(dir.path / "config.json") << config.dump();
  const Model model = Model::load(dir.path.string());
  EXPECT_EQ(model.config().head.kind, TaskHead::None);
  EXPECT_EQ(model.config().head.absent_class, "MPNetForMaskedLM");
  TokenBatch batch;
  batch.ids = {{0, 5, 6, 2}};
  const Encoded e = model.encode(batch);
  try {
    (void)model.token_logits(e);
    ADD_FAILURE() << "token_logits without a head";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("names MPNetForMaskedLM, but the checkpoint holds none of its weights"),
              std::string::npos)
        << err.what();
  }
}

// transformers 5 re-saves a ModernBERT config.json with layer_types and rope_parameters in place
// of global_rope_theta / local_rope_theta: it loads to the same model (bit-identical outputs), and
// what encore cannot compute (scaled RoPE) or a layer_types that contradicts
// global_attn_every_n_layers is refused in one line instead of running with default bases.
TEST(FamilyFixtures, ModernBertConfigOfTransformers5) {
  const fs::path fixture = kFamily / "modernbert-gelu-h32-w8";
  const nlohmann::json original = nlohmann::json::parse(std::ifstream(fixture / "model" / "config.json"));
  ASSERT_EQ(original["global_attn_every_n_layers"], 3);
  const TensorFile in = read_safetensors((fixture / "ragged.in.safetensors").string());
  const TensorMap inputs(in.tensors.begin(), in.tensors.end());
  const TensorMap want = Model::load((fixture / "model").string()).forward(inputs);
  auto with_config = [&](const nlohmann::json& config, TempDir& dir) {
    fs::copy_file(fixture / "model" / "model.safetensors", dir.path / "model.safetensors");
    std::ofstream(dir.path / "config.json") << config.dump();
    return dir.path.string();
  };
  nlohmann::json v5 = original;
  v5.erase("global_rope_theta");
  v5.erase("local_rope_theta");
  v5["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  v5["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", original["global_rope_theta"]}}},
                           {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", original["local_rope_theta"]}}}};
  {
    TempDir dir;
    const TensorMap got = Model::load(with_config(v5, dir)).forward(inputs);
    for (const auto& [name, t] : want)
      EXPECT_EQ(std::memcmp(got.at(name).raw(), t.raw(), t.nbytes()), 0) << name;
  }
  auto expect_refused = [&](const nlohmann::json& config, const std::string& needle) {
    TempDir dir;
    try {
      Model::load(with_config(config, dir));
      ADD_FAILURE() << "loaded; expected '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  nlohmann::json scaled = v5;
  scaled["rope_parameters"]["sliding_attention"]["rope_type"] = "linear";
  expect_refused(scaled, "not the default rotary embedding");
  nlohmann::json contradicting = v5;
  contradicting["layer_types"][1] = "full_attention";
  expect_refused(contradicting, "layer_types[1] is full_attention but global_attn_every_n_layers 3 says otherwise");
  nlohmann::json old_scaling = original;
  old_scaling["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  expect_refused(old_scaling, "rope_scaling is set");
}

// NomicBERT's options that encore does not compute (or that the reference ignores or makes
// random) are refused in one line naming the key, instead of running as something else.
TEST(FamilyFixtures, NomicBertRefusesWhatItDoesNotCompute) {
  const fs::path fixture = kFamily / "nomic-bert-swiglu-h32";
  const nlohmann::json original = nlohmann::json::parse(std::ifstream(fixture / "model" / "config.json"));
  ASSERT_NO_THROW(Model::load((fixture / "model").string()));
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"prenorm", true}}, "prenorm: true"},
      {{{"parallel_block", true}}, "parallel_block: true"},
      {{{"use_rms_norm", true}}, "use_rms_norm: true"},
      {{{"causal", true}}, "causal: true"},
      {{{"rotary_emb_interleaved", true}}, "rotary_emb_interleaved: true"},
      {{{"rotary_scaling_factor", 2.0}}, "rotary_scaling_factor"},
      {{{"rotary_emb_scale_base", 512}}, "rotary_emb_scale_base"},
      {{{"moe_every_n_layers", 2}}, "moe_every_n_layers"},
      {{{"num_heads_kv", 1}}, "num_heads_kv"},
      {{{"attn_pdrop", 0.1}}, "attn_pdrop > 0"},
      {{{"activation_function", "glu"}}, "'glu'"},
      {{{"activation_function", "relu"}}, "'relu' is not one NomicBertModel accepts"},
      {{{"rotary_emb_fraction", 0.3}}, "rotary embeddings need an even count"},
  };
  for (const auto& [change, needle] : cases) {
    nlohmann::json config = original;
    config.update(change);
    TempDir dir;
    fs::copy_file(fixture / "model" / "model.safetensors", dir.path / "model.safetensors");
    std::ofstream(dir.path / "config.json") << config.dump();
    try {
      Model::load(dir.path.string());
      ADD_FAILURE() << change.dump() << " loaded; expected '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

// pytorch_model.bin (zip, and sharded with an index) as save_pretrained writes it for each
// architecture (tests/fixtures/formats/family, tools/reference/make_format_fixtures.py --part
// family): the same outputs, bit for bit, as the fixture's model.safetensors.
TEST(FamilyFixtures, PytorchModelBinGivesTheSafetensorsOutputs) {
  const fs::path formats = fs::path(ENCORE_FIXTURES_DIR) / "formats" / "family";
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(formats)) {
    const std::string name = e.path().filename().string();
    const std::string fixture = name.substr(0, name.rfind("-bin"));
    SCOPED_TRACE(name);
    ASSERT_FALSE(fs::exists(e.path() / "model.safetensors"));
    const Model want = Model::load((kFamily / fixture / "model").string());
    const Model got = Model::load(e.path().string());
    const TensorFile in = read_safetensors((kFamily / fixture / "ragged.in.safetensors").string());
    const TensorMap inputs(in.tensors.begin(), in.tensors.end());
    const TensorMap a = want.forward(inputs), b = got.forward(inputs);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [k, t] : a) {
      ASSERT_TRUE(b.count(k)) << k;
      const Tensor& u = b.at(k);
      ASSERT_EQ(t.shape(), u.shape()) << k;
      EXPECT_EQ(std::memcmp(t.raw(), u.raw(), t.nbytes()), 0) << k;
    }
    ++dirs;
  }
  EXPECT_GE(dirs, 8);
}

ENCORE_FAMILY(Roberta, "roberta", "xlm-roberta", "camembert");
ENCORE_FAMILY(DistilBert, "distilbert");
ENCORE_FAMILY(Electra, "electra");
ENCORE_FAMILY(Albert, "albert");
ENCORE_FAMILY(MPNet, "mpnet");
ENCORE_FAMILY(ModernBert, "modernbert");
ENCORE_FAMILY(DebertaV2, "deberta-v2");
ENCORE_FAMILY(NomicBert, "nomic_bert");

}  // namespace
}  // namespace encore::testing
