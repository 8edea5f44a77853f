// encore::Model: one encoder implementation, one record per architecture.
//
// An architecture (BERT as transformers or Google saves it, PyTorch's TransformerEncoder,
// RoBERTa, DistilBERT, ...) is a record in a registry (src/models/architecture.h, one file
// each): detection, config parsing, weight names, heads. The math lives once in src/nn/.
// Model::forward takes and returns tensors named exactly like the reference forward
// arguments and outputs (README.md, "encore forward: the tensor-level contract").
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "encore/compute.h"
#include "encore/tensor.h"

namespace encore {

// The architecture a model is loaded as: the name of its record in the registry, as
// `--dialect` spells it ("bert-hf", "bert-google", "torch", "roberta", "distilbert", ...).
class Dialect {
 public:
  // The three original layouts, by their record names.
  static const Dialect BertHF, BertGoogle, Torch;
  // `name` must outlive the Dialect (a literal, or a registry record's name): use
  // dialect_from_name for names read at run time.
  constexpr explicit Dialect(const char* name) : name_(name) {}
  constexpr const char* name() const { return name_; }
  bool operator==(const Dialect& o) const { return std::strcmp(name_, o.name_) == 0; }

 private:
  const char* name_;
};
inline constexpr Dialect Dialect::BertHF{"bert-hf"};
inline constexpr Dialect Dialect::BertGoogle{"bert-google"};
inline constexpr Dialect Dialect::Torch{"torch"};

// Disentangled: DeBERTa-v2's content-to-position and position-to-content scores.
enum class RelativePositions { None, Key, KeyQuery, Bucket, Disentangled };

const char* dialect_name(Dialect d);                 // the record's name
Dialect dialect_from_name(const std::string& name);  // a record's name or alias; error lists them

// How an encoder layer computes, in two blocks composed with a norm placement
// (src/nn/encoder_layer.cc). A model runs a plan of layers, each with its spec.

// The attention block: scores, masks, probabilities (src/nn/attention.cc).
struct AttentionSpec {
  // Position terms inside attention: None when positions are absolute (added by the
  // embeddings); HF relative_key / relative_key_query (a distance table, added before the
  // scaling); Bucket: a bias computed once per forward and added after the scaling (MPNet).
  RelativePositions relative = RelativePositions::None;
  int max_relative = 0;  // max_position_embeddings for the distance table
  // relative_key(_query) scores added unscaled after the scaling and the mask (ALBERT,
  // modeling_albert.py L311-332) instead of before the scaling (BERT).
  bool relative_after_mask = false;
  // The value added to the score of a masked key, after scaling: HF finfo(float32).min,
  // Google -10000, PyTorch -inf.
  float mask_fill = 0.0f;
  // A query row whose keys are all masked with -inf gets zero probabilities (PyTorch's
  // "safe softmax") instead of NaN. Finite fills never need it: their arithmetic decides.
  bool masked_row_zero = false;
  float dropout = 0.0f;  // on the attention probabilities (train mode only)
  float scale_factor = 1.0f;  // scores scaled by 1 / sqrt(d * scale_factor) (DeBERTa-v2: 1 + c2p + p2c)
  // Disentangled (DeBERTa-v2): q_i · pk[r] (c2p) and k_j · pq[r] (p2c), r the row of the
  // bucketed distance i - j in the layer's projections of the shared relative embeddings, each
  // term divided like q·k by sqrt(d * scale_factor), scale_factor = 1 + the number of terms.
  bool c2p = false, p2c = false;
  int position_buckets = 0;  // log buckets of the distance (make_log_bucket_position); 0: the distance itself
  // Rotary position embeddings on q and k before the product, with this base (RoPE as
  // transformers applies it: q·cos + rotate_half(q)·sin, frequencies base^(-2i/d)); 0: none.
  float rotary_theta = 0.0f;
  // The features of each head that rotate (the first ones; NomicBERT's rotary_emb_fraction < 1),
  // with the frequencies base^(-2i/rotary_dims); 0: all of them.
  int64_t rotary_dims = 0;
  // A sliding window: keys more than `window` positions (in the caller's padded layout) from
  // the query get mask_fill, as ModernBERT's local layers do (window = local_attention / 2);
  // 0: every key. Only the band of keys is computed.
  int64_t window = 0;
};

// The feed-forward block (src/nn/feed_forward.cc).
// Mlp: W2(act(W1 x)). Glu: W2(act(W1 x) * Wg x) (ModernBERT's GeGLU: W1 and Wg the halves of
// Wi, Wi(x).chunk(2, dim=-1); NomicBERT's SwiGLU: W1 = fc12, Wg = fc11).
enum class FeedForwardKind { Mlp, Glu };
struct FeedForwardSpec {
  FeedForwardKind kind = FeedForwardKind::Mlp;
  Activation activation = Activation::GeluErf;
  std::string activation_label;  // as the checkpoint's config spells it ("gelu", "gelu_new", ...)
  float dropout = 0.0f;          // between the activation and the second Linear (PyTorch only)
};

struct LayerSpec {
  AttentionSpec attention;
  FeedForwardSpec feed_forward;
  bool norm_first = false;  // PyTorch norm_first=True: x + f(LN(x)) instead of LN(x + f(x))
  // Pre-norm only: false when the attention block reads x itself (ModernBERT's first layer,
  // whose attn_norm is nn.Identity); its LayerNorm is then not stored.
  bool attention_norm = true;
  float layer_norm_eps = 1e-12f;
  bool bias = true;             // biases in every Linear and LayerNorm (PyTorch bias=False drops all)
  float hidden_dropout = 0.0f;  // on each block's output, before the residual add (train mode only)
  // The feed-forward block's output dropout where it differs (ModernBERT: none); < 0: hidden_dropout.
  float ffn_output_dropout = -1.0f;
};

// The task a checkpoint's head serves, after transformers' BertFor* classes (Google's
// run_pretraining / run_classifier / run_squad heads map onto the same kinds, and so do the
// other architectures' classes: RobertaForMaskedLM is a MaskedLM head, computed as RoBERTa
// does; HeadConfig::class_name says which).
enum class TaskHead {
  None,                    // BertModel
  MaskedLM,                // BertForMaskedLM: cls.predictions
  PreTraining,             // BertForPreTraining: cls.predictions + cls.seq_relationship
  NextSentence,            // BertForNextSentencePrediction: cls.seq_relationship
  SequenceClassification,  // BertForSequenceClassification: classifier on the pooler output
  TokenClassification,     // BertForTokenClassification: classifier on every token
  QuestionAnswering,       // BertForQuestionAnswering: qa_outputs -> start/end logits
  Discriminator,           // ElectraForPreTraining: one logit per token (replaced or original)
};
const char* task_head_name(TaskHead h);  // BERT's transformers class name ("BertForMaskedLM", ...)

struct HeadConfig {
  TaskHead kind = TaskHead::None;
  std::string class_name;           // the transformers class the head computes as ("RobertaForMaskedLM")
  int64_t num_labels = 0;           // classifier outputs (classification heads)
  std::vector<std::string> labels;  // config id2label in id order; LABEL_i when absent
  std::string problem_type;         // config problem_type, "" when absent
  // The class config.json names when the checkpoint holds none of that head's weights (a base
  // model saved from a task model, as sentence-transformers saves all-mpnet-base-v2): the model
  // loads as the base model, as AutoModel loads it.
  std::string absent_class;
  // The task class config.json names when the architecture offers no such head
  // (BertForMultipleChoice, RobertaForCausalLM): the model loads as the base model, with a
  // warning, and its head's weights are not read.
  std::string unsupported_class;
};

struct ModelConfig {
  Dialect dialect = Dialect::BertHF;
  int64_t hidden = 0, heads = 0, layers = 0, intermediate = 0;
  // The layers' spec as the config describes it (the model's layer plan runs it at every
  // depth for every architecture so far).
  LayerSpec layer;
  // Token embeddings (every architecture but the PyTorch encoder). Tables are E wide; E is
  // hidden unless the embeddings are factorized (then a projection E -> hidden follows).
  int64_t vocab_size = 0, max_positions = 0, type_vocab_size = 0;  // type_vocab_size 0: no token types
  int64_t embedding_size = 0;                                      // E
  float embedding_norm_eps = 1e-12f;
  bool absolute_positions = true;  // position_embedding_type == "absolute"
  // Position ids 0..n-1 per sequence, or numbered from the ids as RoBERTa does
  // (create_position_ids_from_input_ids: padding_idx + the count of non-pad ids so far,
  // padding_idx at pad ids).
  bool positions_from_ids = false;
  int64_t padding_idx = 0;
  int64_t max_length = 0;  // the longest sequence the positions allow (0: no limit)
  bool has_pooler = true;
  float embedding_dropout = 0.0f;
  // DeBERTa-v2: the projection E -> H before the LayerNorm (which is then over H), and the
  // embeddings multiplied by the 2-D mask (a fully masked sequence enters the layers as zeros).
  bool embedding_norm_after_projection = false;
  bool embeddings_masked = false;
  // DeBERTa-v2's ConvLayer after the first layer (conv_kernel_size > 0): LN(h1 + act(conv(emb)))
  // at real tokens, the convolution over the padded sequence of embedding outputs.
  int64_t conv_kernel = 0;
  Activation conv_activation = Activation::GeluErf;
  // PyTorch encoder.
  bool batch_first = false;
  bool final_norm = false;
  HeadConfig head;  // the task head found in the checkpoint
};

struct LoadOptions {
  std::optional<Dialect> dialect;  // default: detected from the directory's files
  std::string activation;          // overrides the config's activation, e.g. "gelu_erf"
  ComputeType dtype = ComputeType::F32;  // GEMM number format (bf16 and int8 trade accuracy for speed)
  // Every weight rounded to float16 as it loads, then computed as configured: what a model
  // loaded in float16 and cast back to float32 computes (FlagEmbedding's use_fp16 on the CPU).
  bool half_weights = false;
  // Tensors of the checkpoint that the caller reads itself (a Stanford ColBERT's projection
  // `linear.weight`): not reported as unused.
  std::vector<std::string> caller_tensors;
};

// Runs the calling thread's parallel work (encore's loops, oneDNN's GEMMs, tokenization) on
// `threads` threads until it is destroyed, then restores the count it found; threads <= 0
// changes nothing. OpenMP keeps that count per calling thread, so instances with different
// counts run side by side on different threads without changing each other's, or the
// process's default. Every call that takes a thread count (Model::forward and encode, the
// pipelines) holds one for its duration.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_ = 0;  // 0: nothing to restore
};

struct ForwardOptions {
  bool all_hidden = false;  // HF hidden_states.I, Google all_encoder_layers.I, PyTorch layers.I
  bool attentions = false;  // attention probabilities per layer
  bool causal = false;      // PyTorch is_causal
  bool train = false;       // dropout at the reference positions
  uint64_t seed = 0;        // dropout RNG seed (counter-based: independent of thread count)
  int threads = 0;          // 0 = the calling thread's OpenMP count (see ThreadScope)
};

using TensorMap = std::map<std::string, Tensor>;

// Token sequences for the ragged API (token architectures): no padding anywhere.
struct TokenBatch {
  std::vector<std::vector<int32_t>> ids;       // one vector per sequence
  std::vector<std::vector<int32_t>> type_ids;  // empty, or one per sequence (same lengths)
};

// The final hidden states of a TokenBatch: sequence b is rows cu[b]..cu[b+1] of `states`.
struct Encoded {
  Tensor states;            // F32 [total tokens, hidden]
  std::vector<int64_t> cu;  // [batch + 1]
  Tensor pooled;            // F32 [batch, hidden] (the pooler), undefined without one
};

class Model {
 public:
  static Model load(const std::string& dir, const LoadOptions& options = {});

  const ModelConfig& config() const;
  const std::string& directory() const;
  int64_t parameter_count() const;
  // The operations of one encoder layer (the plan's step `layer`) as its spec produces them, in order.
  std::vector<std::string> layer_ops(int64_t layer = 0) const;

  // Inputs and outputs named like the reference (README.md, "encore forward"). Outputs at padded positions
  // are zeros; see docs/architecture.md for masks and fully masked sequences.
  TensorMap forward(const TensorMap& inputs, const ForwardOptions& options = {}) const;

  // The ragged fast entry point for token architectures: position ids as the reference
  // numbers them for these ids (0..n-1, or from the ids for RoBERTa-like models).
  Encoded encode(const TokenBatch& batch, const ForwardOptions& options = {}) const;

  // Task-head logits on encode()'s output (config().head says which head there is).
  // token_logits: the per-token head on rows `rows` of encoded.states (every row when
  // empty): MLM prediction scores [rows, vocab], token classification [rows, labels], or
  // QA [rows, 2] (column 0 start, column 1 end). sequence_logits: the head on the pooled
  // output (or on each sequence's first token, as RobertaForSequenceClassification reads
  // it): classification [B, labels] or next-sentence [B, 2] (0 = "is next").
  Tensor token_logits(const Encoded& encoded, const std::vector<int64_t>& rows = {}) const;
  Tensor sequence_logits(const Encoded& encoded) const;

  struct Impl;  // the loaded record, config and weights (src/models/model_impl.h)

 private:
  friend const Impl& impl_of(const Model& model);  // for encore's own sources (model_impl.h)
  std::shared_ptr<const Impl> impl_;
};

// Writes layers [first, first + count) of a BERT model as a PyTorch nn.TransformerEncoder
// directory (transformer_encoder.json + model.safetensors): the same math under PyTorch's
// names, Q/K/V packed into in_proj_weight. Throws if the activation has no PyTorch
// TransformerEncoderLayer spelling (only relu and erf gelu do).
void export_torch_encoder(const Model& bert, int64_t first, int64_t count, const std::string& dir);

}  // namespace encore
