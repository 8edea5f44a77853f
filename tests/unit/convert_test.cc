// encore convert (include/encore/convert.h):
// - every checkpoint format -> HF (and torch -> torch) loads and forwards bit-identically to
//   the original on the core fixture inputs;
// - Google -> HF writes the transposed originals bit for bit, heads included, and back;
// - HF -> torch -> HF (encoder-only) gives the encoder layers bit for bit, in a directory
//   that does not load as a model;
// - a sentence-transformers model keeps its files (hf, google-safetensors) or, for torch,
//   is refused unless they are dropped explicitly;
// - bad input is one encore::Error line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/checkpoint.h"
#include "encore/convert.h"
#include "encore/safetensors.h"
#include "parity/fixture.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

Tensor transposed(const Tensor& t) {
  const int64_t r = t.size(0), c = t.size(1);
  Tensor out = Tensor::zeros(DType::F32, {c, r});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) out.data<float>()[j * r + i] = t.data<float>()[i * c + j];
  return out;
}

TensorFile read_dir(const fs::path& dir) { return read_safetensors((dir / "model.safetensors").string()); }

std::vector<FixtureCase> cases_of(const std::string& core_model) {
  std::vector<FixtureCase> out;
  for (const auto& c : all_core_cases())
    if (c.model == core_model) out.push_back(c);
  return out;
}

// Google's inputs and outputs under HF's names (the same tensors).
std::string hf_output_name(const std::string& g) {
  if (g == "sequence_output") return "last_hidden_state";
  if (g == "pooled_output") return "pooler_output";
  if (g == "embedding_output") return "hidden_states.0";
  const std::string p = "all_encoder_layers.";
  if (g.rfind(p, 0) == 0) return "hidden_states." + std::to_string(std::stoi(g.substr(p.size())) + 1);
  return g;
}

// Converts `src` to `to`, loads both and compares every output of every case of `core_model`
// bit for bit. Google -> HF renames inputs and outputs and skips the fully masked case, where
// the dialects' mask fills (-10000 vs finfo.min) are meant to differ.
void expect_same_forward(const fs::path& src, const std::string& core_model, ConvertTarget to = ConvertTarget::HF) {
  SCOPED_TRACE(src.string());
  const std::vector<FixtureCase> cases = cases_of(core_model);
  ASSERT_FALSE(cases.empty()) << core_model;
  const LoadOptions lo = load_options_of(cases.front());
  TempDir tmp;
  ConvertOptions co;
  co.to = to;
  co.activation = lo.activation;
  convert_checkpoint(src.string(), (tmp.path / "out").string(), co);
  const Model original = Model::load(src.string(), lo);
  const Model converted = Model::load((tmp.path / "out").string());
  const bool google = original.config().dialect == Dialect::BertGoogle && converted.config().dialect != Dialect::BertGoogle;
  for (const auto& c : cases) {
    if (google && c.name == "fully_masked") continue;
    SCOPED_TRACE(c.label());
    const TensorFile in = read_safetensors((c.dir / (c.name + ".in.safetensors")).string());
    TensorMap inputs(in.tensors.begin(), in.tensors.end()), renamed;
    for (const auto& [n, t] : inputs) renamed[google && n == "input_mask" ? "attention_mask" : n] = t;
    const ForwardOptions fo = forward_options_of(c);
    const TensorMap want = original.forward(inputs, fo), got = converted.forward(renamed, fo);
    EXPECT_EQ(want.size(), got.size());
    for (const auto& [name, t] : want) {
      auto it = got.find(google ? hf_output_name(name) : name);
      ASSERT_NE(it, got.end()) << name;
      EXPECT_TRUE(same_bytes(it->second, t)) << name << " differs";
    }
  }
}

// fn() throws one encore::Error line containing `needle`, and `dst` is not created.
template <class Fn>
void expect_error(Fn&& fn, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(needle), std::string::npos) << "expected '" << needle << "' in: " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    return;
  }
  ADD_FAILURE() << "no error; expected '" << needle << "'";
}

TEST(Convert, EveryFormatToHfForwardsIdentically) {
  for (const char* f : {"bert-hf-bin", "bert-hf-bin-legacy", "bert-hf-bin-sharded"})
    expect_same_forward(fixture(std::string("formats/") + f), "bert-hf-gelu-abs-h36");
  expect_same_forward(fixture("formats/bert-google-ckpt"), "bert-google-erf-h36");
  expect_same_forward(fixture("formats/torch-pt"), "torch-relu-pre-nobias-sf-d32", ConvertTarget::Torch);
}

TEST(Convert, EveryCoreModelToHfForwardsIdentically) {
  for (const auto& e : fs::directory_iterator(fixture("core"))) {
    const std::string name = e.path().filename().string();
    const bool torch = name.rfind("torch-", 0) == 0;
    expect_same_forward(e.path() / "model", name, torch ? ConvertTarget::Torch : ConvertTarget::HF);
  }
}

TEST(Convert, GoogleSafetensorsRoundTripForwardsIdentically) {
  // HF -> Google names -> HF: the erf GELU needs --activation gelu_erf on the Google side.
  TempDir tmp;
  const fs::path hf = fixture("core/bert-hf-gelu-abs-h36/model");
  ConvertOptions co;
  co.to = ConvertTarget::Google;
  const ConvertReport r = convert_checkpoint(hf.string(), (tmp.path / "g").string(), co);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("gelu_erf"), std::string::npos);
  co.to = ConvertTarget::HF;
  co.activation = "gelu_erf";
  convert_checkpoint((tmp.path / "g").string(), (tmp.path / "h").string(), co);
  const TensorFile a = read_safetensors((hf / "model.safetensors").string());
  const TensorFile b = read_safetensors((tmp.path / "h/model.safetensors").string());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [n, t] : a.tensors) EXPECT_TRUE(b.tensors.count(n) && same_bytes(b.tensors.at(n), t)) << n;
  expect_same_forward(tmp.path / "h", "bert-hf-gelu-abs-h36");
}

// Google's variable name -> HF's, by string rules independent of the converter's tables.
std::string google_to_hf(std::string n, bool* transpose) {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at; (at = n.find(from)) != std::string::npos;) n.replace(at, from.size(), to);
  };
  if (n.rfind("bert/", 0) == 0) n = n.substr(5);
  replace("layer_", "layer.");
  replace("/", ".");
  auto ends = [&](const std::string& s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
  *transpose = ends(".kernel");
  if (ends(".kernel")) n = n.substr(0, n.size() - 7) + ".weight";
  if (ends(".gamma")) n = n.substr(0, n.size() - 6) + ".weight";
  if (ends(".beta")) n = n.substr(0, n.size() - 5) + ".bias";
  if (ends("_embeddings")) n += ".weight";
  return n;
}

TEST(Convert, GoogleCheckpointToHfTensorsAreTransposedOriginals) {
  TempDir tmp;
  ConvertOptions co;
  co.activation = "gelu_erf";
  const fs::path src = fixture("formats/bert-google-ckpt");
  const ConvertReport r = convert_checkpoint(src.string(), (tmp.path / "hf").string(), co);
  EXPECT_TRUE(r.notes.empty());
  const TensorFile g = read_tf_checkpoint((src / "bert_model.ckpt").string());
  const TensorFile h = read_dir(tmp.path / "hf");
  EXPECT_EQ(h.metadata.at("format"), "pt");
  size_t compared = 0;
  for (const auto& [name, t] : g.tensors) {
    if (name.find("adam_") != std::string::npos || name == "global_step") continue;
    bool transpose = false;
    const std::string hn = google_to_hf(name, &transpose);
    ASSERT_TRUE(h.tensors.count(hn)) << name << " -> " << hn;
    EXPECT_TRUE(same_bytes(h.tensors.at(hn), transpose ? transposed(t) : t)) << name;
    ++compared;
  }
  EXPECT_EQ(compared, h.tensors.size());
  std::ifstream f(tmp.path / "hf/config.json");
  const nlohmann::json config = nlohmann::json::parse(f);
  EXPECT_EQ(config["model_type"], "bert");
  EXPECT_EQ(config["hidden_act"], "gelu");  // erf, as --activation said
  EXPECT_EQ(config["type_vocab_size"], 3);
}

// A Google checkpoint with MLM, NSP and classifier heads (core weights plus heads).
fs::path google_with_heads(const fs::path& dir) {
  const fs::path core = fixture("core/bert-google-erf-h36/model");
  const TensorFile base = read_dir(core);
  std::vector<std::pair<std::string, Tensor>> all(base.tensors.begin(), base.tensors.end());
  all.emplace_back("cls/predictions/transform/dense/kernel", random_tensor({36, 36}, 1));
  all.emplace_back("cls/predictions/transform/dense/bias", random_tensor({36}, 2));
  all.emplace_back("cls/predictions/transform/LayerNorm/gamma", random_tensor({36}, 3));
  all.emplace_back("cls/predictions/transform/LayerNorm/beta", random_tensor({36}, 4));
  all.emplace_back("cls/predictions/output_bias", random_tensor({64}, 5));
  all.emplace_back("cls/seq_relationship/output_weights", random_tensor({2, 36}, 6));
  all.emplace_back("cls/seq_relationship/output_bias", random_tensor({2}, 7));
  all.emplace_back("output_weights", random_tensor({5, 36}, 8));
  all.emplace_back("output_bias", random_tensor({5}, 9));
  fs::create_directories(dir);
  fs::copy_file(core / "bert_config.json", dir / "bert_config.json");
  write_safetensors((dir / "model.safetensors").string(), all);
  return dir;
}

TEST(Convert, GoogleHeadsBecomeHfHeadsAndBack) {
  TempDir tmp;
  const fs::path src = google_with_heads(tmp.path / "g");
  convert_checkpoint(src.string(), (tmp.path / "hf").string());
  const TensorFile g = read_dir(src), h = read_dir(tmp.path / "hf");
  auto expect = [&](const std::string& hn, const std::string& gn, bool transpose) {
    ASSERT_TRUE(h.tensors.count(hn)) << hn;
    EXPECT_TRUE(same_bytes(h.tensors.at(hn), transpose ? transposed(g.tensors.at(gn)) : g.tensors.at(gn))) << hn;
  };
  expect("cls.predictions.transform.dense.weight", "cls/predictions/transform/dense/kernel", true);
  expect("cls.predictions.transform.LayerNorm.weight", "cls/predictions/transform/LayerNorm/gamma", false);
  expect("cls.predictions.bias", "cls/predictions/output_bias", false);
  expect("cls.seq_relationship.weight", "cls/seq_relationship/output_weights", false);
  expect("classifier.weight", "output_weights", false);
  expect("classifier.bias", "output_bias", false);
  expect("bert.encoder.layer.1.attention.self.query.weight", "bert/encoder/layer_1/attention/self/query/kernel", true);
  expect("bert.pooler.dense.weight", "bert/pooler/dense/kernel", true);
  EXPECT_EQ(h.tensors.size(), g.tensors.size());
  std::ifstream f(tmp.path / "hf/config.json");
  const nlohmann::json config = nlohmann::json::parse(f);
  EXPECT_EQ(config["architectures"][0], "BertForPreTraining");
  EXPECT_EQ(config["id2label"].size(), 5u);
  EXPECT_EQ(config["hidden_act"], "gelu_new");  // Google's "gelu" is the tanh form
  // The model loads (heads are not part of it) and back to Google's names, bit for bit.
  EXPECT_EQ(Model::load((tmp.path / "hf").string()).config().layer.feed_forward.activation, Activation::GeluTanh);
  ConvertOptions co;
  co.to = ConvertTarget::Google;
  convert_checkpoint((tmp.path / "hf").string(), (tmp.path / "g2").string(), co);
  const TensorFile back = read_dir(tmp.path / "g2");
  EXPECT_EQ(back.tensors.size(), g.tensors.size());
  for (const auto& [n, t] : g.tensors) EXPECT_TRUE(back.tensors.count(n) && same_bytes(back.tensors.at(n), t)) << n;
}

TEST(Convert, HfTorchHfEncoderLayersBitExact) {
  for (const char* name : {"bert-hf-gelu-abs-h36", "bert-hf-relu-abs-h34", "bert-hf-fast-abs-h32"}) {
    SCOPED_TRACE(name);
    TempDir tmp;
    const fs::path hf = fixture(std::string("core/") + name + "/model");
    ConvertOptions co;
    co.to = ConvertTarget::Torch;
    if (std::string(name) == "bert-hf-fast-abs-h32") {  // gelu_new: no torch spelling
      EXPECT_THROW(convert_checkpoint(hf.string(), (tmp.path / "t").string(), co), Error);
      EXPECT_FALSE(fs::exists(tmp.path / "t"));
      continue;
    }
    const ConvertReport r = convert_checkpoint(hf.string(), (tmp.path / "t").string(), co);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("are kept in encore_source/"), std::string::npos);
    EXPECT_EQ(Model::load((tmp.path / "t").string()).config().dialect, Dialect::Torch);
    co.to = ConvertTarget::HF;
    fs::copy(tmp.path / "t", tmp.path / "bare", fs::copy_options::recursive);
    fs::remove_all(tmp.path / "bare/encore_source");
    EXPECT_THROW(convert_checkpoint((tmp.path / "bare").string(), (tmp.path / "h").string(), co), Error);
    co.encoder_only = true;
    convert_checkpoint((tmp.path / "t").string(), (tmp.path / "h").string(), co);
    expect_error([&] { Model::load((tmp.path / "h").string()); }, "encoder layers only");
    const TensorFile a = read_dir(hf), b = read_dir(tmp.path / "h");
    size_t layers = 0;
    for (const auto& [n, t] : a.tensors) {
      if (n.rfind("encoder.layer.", 0) != 0) continue;
      ++layers;
      EXPECT_TRUE(b.tensors.count(n) && same_bytes(b.tensors.at(n), t)) << n;
    }
    EXPECT_EQ(layers, b.tensors.size());
    std::ifstream f(tmp.path / "h/config.json");
    const nlohmann::json config = nlohmann::json::parse(f);
    std::ifstream f0(hf / "config.json");
    const nlohmann::json original = nlohmann::json::parse(f0);
    for (const char* key : {"hidden_act", "layer_norm_eps", "hidden_size", "num_attention_heads", "intermediate_size"})
      EXPECT_EQ(config[key], original[key]) << key;
  }
}

TEST(Convert, CopiesTokenizerFilesAndReplacesWithForce) {
  TempDir tmp;
  const fs::path src = tmp.path / "src";
  fs::copy(fixture("core/bert-hf-gelu-abs-h36/model"), src);
  for (const char* f : {"vocab.txt", "tokenizer_config.json"}) std::ofstream(src / f) << f << "\n";
  fs::create_directories(tmp.path / "dst");
  std::ofstream(tmp.path / "dst/transformer_encoder.json") << "{}";
  ConvertOptions co;
  EXPECT_THROW(convert_checkpoint(src.string(), (tmp.path / "dst").string(), co), Error);
  co.force = true;
  const ConvertReport r = convert_checkpoint(src.string(), (tmp.path / "dst/").string(), co);
  EXPECT_EQ(r.files, (std::vector<std::string>{"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"}));
  EXPECT_FALSE(fs::exists(tmp.path / "dst/transformer_encoder.json"));
  EXPECT_TRUE(fs::exists(tmp.path / "dst/vocab.txt"));
  EXPECT_EQ(Model::load((tmp.path / "dst").string()).config().dialect, Dialect::BertHF);
  for (const auto& e : fs::directory_iterator(tmp.path))  // no temporary left behind
    EXPECT_TRUE(e.path().filename() == "src" || e.path().filename() == "dst") << e.path();
}

std::string file_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A small BERT directory dressed as a sentence-transformers model: Transformer at "",
// Pooling and Dense with files, Normalize without a directory (as on the Hub); one path
// with a trailing slash.
fs::path make_sentence_transformers_dir(const fs::path& at) {
  fs::copy(fixture("core/bert-hf-gelu-abs-h36/model"), at);
  std::ofstream(at / "modules.json")
      << R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling/", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}])";
  std::ofstream(at / "sentence_bert_config.json") << R"({"max_seq_length": 16, "do_lower_case": false})";
  std::ofstream(at / "config_sentence_transformers.json") << R"({"prompts": {"query": "query: "}})";
  fs::create_directories(at / "1_Pooling");
  std::ofstream(at / "1_Pooling/config.json") << R"({"word_embedding_dimension": 36, "pooling_mode_cls_token": true})";
  fs::create_directories(at / "2_Dense");
  std::ofstream(at / "2_Dense/config.json") << R"({"in_features": 36, "out_features": 8})";
  std::ofstream(at / "2_Dense/model.safetensors") << "stands for the Dense weights";
  return at;
}

const std::vector<std::string> kSentenceTransformersFiles = {
    "modules.json",          "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "2_Dense/config.json",       "2_Dense/model.safetensors"};

TEST(Convert, KeepsSentenceTransformersFilesUnchanged) {
  TempDir tmp;
  const fs::path src = make_sentence_transformers_dir(tmp.path / "st");
  for (const ConvertTarget to : {ConvertTarget::HF, ConvertTarget::Google}) {
    SCOPED_TRACE(convert_target_name(to));
    const fs::path dst = tmp.path / convert_target_name(to);
    ConvertOptions co;
    co.to = to;
    const ConvertReport r = convert_checkpoint(src.string(), dst.string(), co);
    for (const std::string& f : kSentenceTransformersFiles) {
      ASSERT_TRUE(fs::is_regular_file(dst / f)) << f;
      EXPECT_EQ(file_text(dst / f), file_text(src / f)) << f;
    }
    EXPECT_FALSE(fs::exists(dst / "3_Normalize"));  // absent in the source: nothing to copy
    for (const char* f : {"modules.json", "1_Pooling", "2_Dense"})
      EXPECT_NE(std::find(r.files.begin(), r.files.end(), f), r.files.end()) << f;
    const bool noted = std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
      return n.find("sentence-transformers files kept") != std::string::npos;
    });
    EXPECT_EQ(noted, to == ConvertTarget::Google);  // Google's layout: only encore reads them there
  }
  EXPECT_EQ(Model::load((tmp.path / "hf").string()).config().dialect, Dialect::BertHF);
}

// --to torch keeps what the torch layout cannot hold (embeddings, pooler, config, tokenizer,
// the sentence-transformers files) in encore_source/, so that --to hf gives the model back:
// the same tensors, bit for bit, and the same files.
TEST(Convert, TorchRoundTripRestoresTheModel) {
  TempDir tmp;
  const fs::path src = make_sentence_transformers_dir(tmp.path / "st");
  const fs::path t = tmp.path / "t", back = tmp.path / "back";
  ConvertOptions co;
  co.to = ConvertTarget::Torch;
  const ConvertReport r = convert_checkpoint(src.string(), t.string(), co);
  for (const char* f : {"encore_source/modules.json", "encore_source/2_Dense", "encore_source/rest.safetensors",
                        "encore_source/config.json"})
    EXPECT_NE(std::find(r.files.begin(), r.files.end(), f), r.files.end()) << f;
  EXPECT_EQ(Model::load(t.string()).config().dialect, Dialect::Torch);  // still a PyTorch encoder
  co.to = ConvertTarget::HF;
  const ConvertReport h = convert_checkpoint(t.string(), back.string(), co);
  EXPECT_EQ(h.from, Dialect::Torch);
  EXPECT_NE(h.notes.at(0).find("restored the bert-hf model kept in encore_source/"), std::string::npos);
  for (const std::string& f : kSentenceTransformersFiles) EXPECT_EQ(file_text(back / f), file_text(src / f)) << f;
  EXPECT_EQ(file_text(back / "config.json"), file_text(src / "config.json"));
  const TensorFile a = read_safetensors((src / "model.safetensors").string());
  const TensorFile b = read_safetensors((back / "model.safetensors").string());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, x] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    const Tensor& y = b.tensors.at(name);
    ASSERT_EQ(x.shape(), y.shape()) << name;
    ASSERT_EQ(x.dtype(), y.dtype()) << name;
    EXPECT_EQ(std::memcmp(x.raw(), y.raw(), x.nbytes()), 0) << name;
  }
  // Without encore_source/ there is nothing to restore from: one line, as before.
  fs::remove_all(t / "encore_source");
  expect_error([&] { convert_checkpoint(t.string(), (tmp.path / "none").string(), co); },
               "has no embeddings or pooler, so it cannot become a BERT model");
  // --drop-sentence-transformers: dropped, and said so; the model itself still comes back.
  co.to = ConvertTarget::Torch;
  co.drop_sentence_transformers = true;
  const ConvertReport d = convert_checkpoint(src.string(), (tmp.path / "t2").string(), co);
  EXPECT_TRUE(std::any_of(d.notes.begin(), d.notes.end(), [](const std::string& n) {
    return n.find("sentence-transformers files not written") != std::string::npos &&
           n.find("'2_Dense'") != std::string::npos;
  }));
  EXPECT_FALSE(fs::exists(tmp.path / "t2/encore_source/modules.json"));
  co.to = ConvertTarget::HF;
  co.drop_sentence_transformers = false;
  convert_checkpoint((tmp.path / "t2").string(), (tmp.path / "back2").string(), co);
  EXPECT_FALSE(fs::exists(tmp.path / "back2/modules.json"));
  EXPECT_EQ(Model::load((tmp.path / "back2").string()).config().dialect, Dialect::BertHF);
}

// ModernBERT, DeBERTa-v2 and NomicBERT have one layout each: --to hf rewrites the directory with the same
// tensors (forward identical bit for bit on every case of their fixtures); --to torch and --to
// google-safetensors are refused in one line (their layers are not TransformerEncoderLayers).
TEST(Convert, NewAttentionFamiliesToHfIdenticallyElseRefused) {
  int dirs = 0;
  std::string last;
  for (const FixtureCase& c : all_cases(fixture("family"))) {
    const std::string type = c.spec.value("model_type", "");
    if ((type != "modernbert" && type != "deberta-v2" && type != "nomic_bert") || c.spec.contains("head")) continue;
    SCOPED_TRACE(c.label());
    const fs::path src = c.dir / "model";
    TempDir tmp;
    ConvertOptions co;
    convert_checkpoint(src.string(), (tmp.path / "out").string(), co);
    const Model original = Model::load(src.string()), converted = Model::load((tmp.path / "out").string());
    const TensorFile in = read_safetensors((c.dir / (c.name + ".in.safetensors")).string());
    const TensorMap inputs(in.tensors.begin(), in.tensors.end());
    const ForwardOptions fo = forward_options_of(c);
    const TensorMap want = original.forward(inputs, fo), got = converted.forward(inputs, fo);
    ASSERT_EQ(want.size(), got.size());
    for (const auto& [name, t] : want) EXPECT_TRUE(same_bytes(got.at(name), t)) << name;
    if (c.model != last) {
      ++dirs, last = c.model;
      for (ConvertTarget to : {ConvertTarget::Torch, ConvertTarget::Google}) {
        co.to = to;
        expect_error([&] { convert_checkpoint(src.string(), (tmp.path / "other").string(), co); },
                     to == ConvertTarget::Torch ? "no nn.TransformerEncoderLayer equivalent" : "layout");
        EXPECT_FALSE(fs::exists(tmp.path / "other"));
      }
    }
  }
  EXPECT_GE(dirs, 11);
}

TEST(Convert, BadInputIsOneLine) {
  TempDir tmp;
  const std::string dst = (tmp.path / "out").string();
  const std::string hf = fixture("core/bert-hf-gelu-abs-h36/model").string();
  ConvertOptions co;
  expect_error([&] { convert_checkpoint((tmp.path / "nope").string(), dst, co); }, "nope: not a directory");
  fs::create_directories(tmp.path / "empty");
  std::ofstream(tmp.path / "empty/weights.onnx") << "x";
  expect_error([&] { convert_checkpoint((tmp.path / "empty").string(), dst, co); }, "not a model directory");
  expect_error([&] { convert_checkpoint(hf, (tmp.path / "empty").string(), co); }, "exists and is not empty (--force");
  co.force = true;
  expect_error([&] { convert_checkpoint(hf, hf, co); }, "is (or contains) the source directory");
  co.force = false;
  co.to = ConvertTarget::Torch;
  expect_error([&] { convert_checkpoint(fixture("core/bert-google-tanh-h40/model").string(), dst, co); },
               "has no nn.TransformerEncoderLayer spelling");
  expect_error([&] { convert_checkpoint(fixture("core/bert-hf-gelunew-relkey-h44/model").string(), dst, co); },
               "relative position");
  co.to = ConvertTarget::HF;
  expect_error([&] { convert_checkpoint(fixture("core/torch-relu-post-sf-d36/model").string(), dst, co); },
               "--encoder-only");
  co.encoder_only = true;
  expect_error([&] { convert_checkpoint(fixture("core/torch-relu-post-sf-d36/model").string(), dst, co); },
               "final norm");
  expect_error([&] { convert_checkpoint(hf, dst, co); }, "--encoder-only converts a PyTorch");
  co.encoder_only = false;
  co.to = ConvertTarget::Google;
  expect_error([&] { convert_checkpoint(fixture("core/bert-hf-quick-relkey-h40/model").string(), dst, co); },
               "relative position");
  co.activation = "silu";
  expect_error([&] { convert_checkpoint(hf, dst, co); }, "no Google BERT spelling");
  expect_error([] { convert_target_from_name("onnx"); }, "unknown conversion target 'onnx'");
  co = ConvertOptions{};
  fs::copy(fixture("core/bert-hf-gelu-abs-h36/model"), tmp.path / "st");
  for (const auto& [modules, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"path": "1_Pooling"})", "modules.json: expected a list of modules"},
           {R"([{"type": "Pooling"}])", "every module needs a string \"path\""},
           {R"([{"path": "../elsewhere"}])", "module path '../elsewhere' is outside the model directory"},
           {R"([{"path": "/etc"}])", "module path '/etc' is outside the model directory"}}) {
    std::ofstream(tmp.path / "st/modules.json") << modules;
    expect_error([&] { convert_checkpoint((tmp.path / "st").string(), dst, co); }, message);
  }
  fs::remove_all(tmp.path / "st");
  EXPECT_FALSE(fs::exists(dst));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()), 1);  // only empty/
}

}  // namespace
}  // namespace encore::testing
