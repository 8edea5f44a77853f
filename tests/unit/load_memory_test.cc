// What Model::load keeps in memory (docs/checkpoints.md, "Load time and memory"):
// - the encoder Linears keep only their packed copy, and nn::dense_weight gives back the
//   checkpoint's tensors bit for bit (every core and format fixture: odd sizes take the
//   padded-layout path, Google kernels the [in, out] one, Q/K/V the three-block one);
// - export of a bf16 / int8 model reads the checkpoint again (its values, not rounded ones);
// - the file pages under packed weights and checksummed tensors leave the resident set
//   (the mapping's Rss in /proc/self/smaps), while views of the file stay valid;
// - the CRC fast paths and the half-precision conversion equal their portable forms.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ckpt_writers.h"
#include "encore/checkpoint.h"
#include "encore/safetensors.h"
#include "io/crc32.h"
#include "kernels/packed_linear.h"
#include "models/architecture.h"
#include "models/model_impl.h"
#include "models/weight_binder.h"
#include "models/weight_source.h"
#include "nn/encoder_layer.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Rows [first, first + rows) of a 2-D F32 tensor.
Tensor rows_of(const Tensor& t, int64_t first, int64_t rows) {
  Tensor out = Tensor::empty(DType::F32, {rows, t.size(1)});
  std::memcpy(out.raw_mut(), t.data<float>() + first * t.size(1), out.nbytes());
  return out;
}

// Every encoder Linear of the model at `dir`, as nn::dense_weight gives it back, against the
// checkpoint's tensors (WeightBinder: converted to F32, Google kernels transposed).
void expect_dense_weights_are_the_checkpoint(const fs::path& dir, const LoadOptions& lo = {}) {
  SCOPED_TRACE(dir.string());
  const Model model = Model::load(dir.string(), lo);
  const Model::Impl& m = impl_of(model);
  const ModelConfig& c = m.config;
  const BodyNames& n = m.arch->names;
  WeightSource src(dir);
  WeightBinder w(src, dir.string(), n.prefix, n.word);
  const int64_t H = c.hidden, I = c.intermediate;
  auto weight = [&](const LinearNames& l, int64_t i, int64_t out, int64_t in) {
    return w.linear_weight(expand(l.weight, i), l.in_out, out, in);
  };
  for (int64_t i = 0; i < c.layers; ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const nn::EncoderLayerWeights& L = m.layers[static_cast<size_t>(i)];
    for (const nn::Linear* l : {&L.attention.qkv, &L.attention.out, &L.feed_forward.in, &L.feed_forward.out}) {
      EXPECT_TRUE(l->packed);
      EXPECT_FALSE(l->weight.defined()) << "the dense source tensor is still referenced";
    }
    const Tensor qkv = nn::dense_weight(L.attention.qkv);
    if (!n.qkv.empty()) {
      EXPECT_TRUE(same_bits(qkv, weight(n.qkv, i, 3 * H, H)));
    } else {
      EXPECT_TRUE(same_bits(rows_of(qkv, 0, H), weight(n.query, i, H, H))) << "query";
      EXPECT_TRUE(same_bits(rows_of(qkv, H, H), weight(n.key, i, H, H))) << "key";
      EXPECT_TRUE(same_bits(rows_of(qkv, 2 * H, H), weight(n.value, i, H, H))) << "value";
    }
    EXPECT_TRUE(same_bits(nn::dense_weight(L.attention.out), weight(n.attention_out, i, H, H))) << "attention output";
    EXPECT_TRUE(same_bits(nn::dense_weight(L.feed_forward.in), weight(n.ffn_in, i, I, H))) << "ffn in";
    EXPECT_TRUE(same_bits(nn::dense_weight(L.feed_forward.out), weight(n.ffn_out, i, H, I))) << "ffn out";
  }
}

TEST(LoadMemory, DenseWeightsOfEveryCoreModelAreTheCheckpointBits) {
  for (const auto& e : fs::directory_iterator(fixture("core"))) expect_dense_weights_are_the_checkpoint(e.path() / "model");
}

TEST(LoadMemory, DenseWeightsOfEveryFormatAreTheCheckpointBits) {
  for (const char* f : {"bert-hf-bin", "bert-hf-bin-legacy", "bert-hf-bin-sharded", "bert-google-ckpt", "torch-pt"})
    expect_dense_weights_are_the_checkpoint(fixture(std::string("formats/") + f));
}

// A BERT checkpoint of a given width with random weights (HF names), for the tests below.
void write_bert(const fs::path& dir, int64_t H, int64_t I, int64_t layers, DType dtype = DType::F32) {
  fs::create_directories(dir);
  const int64_t vocab = 64, positions = 32;
  std::vector<std::pair<std::string, Tensor>> t;
  uint32_t seed = 1;
  auto add = [&](const std::string& name, Shape shape) {
    Tensor f = random_tensor(std::move(shape), seed++, 0.05f);
    if (dtype == DType::F32) {
      t.emplace_back(name, f);
      return;
    }
    Tensor h = Tensor::empty(dtype, f.shape());  // truncated to the top 16 bits: exact as BF16
    auto* o = static_cast<uint16_t*>(h.raw_mut());
    for (int64_t k = 0; k < f.numel(); ++k) {
      uint32_t u;
      std::memcpy(&u, f.data<float>() + k, 4);
      o[k] = static_cast<uint16_t>(u >> 16);
    }
    t.emplace_back(name, h);
  };
  add("embeddings.word_embeddings.weight", {vocab, H});
  add("embeddings.position_embeddings.weight", {positions, H});
  add("embeddings.token_type_embeddings.weight", {2, H});
  add("embeddings.LayerNorm.weight", {H});
  add("embeddings.LayerNorm.bias", {H});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* q : {"query", "key", "value"}) {
      add(p + "attention.self." + q + ".weight", {H, H});
      add(p + "attention.self." + q + ".bias", {H});
    }
    add(p + "attention.output.dense.weight", {H, H});
    add(p + "attention.output.dense.bias", {H});
    add(p + "attention.output.LayerNorm.weight", {H});
    add(p + "attention.output.LayerNorm.bias", {H});
    add(p + "intermediate.dense.weight", {I, H});
    add(p + "intermediate.dense.bias", {I});
    add(p + "output.dense.weight", {H, I});
    add(p + "output.dense.bias", {H});
    add(p + "output.LayerNorm.weight", {H});
    add(p + "output.LayerNorm.bias", {H});
  }
  write_safetensors((dir / "model.safetensors").string(), t);
  nlohmann::json config = {{"model_type", "bert"},         {"vocab_size", vocab},
                           {"hidden_size", H},             {"num_hidden_layers", layers},
                           {"num_attention_heads", 4},     {"intermediate_size", I},
                           {"max_position_embeddings", positions}, {"type_vocab_size", 2},
                           {"hidden_act", "gelu"}};
  std::ofstream(dir / "config.json") << config.dump();
}

TEST(LoadMemory, PackingFromBlocksEqualsPackingTheDenseMatrix) {
  // Q, K, V blocks (sub-memories of the packed layout when H is a multiple of oneDNN's 64,
  // a temporary dense copy otherwise) and TensorFlow kernels ([in, out]) against the plain
  // [out, in] constructor: the same products, bit for bit, for every compute type.
  for (int64_t H : {64, 40}) {
    const int64_t in = 48, T = 5;
    const Tensor w = random_tensor({3 * H, in}, 3), bias = random_tensor({3 * H}, 4), x = random_tensor({T, in}, 5);
    const float* q = w.data<float>();
    std::vector<float> kernels(static_cast<size_t>(3 * H * in));  // each block as [in, H]
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t r = 0; r < H; ++r)
        for (int64_t i = 0; i < in; ++i) kernels[static_cast<size_t>(b * H * in + i * H + r)] = q[(b * H + r) * in + i];
    for (ComputeType t : {ComputeType::F32, ComputeType::BF16, ComputeType::Int8}) {
      SCOPED_TRACE(std::string(compute_type_name(t)) + " H=" + std::to_string(H));
      const kernels::PackedLinear dense(q, bias.data<float>(), in, 3 * H, t);
      const kernels::PackedLinear rows({{q, H}, {q + H * in, H}, {q + 2 * H * in, H}}, bias.data<float>(), in, t);
      const float* k = kernels.data();
      const kernels::PackedLinear tf({{k, H, true}, {k + H * in, H, true}, {k + 2 * H * in, H, true}},
                                     bias.data<float>(), in, t);
      std::vector<float> want(static_cast<size_t>(T * 3 * H)), got(want.size());
      dense.run(want.data(), x.data<float>(), T);
      for (const kernels::PackedLinear* p : {&rows, &tf}) {
        p->run(got.data(), x.data<float>(), T);
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0);
      }
      if (t == ComputeType::F32) {
        std::vector<float> back(static_cast<size_t>(3 * H * in));
        for (const kernels::PackedLinear* p : {&dense, &rows, &tf}) {
          p->unpack(back.data());
          EXPECT_EQ(std::memcmp(back.data(), q, back.size() * 4), 0);
        }
      }
    }
  }
}

TEST(LoadMemory, Bf16SourceWeightsComeBackAsTheirF32Values) {
  TempDir tmp;
  write_bert(tmp.path / "bf16", 128, 256, 1, DType::BF16);
  expect_dense_weights_are_the_checkpoint(tmp.path / "bf16");
}

TEST(LoadMemory, ReducedPrecisionModelsExportTheCheckpointNotRoundedWeights) {
  TempDir tmp;
  const fs::path dir = fixture("core/bert-hf-gelu-abs-h36/model");
  const Model f32 = Model::load(dir.string());
  const int64_t layers = f32.config().layers;
  export_torch_encoder(f32, 0, layers, (tmp.path / "f32").string());
  const TensorFile want = read_safetensors((tmp.path / "f32" / "model.safetensors").string());
  for (ComputeType t : {ComputeType::BF16, ComputeType::Int8}) {
    SCOPED_TRACE(compute_type_name(t));
    LoadOptions lo;
    lo.dtype = t;
    const Model model = Model::load(dir.string(), lo);
    const nn::Linear& l = impl_of(model).layers[0].feed_forward.in;
    try {
      nn::dense_weight(l);
      ADD_FAILURE() << "dense_weight of a rounded packing did not throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("rounded"), std::string::npos) << e.what();
    }
    const fs::path out = tmp.path / compute_type_name(t);
    export_torch_encoder(model, 0, layers, out.string());
    const TensorFile got = read_safetensors((out / "model.safetensors").string());
    ASSERT_EQ(got.tensors.size(), want.tensors.size());
    for (const auto& [name, tensor] : want.tensors) EXPECT_TRUE(same_bits(got.tensors.at(name), tensor)) << name;
  }
}

// The resident size (kB) of this process's mappings of `file` (/proc/self/smaps); -1 when
// the file is not mapped.
long mapped_rss_kb(const fs::path& file) {
  const std::string want = fs::canonical(file).string();
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  long kb = -1;
  while (std::getline(smaps, line)) {
    std::istringstream ls(line);
    std::string first;
    ls >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {  // a mapping's header line
      std::string perms, offset, dev, inode, path;
      ls >> perms >> offset >> dev >> inode;
      std::getline(ls >> std::ws, path);
      in = path == want;
      if (in && kb < 0) kb = 0;
    } else if (in && first == "Rss:") {
      long v = 0;
      ls >> v;
      kb += v;
    }
  }
  return kb;
}

TEST(LoadMemory, PackedWeightsLeaveTheirFilePagesOutOfMemory) {
  // 2 layers of H=256, I=1024: 6 MB of Linear weights in the file. Packing reads them all;
  // afterwards only pages of what the model views (biases, norms; the embeddings are not
  // touched until used) may stay resident.
  TempDir tmp;
  write_bert(tmp.path, 256, 1024, 2);
  const fs::path file = tmp.path / "model.safetensors";
  const long file_kb = static_cast<long>(fs::file_size(file) / 1024);
  const Model model = Model::load(tmp.path.string());
  const long resident = mapped_rss_kb(file);
  ASSERT_GE(resident, 0) << "the model keeps the file mapped (its embeddings view it)";
  EXPECT_LT(resident, file_kb / 8) << "of a " << file_kb << " kB file";
  // Reading through the mapping still works.
  const Model::Impl& m = impl_of(model);
  const TensorFile again = read_safetensors(file.string());
  EXPECT_TRUE(same_bits(m.embeddings.word, again.tensors.at("embeddings.word_embeddings.weight")));
  EXPECT_TRUE(same_bits(nn::dense_weight(m.layers[1].feed_forward.out),
                        again.tensors.at("encoder.layer.1.output.dense.weight")));
}

TEST(LoadMemory, ChecksummedTensorsLeaveTheirFilePagesOutOfMemory) {
  // A 4 MB tensor in a torch zip and in a TF bundle: the readers checksum every byte, then
  // drop the pages; the returned view still reads the data (from the page cache).
  TempDir tmp;
  const int64_t numel = 1 << 20;
  std::string floats(static_cast<size_t>(numel) * 4, '\0');
  for (int64_t i = 0; i < numel; ++i) {
    const float v = static_cast<float>(i % 1000) * 0.5f;
    std::memcpy(&floats[static_cast<size_t>(i) * 4], &v, 4);
  }
  auto spit = [](const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; };
  auto check = [&](const TensorFile& tf, const fs::path& data_file) {
    const Tensor& w = tf.tensors.at("w");
    const long kb = mapped_rss_kb(data_file);
    EXPECT_GE(kb, 0) << data_file << " is not mapped";
    EXPECT_LT(kb, 512) << data_file;
    EXPECT_EQ(std::memcmp(w.raw(), floats.data(), floats.size()), 0);
  };
  const fs::path zip = tmp.path / "model.pt";
  // Padded so that the storage is 4-byte aligned, as torch.save aligns it (else the reader
  // copies it, and nothing views the file).
  const std::string pickle = one_tensor_pickle("w", numel, 0, {numel}, {1});
  const std::vector<ZipMember> head = {{"archive/data.pkl", pickle}, {"archive/byteorder", "little"}};
  size_t offset = 30 + std::string("archive/data/0").size();
  for (const ZipMember& z : head) offset += 30 + z.name.size() + z.data.size();
  offset += 30 + std::string("archive/pad").size();
  std::vector<ZipMember> members = head;
  members.push_back({"archive/pad", std::string((4 - offset % 4) % 4, 'x')});
  members.push_back({"archive/data/0", floats});
  spit(zip, make_zip(members));
  check(read_torch_checkpoint(zip.string()), zip);

  const std::string prefix = (tmp.path / "model.ckpt").string();
  BundleEntry e;
  e.shape = {numel};
  e.size = floats.size();
  e.crc32c = io::crc32c(floats.data(), floats.size());
  spit(prefix + ".index", make_table({{"", bundle_header(1)}, {"w", bundle_entry(e)}}));
  spit(prefix + ".data-00000-of-00001", floats);
  check(read_tf_checkpoint(prefix), prefix + ".data-00000-of-00001");
}

TEST(LoadMemory, CrcFastPathsEqualTheTables) {
  std::mt19937 rng(7);
  std::string buf(1 << 16, '\0');
  for (char& ch : buf) ch = static_cast<char>(rng());
  EXPECT_EQ(io::crc32("123456789", 9), 0xcbf43926u);
  EXPECT_EQ(io::crc32c("123456789", 9), 0xe3069283u);
  for (size_t n : {0, 1, 15, 16, 63, 64, 65, 127, 128, 200, 1000, 4096, 65535 - 3}) {
    for (size_t off : {0, 1, 3}) {
      for (uint32_t init : {0u, 0xdeadbeefu}) {
        EXPECT_EQ(io::crc32(buf.data() + off, n, init), io::crc32_portable(buf.data() + off, n, init)) << n;
        EXPECT_EQ(io::crc32c(buf.data() + off, n, init), io::crc32c_portable(buf.data() + off, n, init)) << n;
      }
    }
  }
  // Continuation: crc(a ++ b) == crc(b, crc(a)).
  EXPECT_EQ(io::crc32(buf.data(), 1000), io::crc32(buf.data() + 300, 700, io::crc32(buf.data(), 300)));
}

TEST(LoadMemory, HalfToFloatIsExactForEveryValue) {
  Tensor h = Tensor::empty(DType::F16, {65536});
  auto* p = static_cast<uint16_t*>(h.raw_mut());
  for (uint32_t i = 0; i < 65536; ++i) p[i] = static_cast<uint16_t>(i);
  const Tensor f = h.to_f32();
  for (uint32_t i = 0; i < 65536; ++i) {
    const int sign = (i >> 15) ? -1 : 1, exp = static_cast<int>((i >> 10) & 31), mant = static_cast<int>(i & 1023);
    const float got = f.data<float>()[i];
    if (exp == 31) {  // Inf, or NaN with its payload in the top mantissa bits
      uint32_t bits;
      std::memcpy(&bits, &got, 4);
      ASSERT_EQ(bits, ((i & 0x8000u) << 16) | 0x7f800000u | (static_cast<uint32_t>(mant) << 13)) << i;
      continue;
    }
    const double want = sign * (exp ? std::ldexp(1024 + mant, exp - 25) : std::ldexp(mant, -24));
    ASSERT_EQ(static_cast<double>(got), want) << i;
    ASSERT_EQ(std::signbit(got), sign < 0) << i;
  }
}

}  // namespace
}  // namespace encore::testing
