// ModernBERT: pre-norm layers (the first one's attention norm an identity) with rotary
// positions, a GeGLU feed-forward and no biases unless configured; every
// global_attn_every_n_layers-th layer attends globally (rotary base global_rope_theta), the
// others within a sliding window of local_attention / 2 positions each side (base
// local_rope_theta); token embeddings and a LayerNorm without positions or token types; a final
// LayerNorm. References: transformers 4.57.6 models/modernbert/modeling_modernbert.py (eager
// and sdpa attention, which compute the same) and configuration_modernbert.py;
// docs/encoder-family.md.
#include <limits>

#include "models/arch_bert.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  ModelConfig c;  // ModernBertConfig's defaults (configuration_modernbert.py)
  c.vocab_size = r.integer("vocab_size", 50368);
  c.hidden = r.integer("hidden_size", 768);
  c.layers = r.integer("num_hidden_layers", 22, 0);
  c.heads = r.integer("num_attention_heads", 12);
  c.intermediate = r.integer("intermediate_size", 1152);
  r.check_heads(c, "hidden_size", "num_attention_heads");
  ENCORE_CHECK((c.hidden / c.heads) % 2 == 0, r.file, ": the head size ", c.hidden / c.heads,
               " is odd; rotary embeddings rotate pairs of features");
  // No position table: positions enter as rotary embeddings; max_position_embeddings is the
  // longest sequence the model was trained for, and the longest encore accepts.
  c.max_positions = r.integer("max_position_embeddings", 8192);
  c.max_length = c.max_positions;
  c.absolute_positions = false;
  c.type_vocab_size = 0;
  c.padding_idx = r.integer("pad_token_id", 50283, 0);
  c.has_pooler = false;
  c.embedding_size = c.hidden;
  const float eps = static_cast<float>(r.number("norm_eps", 1e-5));
  c.embedding_norm_eps = eps;
  c.embedding_dropout = r.probability("embedding_dropout", 0.0);
  c.final_norm = true;  // ModernBertModel.final_norm

  LayerSpec& l = c.layer;
  l.norm_first = true;  // ModernBertEncoderLayer.forward: x + attn(attn_norm(x)), x + mlp(mlp_norm(x))
  l.layer_norm_eps = eps;
  const std::string act = r.string("hidden_activation", "gelu");
  l.feed_forward.kind = FeedForwardKind::Glu;  // ModernBertMLP: Wo(drop(act(input) * gate))
  l.feed_forward.activation = r.activation(act);
  l.feed_forward.activation_label = act;
  l.feed_forward.dropout = r.probability("mlp_dropout", 0.0);
  // attention_dropout on the probabilities and on the attention output (out_drop); none after the MLP.
  l.attention.dropout = r.probability("attention_dropout", 0.0);
  l.hidden_dropout = l.attention.dropout;
  l.ffn_output_dropout = 0.0f;
  // _prepare_4d_attention_mask and the sliding window's masked_fill: finfo(float32).min.
  l.attention.mask_fill = std::numeric_limits<float>::lowest();
  return c;
}

// The rotary base of one attention type of a config saved by transformers 5
// (rope_parameters.{full_attention,sliding_attention}: {"rope_type": "default", "rope_theta": ...}).
double rope_theta_v5(const ConfigReader& r, const char* type, double fallback) {
  const nlohmann::json& p = r.j["rope_parameters"];
  if (!p.is_object() || !p.contains(type) || p[type].is_null()) return fallback;
  const nlohmann::json& t = p[type];
  ENCORE_CHECK(t.is_object() && t.value("rope_type", std::string("default")) == "default", r.file,
               ": rope_parameters.", type, " is not the default rotary embedding (scaled RoPE is not supported)");
  ENCORE_CHECK(!t.contains("rope_theta") || t["rope_theta"].is_number(), r.file, ": rope_parameters.", type,
               ".rope_theta must be a number");
  return t.contains("rope_theta") ? t["rope_theta"].get<double>() : fallback;
}

// One spec per layer: global (window 0, global_rope_theta) at every
// global_attn_every_n_layers-th layer from layer 0, local otherwise (ModernBertAttention.__init__);
// layer 0 reads x without a norm (ModernBertEncoderLayer.__init__: attn_norm = nn.Identity()).
// A config saved by transformers 5 has the same facts as layer_types and rope_parameters (and may
// lack global_rope_theta / local_rope_theta): the 4.x keys win where present, as the reference
// reads them, and layer_types must agree with global_attn_every_n_layers.
LayerPlan plan(const ConfigReader& r, const ModelConfig& c) {
  ENCORE_CHECK(!r.has("rope_scaling"), r.file, ": rope_scaling is set; scaled RoPE is not supported");
  const int64_t every = r.integer("global_attn_every_n_layers", 3);
  const int64_t local = r.integer("local_attention", 128);
  const float global_theta = static_cast<float>(
      r.has("global_rope_theta") ? r.number("global_rope_theta", 160000.0) : rope_theta_v5(r, "full_attention", 160000.0));
  // local_rope_theta: null falls back to global_rope_theta.
  float local_theta = global_theta;
  if (r.has("local_rope_theta"))
    local_theta = static_cast<float>(r.number("local_rope_theta", 10000.0));
  else if (!r.j.contains("local_rope_theta"))  // absent, not null: a transformers 5 config, or the default
    local_theta = static_cast<float>(rope_theta_v5(r, "sliding_attention", 10000.0));
  std::vector<bool> globals;
  for (int64_t i = 0; i < c.layers; ++i) globals.push_back(i % every == 0);
  if (r.has("layer_types")) {
    const nlohmann::json& t = r.j["layer_types"];
    ENCORE_CHECK(t.is_array() && static_cast<int64_t>(t.size()) == c.layers, r.file, ": layer_types must list the ",
                 c.layers, " layers");
    for (int64_t i = 0; i < c.layers; ++i) {
      const std::string type = t[static_cast<size_t>(i)].is_string() ? t[static_cast<size_t>(i)].get<std::string>() : "";
      ENCORE_CHECK(type == "full_attention" || type == "sliding_attention", r.file, ": layer_types[", i, "] '", type,
                   "' is neither full_attention nor sliding_attention");
      const bool global = type == "full_attention";
      ENCORE_CHECK(!r.has("global_attn_every_n_layers") || global == globals[static_cast<size_t>(i)], r.file,
                   ": layer_types[", i, "] is ", type, " but global_attn_every_n_layers ", every, " says otherwise");
      globals[static_cast<size_t>(i)] = global;
    }
  }
  LayerPlan p = one_layer_per_depth(c.layers);
  for (int64_t i = 0; i < c.layers; ++i) {
    LayerSpec s = c.layer;
    const bool global = globals[static_cast<size_t>(i)];
    s.attention.window = global ? 0 : local / 2;
    s.attention.rotary_theta = global ? global_theta : local_theta;
    s.attention_norm = i != 0;
    p.specs.push_back(s);
    p.steps[static_cast<size_t>(i)].spec = i;
  }
  return p;
}

BodyNames names() {
  BodyNames n;
  n.prefix = "model.";  // ModernBertPreTrainedModel.base_model_prefix
  n.word = "embeddings.tok_embeddings.weight";
  n.embedding_norm = {"embeddings.norm.weight", "embeddings.norm.bias"};
  const std::string l = "layers.{i}.";
  auto linear = [&](const std::string& name) { return LinearNames{l + name + ".weight", l + name + ".bias"}; };
  n.qkv = linear("attn.Wqkv");  // [3H, H]: (3, heads, d) on the outputs, Q K V as encore stacks them
  n.attention_out = linear("attn.Wo");
  n.attention_norm = {l + "attn_norm.weight", l + "attn_norm.bias"};
  n.ffn_in = linear("mlp.Wi");  // [2I, H]: input, gate = Wi(x).chunk(2, dim=-1)
  n.ffn_out = linear("mlp.Wo");
  n.ffn_norm = {l + "mlp_norm.weight", l + "mlp_norm.bias"};
  n.final_norm = {"final_norm.weight", "final_norm.bias"};
  return n;
}

// ModernBertPredictionHead: norm(act(dense(x))), act = classifier_activation, then a Linear.
HeadPart prediction_head(HeadInput input, LinearNames out, HeadRows rows, std::vector<std::string> outputs) {
  HeadPart p = linear_head(input, std::move(out), rows, std::move(outputs));
  p.dense = {"head.dense.weight", "head.dense.bias"};
  p.activation = HeadActivation::Given;
  p.norm = {"head.norm.weight", "head.norm.bias"};  // eps norm_eps, the layers'
  return p;
}

std::vector<HeadSpec> heads() {
  // ForMaskedLM: decoder(head(h)), the decoder tied to tok_embeddings (_tied_weights_keys).
  HeadPart mlm = prediction_head(HeadInput::Tokens, {"decoder.weight", "decoder.bias"}, HeadRows::Vocab, {"logits"});
  // ForSequenceClassification: classifier(drop(head(pooled))), pooled by classifier_pooling
  // (configure); ForTokenClassification / ForQuestionAnswering: classifier(drop(head(h))).
  const LinearNames classifier{"classifier.weight", "classifier.bias"};
  return {
      {"ModernBertForMaskedLM", {}, TaskHead::MaskedLM, mlm, std::nullopt},
      {"ModernBertForQuestionAnswering", {}, TaskHead::QuestionAnswering,
       prediction_head(HeadInput::Tokens, classifier, HeadRows::Two, {"start_logits", "end_logits"}), std::nullopt},
      {"ModernBertForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt,
       prediction_head(HeadInput::FirstToken, classifier, HeadRows::Labels, {"logits"})},
      {"ModernBertForTokenClassification", {}, TaskHead::TokenClassification,
       prediction_head(HeadInput::Tokens, classifier, HeadRows::Labels, {"logits"}), std::nullopt},
  };
}

// The biases the config leaves out, the classifier's pooling and activation.
void configure(const ConfigReader& r, BodyNames& n, std::vector<HeadSpec>& heads) {
  if (!r.boolean("attention_bias", false)) n.qkv.bias = n.attention_out.bias = "";
  if (!r.boolean("mlp_bias", false)) n.ffn_in.bias = n.ffn_out.bias = "";
  const bool norm_bias = r.boolean("norm_bias", false);
  if (!norm_bias)
    for (NormNames* norm : {&n.embedding_norm, &n.attention_norm, &n.ffn_norm, &n.final_norm}) norm->beta = "";
  const std::string pooling = r.string("classifier_pooling", "cls");
  ENCORE_CHECK(pooling == "cls" || pooling == "mean", r.file, ": classifier_pooling '", pooling,
               "' is neither cls nor mean");
  const Activation act = r.activation(r.string("classifier_activation", "gelu"));
  const bool classifier_bias = r.boolean("classifier_bias", false), decoder_bias = r.boolean("decoder_bias", true);
  for (HeadSpec& h : heads)
    for (std::optional<HeadPart>* part : {&h.token, &h.sequence}) {
      if (!*part) continue;
      HeadPart& p = **part;
      p.given_activation = act;
      if (!classifier_bias) p.dense.bias = "";
      if (!norm_bias) p.norm.beta = "";
      if (p.rows == HeadRows::Vocab && !decoder_bias) p.out.bias = "";
      if (h.kind == TaskHead::SequenceClassification) p.input = pooling == "mean" ? HeadInput::Mean : HeadInput::FirstToken;
    }
}

Architecture record() {
  Architecture a;
  a.name = "modernbert";
  a.reference = "transformers ModernBertModel (config.json, rotary positions, local/global attention, GeGLU)";
  a.config_file = "config.json";
  a.model_types = {"modernbert"};
  a.detect_order = 1;
  a.family = "modernbert";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.plan = plan;
  a.configure = configure;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.inputs = {"input_ids", "attention_mask", "position_ids"};
  a.io.types = "";
  a.io.head_mask = "";
  a.io.mask3d = false;  // _prepare_4d_attention_mask takes [batch, seq] masks
  a.explain = {"hidden_activation (gelu: erf) in a GeGLU; the heads' classifier_activation",
               "norm_eps, default 1e-05",
               "(1 - mask) * float32 min; local layers also give keys beyond local_attention / 2 the float32 min",
               "uniform over all keys, in local layers too (every score rounds to float32 min)",
               "embeddings; attention probs and output (attention_dropout); inside the MLP (mlp_dropout)",
               "pre (x + f(LN(x))), the first layer's attention without a norm; a final LayerNorm"};
  a.explain_parameters = "5015040 at H=768, I=1152 (4H^2 + 3HI + 2H without biases; ModernBERT-base)";
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
