// The torch.save and TensorFlow-bundle readers (include/encore/checkpoint.h):
// - every format of tests/fixtures/formats loads to tensors bit-identical to the core
//   fixture's safetensors, and Model::load of each directory gives the same outputs;
// - bad input of every kind is one encore::Error line naming the file, never a crash.
// Set ENCORE_PRINT_ERRORS=1 to print each bad-input message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "ckpt_writers.h"
#include "encore/checkpoint.h"
#include "encore/safetensors.h"
#include "io/byte_reader.h"
#include "parity/fixture.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;

fs::path formats(const std::string& rel) { return fixture("formats/" + rel); }
fs::path core_model(const std::string& name) { return fixture("core/" + name + "/model"); }

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

// Every tensor of `want` is in `got` with the same dtype, shape and bytes.
void expect_contains(const TensorFile& got, const TensorFile& want) {
  for (const auto& [name, t] : want.tensors) {
    auto it = got.tensors.find(name);
    ASSERT_NE(it, got.tensors.end()) << got.path << ": missing '" << name << "'";
    EXPECT_TRUE(same_bytes(it->second, t)) << got.path << ": '" << name << "' " << dtype_name(it->second.dtype())
                                           << shape_string(it->second.shape()) << " differs from "
                                           << dtype_name(t.dtype()) << shape_string(t.shape());
  }
}
void expect_same(const TensorFile& got, const TensorFile& want) {
  EXPECT_EQ(got.tensors.size(), want.tensors.size()) << got.path;
  expect_contains(got, want);
}

// fn() must throw one encore::Error line that names `file` and contains `needle`.
template <class Fn>
void expect_error(Fn&& fn, const std::string& file, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(file), std::string::npos) << "message does not name " << file << ": " << m;
    EXPECT_NE(m.find(needle), std::string::npos) << "expected '" << needle << "' in: " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    if (std::getenv("ENCORE_PRINT_ERRORS")) std::cout << "  error: " << m << "\n";
    return;
  }
  ADD_FAILURE() << "no error; expected '" << needle << "'";
}

// ============================================================ good files: tensors

TEST(CkptFormats, TorchZipMatchesSafetensors) {
  const TensorFile want = read_safetensors((core_model("bert-hf-gelu-abs-h36") / "model.safetensors").string());
  expect_same(read_torch_checkpoint(formats("bert-hf-bin/pytorch_model.bin").string()), want);
}

TEST(CkptFormats, TorchLegacyMatchesSafetensors) {
  const TensorFile want = read_safetensors((core_model("bert-hf-gelu-abs-h36") / "model.safetensors").string());
  expect_same(read_torch_checkpoint(formats("bert-hf-bin-legacy/pytorch_model.bin").string()), want);
}

TEST(CkptFormats, TorchShardsTogetherMatchSafetensors) {
  const TensorFile want = read_safetensors((core_model("bert-hf-gelu-abs-h36") / "model.safetensors").string());
  TensorFile all;
  for (const auto& e : fs::directory_iterator(formats("bert-hf-bin-sharded"))) {
    if (e.path().extension() != ".bin") continue;
    TensorFile shard = read_torch_checkpoint(e.path().string());
    EXPECT_LT(shard.tensors.size(), want.tensors.size()) << "each shard holds only some tensors";
    all.tensors.insert(shard.tensors.begin(), shard.tensors.end());
  }
  all.path = "shards";
  expect_same(all, want);
}

TEST(CkptFormats, TorchEncoderStateDictMatchesSafetensors) {
  const TensorFile want = read_safetensors((core_model("torch-relu-pre-nobias-sf-d32") / "model.safetensors").string());
  expect_same(read_torch_checkpoint(formats("torch-pt/model.pt").string()), want);
}

// Non-contiguous views, storage offsets, shared storages, every dtype, 0-d, empty,
// nn.Parameter: in both torch formats.
TEST(CkptFormats, TorchLayouts) {
  const TensorFile want = read_safetensors(formats("layouts/layouts.safetensors").string());
  ASSERT_GE(want.tensors.size(), 20u);
  for (const char* name : {"layouts.pt", "layouts-legacy.pt"}) {
    const TensorFile got = read_torch_checkpoint(formats(std::string("layouts/") + name).string());
    expect_same(got, want);
  }
  // The zip format aligns storages to 64 bytes: contiguous tensors are views of the mapped
  // file, and tensors sharing a storage share memory.
  const TensorFile zip = read_torch_checkpoint(formats("layouts/layouts.pt").string());
  const auto* base = static_cast<const char*>(zip.tensors.at("contiguous").raw());
  EXPECT_EQ(zip.tensors.at("tied").raw(), base);
  EXPECT_EQ(zip.tensors.at("flat_view").raw(), base);
  EXPECT_EQ(zip.tensors.at("row").raw(), base + 12 * sizeof(float));
  EXPECT_NE(zip.tensors.at("transposed").raw(), base);  // a copy, transposed
}

TEST(CkptFormats, TfBundleMatchesSafetensors) {
  const TensorFile want = read_safetensors((core_model("bert-google-erf-h36") / "model.safetensors").string());
  const TensorFile got = read_tf_checkpoint(formats("bert-google-ckpt/bert_model.ckpt").string());
  expect_contains(got, want);
  // The reader returns training state too; WeightSource skips it.
  EXPECT_EQ(got.tensors.size(), want.tensors.size() + 2 * 3 + 1);
  ASSERT_TRUE(got.tensors.count("global_step"));
  EXPECT_EQ(got.tensors.at("global_step").dtype(), DType::I64);
  EXPECT_EQ(got.tensors.at("global_step").data<int64_t>()[0], 1000);
  EXPECT_TRUE(got.tensors.count("bert/pooler/dense/kernel/adam_m"));
  // A trailing ".index" names the same checkpoint.
  expect_same(read_tf_checkpoint(formats("bert-google-ckpt/bert_model.ckpt.index").string()), got);
}

TEST(CkptFormats, TfLayoutsAcrossTwoShards) {
  const TensorFile want = read_safetensors(formats("layouts-tf/expected.safetensors").string());
  const TensorFile got = read_tf_checkpoint(formats("layouts-tf/model.ckpt").string());
  EXPECT_FALSE(got.tensors.count("text")) << "string tensors are skipped";
  EXPECT_EQ(got.tensors.size(), want.tensors.size());
  const std::map<std::string, DType> dtypes = {{"f32", DType::F32},  {"f64", DType::F64}, {"f16", DType::F16},
                                               {"bf16", DType::BF16}, {"i32", DType::I32}, {"i64", DType::I64},
                                               {"scalar", DType::F32}, {"empty", DType::F32},
                                               {"scope/nested/name", DType::F32}};
  for (const auto& [name, dtype] : dtypes) {
    ASSERT_TRUE(got.tensors.count(name)) << name;
    const Tensor& t = got.tensors.at(name);
    const Tensor& w = want.tensors.at(name);
    EXPECT_EQ(t.dtype(), dtype) << name;
    const bool integer = dtype == DType::I32 || dtype == DType::I64;
    EXPECT_TRUE(same_bytes(integer ? t.to_i64() : t.to_f32(), w)) << name;
  }
}

// ============================================================ good files: models

struct FormatDir {
  const char* dir;   // under formats/
  const char* core;  // the core fixture with the same weights
};
const FormatDir kFormatDirs[] = {
    {"bert-hf-bin", "bert-hf-gelu-abs-h36"},
    {"bert-hf-bin-legacy", "bert-hf-gelu-abs-h36"},
    {"bert-hf-bin-sharded", "bert-hf-gelu-abs-h36"},
    {"bert-google-ckpt", "bert-google-erf-h36"},
    {"torch-pt", "torch-relu-pre-nobias-sf-d32"},
};

TEST(CkptFormats, EveryFormatGivesTheSafetensorsModelsOutputs) {
  const std::vector<FixtureCase> cases = all_core_cases();
  for (const FormatDir& f : kFormatDirs) {
    std::vector<const FixtureCase*> mine;
    for (const FixtureCase& c : cases)
      if (c.model == f.core) mine.push_back(&c);
    ASSERT_GE(mine.size(), 2u) << f.dir << ": no core cases for " << f.core;
    // load_options belong to the fixture model, not the case.
    const LoadOptions options = load_options_of(*mine.front());
    const Model reference = Model::load((mine.front()->dir / "model").string(), options);
    const Model model = Model::load(formats(f.dir).string(), options);
    EXPECT_EQ(model.parameter_count(), reference.parameter_count()) << f.dir;
    for (const FixtureCase* c : mine) {
      const TensorFile in = read_safetensors((c->dir / (c->name + ".in.safetensors")).string());
      const TensorMap inputs(in.tensors.begin(), in.tensors.end());
      const TensorMap want = reference.forward(inputs, forward_options_of(*c));
      const TensorMap got = model.forward(inputs, forward_options_of(*c));
      ASSERT_EQ(got.size(), want.size()) << f.dir << " " << c->label();
      for (const auto& [name, t] : want) {
        ASSERT_TRUE(got.count(name)) << name;
        EXPECT_TRUE(same_bytes(got.at(name), t)) << f.dir << " " << c->label() << " output " << name;
      }
    }
  }
}

TEST(CkptFormats, SafetensorsStayPreferred) {
  TempDir tmp;
  fs::copy(formats("bert-hf-bin"), tmp.path, fs::copy_options::recursive);
  spit(tmp.path / "model.safetensors", "not a safetensors file");
  expect_error([&] { Model::load(tmp.path.string()); }, "model.safetensors", "safetensors");
}

TEST(CkptFormats, DirectoryWithoutWeightsSaysWhatItLookedFor) {
  TempDir tmp;
  fs::copy_file(formats("bert-hf-bin/config.json"), tmp.path / "config.json");
  expect_error([&] { Model::load(tmp.path.string()); }, tmp.path.string(), "pytorch_model.bin");
}

// ============================================================ bad torch files

class CkptBadTorch : public ::testing::Test {
 protected:
  TempDir tmp;
  std::string file(const std::string& bytes) {
    const fs::path p = tmp.path / ("bad" + std::to_string(n_++) + ".pt");
    spit(p, bytes);
    return p.string();
  }
  void expect(const std::string& bytes, const std::string& needle) {
    const std::string p = file(bytes);
    expect_error([&] { read_torch_checkpoint(p); }, p, needle);
  }
  // One float32 tensor over a storage of `numel` floats 1, 2, 3, ...
  static std::string floats(int64_t numel) {
    std::string s;
    for (int64_t i = 0; i < numel; ++i) {
      float f = static_cast<float>(i + 1);
      s.append(reinterpret_cast<const char*>(&f), 4);
    }
    return s;
  }
  int n_ = 0;
};

TEST_F(CkptBadTorch, HandMadeGoodFileLoads) {  // the writers themselves are right
  const std::string p = file(torch_zip(one_tensor_pickle("w", 6, 0, {2, 3}, {3, 1}), {{"0", floats(6)}}));
  const TensorFile tf = read_torch_checkpoint(p);
  ASSERT_EQ(tf.tensors.at("w").shape(), (Shape{2, 3}));
  EXPECT_EQ(tf.tensors.at("w").data<float>()[5], 6.0f);
}

TEST_F(CkptBadTorch, NotACheckpoint) {
  expect("", "not a PyTorch checkpoint");
  expect("hello, world", "not a PyTorch checkpoint");
  std::string tar(600, '\0');
  std::memcpy(&tar[257], "ustar", 5);
  expect(tar, "tar-format");
}

TEST_F(CkptBadTorch, TruncatedZip) {
  const std::string good = slurp(formats("bert-hf-bin/pytorch_model.bin"));
  expect(good.substr(0, good.size() / 2), "no end of central directory");
  expect(good.substr(0, 10), "too short");
  expect(good.substr(0, good.size() - 1), "no end of central directory");
}

TEST_F(CkptBadTorch, WrongMagic) {
  std::string good = slurp(formats("bert-hf-bin/pytorch_model.bin"));
  good[0] = 'X';
  expect(good, "not a PyTorch checkpoint");
  std::string legacy = slurp(formats("layouts/layouts-legacy.pt"));
  legacy[5] ^= 0x01;  // inside the LONG1 magic number
  expect(legacy, "bad magic number");
}

TEST_F(CkptBadTorch, CrcMismatch) {
  std::string good = slurp(formats("bert-hf-bin/pytorch_model.bin"));
  good[good.size() / 2] ^= 0x40;  // inside the word embeddings' storage
  expect(good, "crc32 mismatch");
}

TEST_F(CkptBadTorch, CompressedEntry) {
  expect(make_zip({{"archive/data.pkl", one_tensor_pickle("w", 1, 0, {1}, {1}), 8}}), "is compressed (method 8, deflate)");
  expect(make_zip({{"archive/data.pkl", one_tensor_pickle("w", 1, 0, {1}, {1})}, {"archive/data/0", floats(1), 12}}),
         "is compressed (method 12");
}

TEST_F(CkptBadTorch, ZipOffsetsThatLie) {
  const std::string good = torch_zip(one_tensor_pickle("w", 6, 0, {2, 3}, {3, 1}), {{"0", floats(6)}});
  const size_t eocd = good.size() - 22;
  auto patch32 = [](std::string s, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
    return s;
  };
  const uint32_t cd_offset = static_cast<uint32_t>(io::ByteReader::le(reinterpret_cast<const unsigned char*>(&good[eocd + 16]), 4));
  expect(patch32(good, eocd + 16, 0x7fffffff), "lies outside the archive");        // directory offset
  expect(patch32(good, eocd + 12, 0x7fffffff), "lies outside the archive");        // directory size
  expect(patch32(good, cd_offset + 42, 0x7ffffff0), "lies outside the data area");  // first local header offset
  expect(patch32(good, cd_offset + 42, 1), "bad local header signature");
  expect(patch32(good, cd_offset + 20, 0x10000), "stored but its sizes differ");     // compressed size
  std::string both = patch32(good, cd_offset + 20, 0x10000);
  expect(patch32(both, cd_offset + 24, 0x10000), "run into the central directory");  // sizes past the directory
  std::string signature = good;
  signature[cd_offset] = 'X';
  expect(signature, "bad central directory entry signature");
  std::string count = good;
  count[eocd + 8] = count[eocd + 10] = 100;  // 100 entries in a directory too small for them
  expect(count, "claims 100 entries");
}

TEST_F(CkptBadTorch, OverlappingAndDuplicateEntries) {
  // Entry 1's size grown until its data covers entry 2's local header.
  const std::string pkl = one_tensor_pickle("w", 6, 0, {2, 3}, {3, 1});
  std::string zip = make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", floats(6)}});
  const size_t cd = zip.find("PK\x01\x02");
  for (size_t field : {cd + 20, cd + 24}) {
    const uint32_t grown = static_cast<uint32_t>(pkl.size() + 10);
    for (int i = 0; i < 4; ++i) zip[field + i] = static_cast<char>(grown >> (8 * i));
  }
  expect(zip, "overlap");
  expect(make_zip({{"archive/data.pkl", pkl}, {"archive/data.pkl", pkl}}), "appears twice");
}

TEST_F(CkptBadTorch, ForbiddenGlobals) {
  // pickle.dumps of an object whose __reduce__ returns (os.system, ("echo pwned",)).
  PickleWriter os_system;
  os_system.global("os", "system").op('(').str("echo pwned").op('t').op('R');
  expect(torch_zip(os_system.stop(), {}), "asks for global 'os.system'");
  // The same through protocol 4's STACK_GLOBAL.
  std::string p4 = "\x80\x04\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93" "\x8c\x01" "1" "\x85" "R.";
  expect(torch_zip(p4, {}), "asks for global 'builtins.eval'");
  // A torch name that is not a state_dict's: still refused.
  PickleWriter torch_load;
  torch_load.global("torch", "load").op('.');
  expect(torch_zip(torch_load.b, {}), "asks for global 'torch.load'");
  // An allowed name used the wrong way.
  PickleWriter call_storage;
  call_storage.global("torch", "FloatStorage").op(')').op('R');
  expect(torch_zip(call_storage.stop(), {}), "cannot be called");
  // In the legacy format's header pickles, no global at all.
  std::string legacy = slurp(formats("layouts/layouts-legacy.pt"));
  PickleWriter evil;
  evil.global("os", "system").op('.');
  expect(evil.b + legacy.substr(15), "asks for global 'os.system' in a header that is plain data");
}

TEST_F(CkptBadTorch, AbsurdShapesAndOffsets) {
  auto one = [&](int64_t numel, int64_t offset, std::vector<int64_t> size, std::vector<int64_t> stride, size_t bytes) {
    return torch_zip(one_tensor_pickle("w", numel, offset, size, stride), {{"0", floats(static_cast<int64_t>(bytes))}});
  };
  expect(one(6, 0, {int64_t{1} << 40, int64_t{1} << 40}, {1, 1}, 6), "has more elements than its storage");
  expect(one(6, 0, {7}, {1}, 6), "has more elements than its storage");
  expect(one(6, 100, {1}, {1}, 6), "storage offset 100 is outside its storage");
  expect(one(6, 2, {2, 3}, {3, 1}, 6), "reaches past its storage");
  expect(one(6, 0, {2, 3}, {int64_t{1} << 62, 1}, 6), "reaches past its storage");
  expect(one(6, 0, {2, 3}, {3}, 6), "size has 2 dimensions but stride has 1");
  expect(one(6, 0, {-2, 3}, {3, 1}, 6), "negative entry");
  expect(one(6, -1, {2}, {1}, 6), "negative storage offset");
  expect(one(int64_t{1} << 60, 0, {2}, {1}, 6), "absurd size");
  expect(one(6, 0, std::vector<int64_t>(40, 1), std::vector<int64_t>(40, 1), 6), "40 dimensions");
  expect(one(5, 0, {2}, {1}, 6), "has 24 bytes, the pickle declares 5");  // entry size != numel
  expect(torch_zip(one_tensor_pickle("w", 6, 0, {2}, {1}), {}), "storage '0' (archive/data/0) is missing");
}

TEST_F(CkptBadTorch, PicklesThatAreNotStateDicts) {
  PickleWriter list;
  list.op(']');
  expect(torch_zip(list.stop(), {}), "holds a list, not a state_dict");
  PickleWriter int_value;
  int_value.op('}').str("step").integer(3).op('s');
  expect(torch_zip(int_value.stop(), {}), "'step' holds a int, not a tensor");
  PickleWriter nested;
  nested.op('}').str("model").op('}').op('s');
  expect(torch_zip(nested.stop(), {}), "'model' holds a dict, not a tensor");
  PickleWriter opcode;
  opcode.op('}').op('\x81');  // NEWOBJ
  expect(torch_zip(opcode.stop(), {}), "unsupported pickle opcode 0x81");
  PickleWriter no_stop;
  no_stop.op('}');
  expect(torch_zip(no_stop.b, {}), "no STOP");
  PickleWriter memo;
  memo.op('h').op('\x07');
  expect(torch_zip(memo.stop(), {}), "memo key 7 was never stored");
  PickleWriter underflow;
  underflow.op('s');
  expect(torch_zip(underflow.stop(), {}), "stack underflow");
  PickleWriter long_string;
  long_string.op('X');
  put_le(long_string.b, 0xfffffff0u, 4);
  expect(torch_zip(long_string.stop(), {}), "truncated BINUNICODE");
  PickleWriter pid;
  pid.op('}').str("w").op('(').str("module").op('t').op('Q');
  expect(torch_zip(pid.stop(), {}), "persistent id must be a tuple of 5 fields");
  PickleWriter untyped;
  untyped.op('}').str("w").op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").str("six");
  untyped.op('t').op('Q');
  expect(torch_zip(untyped.stop(), {}), "storage size must be an int");
  PickleWriter self;  // a list that contains itself: harmless data, then refused as not a dict
  self.op(']').op('q').op('\0').op('h').op('\0').op('a');
  expect(torch_zip(self.stop(), {}), "holds a list");
}

TEST_F(CkptBadTorch, TruncatedLegacy) {
  const std::string legacy = slurp(formats("layouts/layouts-legacy.pt"));
  expect(legacy.substr(0, legacy.size() - 3), "truncated data");
  expect(legacy.substr(0, 40), "truncated");
  expect(legacy.substr(0, 14), "no STOP");
}

// ============================================================ bad TensorFlow bundles

class CkptBadTf : public ::testing::Test {
 protected:
  TempDir tmp;
  // Writes prefix.index (+ data shard 0 of 1) and expects read_tf_checkpoint to fail
  // naming `file_suffix` and containing `needle`.
  void expect(const std::string& index, const std::string& data, const std::string& file_suffix,
              const std::string& needle) {
    const std::string prefix = (tmp.path / ("ckpt" + std::to_string(n_++))).string();
    spit(prefix + ".index", index);
    if (!data.empty()) spit(prefix + ".data-00000-of-00001", data);
    expect_error([&] { read_tf_checkpoint(prefix); }, prefix + file_suffix, needle);
  }
  // A one-tensor bundle over `data` with the entry as given.
  static std::string bundle(const BundleEntry& e, int shards = 1, int endianness = 0) {
    return make_table({{"", bundle_header(shards, endianness)}, {"w", bundle_entry(e)}});
  }
  static BundleEntry good_entry(const std::string& data) {
    BundleEntry e;
    e.shape = {2, 2};
    e.size = data.size();
    e.crc32c = io::crc32c(data.data(), data.size());
    return e;
  }
  const std::string data16 = std::string("\0\0\x80?\0\0\0@\0\0@@\0\0\x80@", 16);  // 1, 2, 3, 4
  int n_ = 0;
};

TEST_F(CkptBadTf, HandMadeGoodBundleLoads) {
  const std::string prefix = (tmp.path / "good").string();
  spit(prefix + ".index", bundle(good_entry(data16)));
  spit(prefix + ".data-00000-of-00001", data16);
  const TensorFile tf = read_tf_checkpoint(prefix);
  ASSERT_EQ(tf.tensors.at("w").shape(), (Shape{2, 2}));
  EXPECT_EQ(tf.tensors.at("w").data<float>()[3], 4.0f);
}

TEST_F(CkptBadTf, TruncatedOrWrongMagic) {
  const std::string index = slurp(formats("bert-google-ckpt/bert_model.ckpt.index"));
  const std::string data = slurp(formats("bert-google-ckpt/bert_model.ckpt.data-00000-of-00001"));
  expect(index.substr(0, 20), data, ".index", "truncated table");
  expect(index.substr(0, index.size() - 1), data, ".index", "bad table magic");
  std::string magic = index;
  magic[magic.size() - 1] ^= 0x01;
  expect(magic, data, ".index", "bad table magic");
  expect("", data, ".index", "truncated table");
}

TEST_F(CkptBadTf, CrcMismatch) {
  const std::string index = slurp(formats("bert-google-ckpt/bert_model.ckpt.index"));
  const std::string data = slurp(formats("bert-google-ckpt/bert_model.ckpt.data-00000-of-00001"));
  std::string block = index;
  block[10] ^= 0x20;  // inside the first data block
  expect(block, data, ".index", "crc32c mismatch (the index file is corrupt)");
  std::string flipped = data;
  flipped[flipped.size() / 2] ^= 0x01;
  expect(index, flipped, ".data-00000-of-00001", "crc32c mismatch (the data file is corrupt)");
  BundleEntry e = good_entry(data16);
  e.crc32c ^= 1;
  expect(bundle(e), data16, ".data-00000-of-00001", "tensor 'w': crc32c mismatch");
}

TEST_F(CkptBadTf, MissingOrTruncatedShard) {
  const std::string index = slurp(formats("bert-google-ckpt/bert_model.ckpt.index"));
  const std::string data = slurp(formats("bert-google-ckpt/bert_model.ckpt.data-00000-of-00001"));
  expect(index, "", ".data-00000-of-00001", "cannot open");
  expect(index, data.substr(0, data.size() / 2), ".data-00000-of-00001", "lie outside the file");
}

TEST_F(CkptBadTf, EntriesThatLie) {
  BundleEntry e = good_entry(data16);
  e.offset = 8;
  expect(bundle(e), data16, ".data-00000-of-00001", "bytes [8, +16) lie outside the file (16 bytes)");
  e = good_entry(data16);
  e.offset = ~uint64_t{0} - 4;
  expect(bundle(e), data16, ".data-00000-of-00001", "lie outside the file");
  e = good_entry(data16);
  e.shape = {int64_t{1} << 40, int64_t{1} << 40};
  expect(bundle(e), data16, ".index", "tensor 'w': shape [1099511627776, 1099511627776] is larger than its 16 bytes");
  e = good_entry(data16);
  e.shape = {3};
  expect(bundle(e), data16, ".index", "16 bytes do not hold F32 [3]");
  e = good_entry(data16);
  e.shape = {-1, 4};
  expect(bundle(e), data16, ".index", "unknown or negative size");
  e = good_entry(data16);
  e.shard = 3;
  expect(bundle(e), data16, ".index", "shard 3 does not exist");
  e = good_entry(data16);
  e.dtype = 8;  // DT_COMPLEX64
  expect(bundle(e), data16, ".index", "TensorFlow dtype 8 is not supported");
  e = good_entry(data16);
  e.sliced = true;
  expect(bundle(e), data16, ".index", "partitioned (sliced) variables");
}

TEST_F(CkptBadTf, TablesThatLie) {
  const BundleEntry e = good_entry(data16);
  expect(make_table({{"", bundle_header(1)}, {"w", bundle_entry(e)}}, 1), data16, ".index", "snappy-compressed");
  expect(make_table({{"", bundle_header(1)}, {"w", bundle_entry(e)}}, 7), data16, ".index", "unknown compression 7");
  expect(make_table({{"w", bundle_entry(e)}}), data16, ".index", "no bundle header");
  expect(make_table({{"", bundle_header(1)}, {"x", bundle_entry(e)}, {"w", bundle_entry(e)}}), data16, ".index",
         "keys are not in increasing order");
  expect(bundle(e, 1, 1), data16, ".index", "big-endian bundles are not supported");
  expect(bundle(e, 0), data16, ".index", "num_shards 0 is out of range");
  expect(make_table({{"", bundle_header(1) + "\x0b"}, {"w", bundle_entry(e)}}), data16, ".index",
         "unsupported protobuf wire type 3");
  expect(make_table({{"", bundle_header(1)}, {"w", bundle_entry(e).substr(0, 5)}}), data16, ".index", "truncated");
  // A data-block handle that points past the end of the file.
  std::string table = make_table({{"", bundle_header(1)}, {"w", bundle_entry(e)}});
  std::string footer = pb_varint(0) + pb_varint(1u << 30) + pb_varint(0) + pb_varint(1u << 30);
  footer.resize(40, '\0');
  table.replace(table.size() - 48, 40, footer);
  expect(table, data16, ".index", "lies outside the table");
  // A block whose restart count claims more restarts than it has bytes.
  std::string file;
  std::string block = table_block({{"", bundle_header(1)}});
  block[block.size() - 4] = 100;
  const std::string data_handle = append_block(file, block);
  const std::string meta = append_block(file, table_block({}));
  const std::string index = append_block(file, table_block({{"", data_handle}}));
  footer = meta + index;
  footer.resize(40, '\0');
  put_le(footer, 0xdb4775248b80fb57ull, 8);
  expect(file + footer, data16, ".index", "bad restart count 100");
}

}  // namespace
}  // namespace encore::testing
