// A sentence-transformers directory encore cannot run exactly is an error naming what is
// wrong, never an embedding with a module left out; and --model ORG/NAME finds a model in
// the local Hugging Face cache as huggingface_hub does offline.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/embedder.h"
#include "encore/model_path.h"
#include "test_util.h"

namespace encore::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A copy of a fixture directory whose modules.json is replaced by `modules`.
struct EditedModel {
  TempDir tmp;
  fs::path dir;
  EditedModel(const std::string& fixture_name, const json& modules) : dir(tmp.path / "model") {
    fs::copy(fixture("st/" + fixture_name), dir, fs::copy_options::recursive);
    if (!modules.is_null()) std::ofstream(dir / "modules.json") << modules.dump();
  }
};

json module(const std::string& path, const std::string& type) {
  return {{"path", path}, {"type", type}};
}

std::string load_error(const fs::path& dir, const EmbedderOptions& options = {}) {
  try {
    Embedder::load(dir.string(), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StErrors, UnknownModuleTypesAreNamed) {
  for (const std::string type : {"sentence_transformers.models.CNN", "sentence_transformers.models.LSTM",
                                 "sentence_transformers.models.WordWeights", "custom_st.Transformer",
                                 "sentence_transformers.sparse_encoder.models.SpladePooling"}) {
    EditedModel m("st2-dense",
                  json::array({module("", "sentence_transformers.models.Transformer"),
                               module("1_Pooling", "sentence_transformers.models.Pooling"), module("2_Dense", type)}));
    const std::string error = load_error(m.dir);
    EXPECT_NE(error.find("module type '" + type + "' is not one encore runs"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(StErrors, ModulesInAnImpossibleOrder) {
  const std::string transformer = "sentence_transformers.base.modules.transformer.Transformer";
  const std::string pooling = "sentence_transformers.sentence_transformer.modules.pooling.Pooling";
  const std::string dense = "sentence_transformers.base.modules.dense.Dense";
  struct Case {
    json modules;
    const char* expected;
  } cases[] = {
      {json::array({module("", transformer)}), "no Pooling module"},
      {json::array({module("", transformer), module("2_Dense", dense), module("1_Pooling", pooling)}),
       "comes before Pooling"},
      {json::array({module("1_Pooling", pooling), module("", transformer)}), "Pooling needs token embeddings"},
      {json::array({module("2_Dense", dense)}), "the first module must read text"},
  };
  for (const Case& c : cases) {
    EditedModel m("st2-dense", c.modules);
    const std::string error = load_error(m.dir);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.modules.dump() << ": " << error;
  }
}

TEST(StErrors, OtherModelTypesAndBadConfigs) {
  {
    EditedModel m("st2-dense", nullptr);
    std::ofstream(m.dir / "config_sentence_transformers.json") << R"({"model_type": "SparseEncoder"})";
    EXPECT_NE(load_error(m.dir).find("model_type 'SparseEncoder' is not a SentenceTransformer"), std::string::npos);
  }
  {
    EditedModel m("st2-dense", nullptr);
    std::ofstream(m.dir / "2_Dense/config.json")
        << R"({"in_features": 32, "out_features": 16, "activation_function": "torch.nn.modules.activation.Threshold"})";
    EXPECT_NE(load_error(m.dir).find("activation_function 'torch.nn.modules.activation.Threshold' is not supported"),
              std::string::npos);
  }
  {
    EditedModel m("st2-dense", nullptr);
    std::ofstream(m.dir / "2_Dense/config.json") << R"({"in_features": 32, "out_features": 17})";
    EXPECT_NE(load_error(m.dir).find("has shape [16, 32], expected [17, 32]"), std::string::npos) << load_error(m.dir);
  }
  {
    EditedModel m("st2-dense", nullptr);
    std::ofstream(m.dir / "1_Pooling/config.json") << R"({"pooling_mode": "median"})";
    EXPECT_NE(load_error(m.dir).find("unknown pooling mode 'median'"), std::string::npos) << load_error(m.dir);
  }
  {
    EditedModel m("st5-router", nullptr);
    std::ofstream(m.dir / "router_config.json") << R"({"types": {}, "structure": {}})";
    EXPECT_NE(load_error(m.dir).find("at least one route"), std::string::npos) << load_error(m.dir);
  }
}

TEST(StErrors, PromptsAndRoutesThatDoNotExist) {
  const Embedder e = Embedder::load(fixture("st/st5-router").string());
  EmbedRequest bad_prompt;
  bad_prompt.prompt_name = "passage";
  try {
    e.embed({"text"}, bad_prompt);
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("prompt name 'passage' is not among the model's prompts (document, query)"),
              std::string::npos)
        << err.what();
  }
  EmbedRequest bad_task;
  bad_task.task = "summary";
  EXPECT_THROW(e.embed({"text"}, bad_task), Error);
}

// The Transformer's max length as sentence-transformers 6.3 saves it: in
// tokenizer_config.json (model_max_length), not in sentence_bert_config.json.
TEST(StModules, MaxLengthFromEitherFile) {
  EXPECT_EQ(Embedder::load(fixture("st/st6-tokens").string()).max_length(), 28);
  EXPECT_EQ(Embedder::load(fixture("st/st2-dense").string()).max_length(), 24);
}

class HubCache : public ::testing::Test {
 protected:
  TempDir tmp;
  std::string saved;
  void SetUp() override {
    if (const char* v = std::getenv("HF_HUB_CACHE")) saved = v;
    setenv("HF_HUB_CACHE", (tmp.path / "hub").c_str(), 1);
  }
  void TearDown() override {
    if (saved.empty())
      unsetenv("HF_HUB_CACHE");
    else
      setenv("HF_HUB_CACHE", saved.c_str(), 1);
  }
  // models--ORG--NAME with refs/main -> a snapshot holding a copy of a fixture.
  fs::path add(const std::string& folder, const std::string& commit, const std::string& ref = "main") {
    const fs::path repo = tmp.path / "hub" / folder;
    fs::create_directories(repo / "refs");
    std::ofstream(repo / "refs" / ref) << commit;  // no newline, as huggingface_hub writes it
    const fs::path snapshot = repo / "snapshots" / commit;
    fs::create_directories(snapshot.parent_path());
    fs::copy(fixture("st/st2-dense"), snapshot, fs::copy_options::recursive);
    return snapshot;
  }
};

TEST_F(HubCache, FindsRepositoryIdsOffline) {
  const std::string commit(40, 'a'), other(40, 'b');
  const fs::path snapshot = add("models--acme--tiny-embedder", commit);
  add("models--acme--tiny-embedder", other, "v2");
  EXPECT_EQ(fs::path(resolve_model_path("acme/tiny-embedder")), snapshot);
  EXPECT_EQ(fs::path(resolve_model_path("acme/tiny-embedder@v2")).filename(), other);
  EXPECT_EQ(fs::path(resolve_model_path("acme/tiny-embedder@" + commit)), snapshot);
  const Embedder e = Embedder::load("acme/tiny-embedder");
  EXPECT_EQ(e.dimensions(), 16);  // the Dense module of st2-dense
  // A directory wins over the cache; a missing one names where encore looked.
  EXPECT_EQ(resolve_model_path(fixture("st/st5-static").string()), fixture("st/st5-static").string());
  try {
    resolve_model_path("acme/absent-model");
    FAIL() << "expected an error";
  } catch (const Error& err) {
    const std::string message = err.what();
    EXPECT_NE(message.find((tmp.path / "hub" / "models--acme--absent-model" / "refs" / "main").string()),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("hf download acme/absent-model"), std::string::npos) << message;
  }
  EXPECT_THROW(resolve_model_path("../escape/attempt"), Error);
  EXPECT_THROW(resolve_model_path("acme/tiny-embedder@main/../../x"), Error);
}

TEST_F(HubCache, FollowsHfHomeWhenNoCacheIsSet) {
  unsetenv("HF_HUB_CACHE");
  const char* home = std::getenv("HF_HOME");
  const std::string saved_home = home ? home : "";
  setenv("HF_HOME", tmp.path.c_str(), 1);  // $HF_HOME/hub is where add() writes
  const fs::path snapshot = add("models--solo", std::string(40, 'c'));
  EXPECT_EQ(fs::path(resolve_model_path("solo")), snapshot);
  if (saved_home.empty())
    unsetenv("HF_HOME");
  else
    setenv("HF_HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace encore::testing
