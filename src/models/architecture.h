// The architecture registry: one record per architecture, one file per record
// (src/models/arch_*.cc, registering itself at start-up as the CLI's subcommands do). A record
// is everything encore knows about one family member and its checkpoint layouts; the engine
// (load.cc, token_encoder.cc, heads.cc, convert*.cc) reads records and never names an
// architecture. docs/architecture.md, "How to add an architecture".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "encore/convert.h"
#include "encore/model.h"
#include "models/config_reader.h"
#include "nn/run_context.h"

namespace encore {

// Weight names. A pattern may hold {i}: the key of one stored layer (its index, or for
// weights shared across depth whatever the layout numbers them by).
struct LinearNames {
  std::string weight, bias;  // bias "" when the checkpoint has none
  bool in_out = false;       // stored [in, out] (a TensorFlow kernel), else [out, in] (nn.Linear)
  bool empty() const { return weight.empty(); }
};
struct NormNames {
  std::string gamma, beta;
  bool empty() const { return gamma.empty(); }
};

// The body: embeddings, one encoder layer, pooler. Unused slots stay empty.
struct BodyNames {
  std::string prefix;  // what task checkpoints put before the body's names ("bert."); optional
  // Token embeddings: tables [rows, E], a LayerNorm over E, an optional projection E -> H.
  std::string word, position, token_type;
  NormNames embedding_norm;
  LinearNames embedding_projection;
  LinearNames pooler;  // tanh(pooler(h[first token]))
  // One encoder layer: Q, K, V stored apart (fused into one [3H, H] projection at load) or
  // already fused (PyTorch in_proj).
  LinearNames query, key, value, qkv;
  std::string distance;                 // relative_key(_query) distance embedding [2 max_positions - 1, d]
  std::string relative_attention_bias;  // a bucketed position bias table [buckets, heads], shared by every layer
  LinearNames attention_out;
  NormNames attention_norm;
  // A gated feed-forward (FeedForwardKind::Glu) computes act(ffn_in x) * ffn_gate x: ffn_gate
  // stored apart (NomicBERT's fc11), or empty when ffn_in stores both as halves [a; g] of one
  // [2I, H] weight (ModernBERT's Wi).
  LinearNames ffn_in, ffn_gate, ffn_out;
  NormNames ffn_norm;
  NormNames final_norm;  // after the last layer (PyTorch TransformerEncoder(norm=...))
  // DeBERTa-v2: the relative embeddings [2 span, H] every layer projects (with its own query
  // and key Linears, or with pos_query / pos_key where they are not shared), their optional
  // LayerNorm, and the ConvLayer after the first layer (Conv1d weight [H, H, k], its LayerNorm).
  std::string relative_embeddings;
  NormNames relative_embeddings_norm;
  LinearNames pos_key, pos_query;
  LinearNames conv;
  NormNames conv_norm;
};

// Every name slot of BodyNames in one fixed order, so that two records' names pair up slot by
// slot (encore convert).
struct NameSlot {
  const std::string* pattern;
  bool per_layer;
  const LinearNames* linear;  // the Linear whose weight this is (its layout), else null
};
std::vector<NameSlot> name_slots(const BodyNames& n);

// Task heads. A head computes out(norm(act(dense(x)))) per token and/or per sequence; which
// stages exist, where x comes from and what is fixed by the reference's code (an activation
// that ignores hidden_act, a LayerNorm eps that ignores the config) is data.
// FirstToken: h[:, 0]; Mean: the mean of each sequence's states over its attention mask
// (ModernBERT's classifier_pooling "mean").
enum class HeadInput { Tokens, FirstToken, Pooler, Mean };
// Layer: the layers' (hidden_act); Given: HeadPart::given_activation (a config's own key,
// ModernBERT's classifier_activation).
enum class HeadActivation { None, Layer, GeluErf, Tanh, Relu, Given };
enum class HeadRows { Labels, Vocab, Two, One };                 // Labels: from the stored weight

struct HeadPart {
  HeadInput input = HeadInput::Tokens;
  LinearNames dense;                // optional
  bool dense_to_embedding = false;  // dense is H -> E (then norm and out are E wide), else H -> H
  HeadActivation activation = HeadActivation::None;
  Activation given_activation = Activation::GeluErf;  // HeadActivation::Given
  NormNames norm;             // optional; beta "" when the norm has no bias
  float norm_eps = 0.0f;      // 0: the layers' layer_norm_eps
  LinearNames out;            // Vocab rows: the weight is the word embeddings unless stored and untied
  std::string out_bias_copy;  // the same bias saved under a second name (checked, counted, unused)
  HeadRows rows = HeadRows::Labels;
  // ModelOutput names: one, or two that split the last axis (start_logits, end_logits).
  std::vector<std::string> outputs;
  bool squeeze = false;  // rows One: [B, S, 1] -> [B, S]
};

// Building blocks the records share: a head part that is one Linear (`out`) on `input`;
// transformers' qa_outputs (every *ForQuestionAnswering: one Linear H -> 2 on every token, split
// into start_logits / end_logits) and its per-token classifier (every *ForTokenClassification).
HeadPart linear_head(HeadInput input, LinearNames out, HeadRows rows, std::vector<std::string> outputs);
HeadPart qa_outputs();
HeadPart token_classifier();

struct HeadSpec {
  std::string class_name;            // the transformers class (config.json architectures[0])
  std::vector<std::string> aliases;  // other classes that load as this head
  TaskHead kind = TaskHead::None;
  std::optional<HeadPart> token;     // per token: MLM, token classification, QA
  std::optional<HeadPart> sequence;  // per sequence: classification, NSP
};

// The reference's input and output names, as `encore forward` takes and writes them.
struct ForwardNames {
  std::vector<std::string> inputs;  // every accepted input
  // Token ids (EmbeddingsKind::Tokens) or the input vectors (EmbeddingsKind::None: "src").
  std::string ids = "input_ids";
  std::string mask = "attention_mask";  // 0/1 mask (tokens), or PyTorch's additive / bool mask
  std::string mask_alias;               // a second spelling of the mask ("" = none)
  std::string key_padding;              // PyTorch's src_key_padding_mask
  std::string types = "token_type_ids", positions = "position_ids", head_mask = "head_mask";
  bool mask3d = true;  // [B, S, S] masks accepted
  std::string last = "last_hidden_state", pooled = "pooler_output";
  std::string embedding_output;           // written on every call when set (Google)
  std::string hidden = "hidden_states.";  // + index, with all_hidden
  bool hidden_counts_embeddings = true;   // hidden.0 is the embeddings (HF), else layer 0's output
  std::string attentions = "attentions.";
  bool accepts(const std::string& input) const;
};

// The layer plan: which stored layers exist and what runs at each step.
struct PlanStep {
  nn::LayerStep step;
  int64_t spec = 0;        // index into the model's specs
  bool ends_depth = true;  // a hidden state is recorded after this step
};
struct LayerPlan {
  std::vector<std::string> weight_keys;  // the {i} of each stored layer, in weight-index order
  std::vector<PlanStep> steps;
  // The specs PlanStep::spec indexes; empty: one, the config's (ModelConfig::layer). Layers
  // that differ by depth (ModernBERT's local and global attention) have one each.
  std::vector<LayerSpec> specs;
};
LayerPlan one_layer_per_depth(int64_t layers);  // layer i runs weights i: every architecture so far

// How the architecture's layer reads in words (`encore explain`).
struct Explanation {
  std::string activation, layer_norm_eps, mask, fully_masked_row, dropout, norm_placement;
};

struct ConfigInput;  // models/convert_config.h

enum class EmbeddingsKind { Tokens, None };  // ids through tables, or hidden vectors in (PyTorch)

struct Architecture {
  std::string name;                  // the Dialect name, --dialect
  std::vector<std::string> aliases;  // other --dialect spellings
  std::string reference;             // the reference it reproduces, one line
  // Detection: the config file, and the config's model_type values ("" = no model_type key);
  // no values: the file alone decides. Records are tried in detect_order.
  std::string config_file;
  std::vector<std::string> model_types;
  int detect_order = 0;
  // encore convert: records of one family hold the same weights under different layouts.
  std::string family;
  ConvertTarget layout = ConvertTarget::HF;
  // The config file as a ModelConfig (everything but `dialect` and `head`).
  ModelConfig (*parse_config)(const ConfigReader& r) = nullptr;
  // The config file of a directory converted into this layout from another record of the
  // family (null: conversion into this layout copies the source's config, or none exists).
  nlohmann::json (*write_config)(const ConfigInput& in, std::vector<std::string>& notes) = nullptr;
  LayerPlan (*plan)(const ConfigReader& r, const ModelConfig& c) = nullptr;  // null: one_layer_per_depth
  // The names and heads as one config has them, where the config decides which weights exist
  // or how a head reads (ModernBERT's *_bias flags: a bias name becomes ""; its
  // classifier_pooling). Null: `names` and `heads` as they are.
  void (*configure)(const ConfigReader& r, BodyNames& names, std::vector<HeadSpec>& heads) = nullptr;
  // RelativePositions::Bucket: how key - query distances are bucketed into the rows of
  // BodyNames::relative_attention_bias (T5-style: half the buckets per direction, exact below
  // a quarter of them, log-spaced up to max_distance).
  int position_buckets = 32, position_max_distance = 128;
  EmbeddingsKind embeddings = EmbeddingsKind::Tokens;
  BodyNames names;
  std::vector<HeadSpec> heads;  // in detection priority (the first whose weights are present)
  ForwardNames io;
  Explanation explain;
  std::string explain_parameters;  // parameters per layer, when not BERT's 4H^2 + 2HI + 9H + I

  Dialect dialect() const { return Dialect(name.c_str()); }
};

// Registration (from each arch_*.cc at start-up) and lookup.
bool register_architecture(Architecture a);
const std::vector<const Architecture*>& architectures();  // in registration order
const Architecture& architecture(const Dialect& d);
// The record a directory holds: the first (detect_order) whose config file exists and claims
// its model_type. Errors name the directory or config file.
const Architecture& detect_architecture(const std::filesystem::path& dir);
// The record of the family `of` in layout `layout`, or null.
const Architecture* architecture_in_layout(const Architecture& of, ConvertTarget layout);

// `pattern` with {i} replaced by `key`.
std::string expand(const std::string& pattern, const std::string& key);
std::string expand(const std::string& pattern, int64_t layer);

}  // namespace encore
