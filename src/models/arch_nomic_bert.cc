// NomicBERT (nomic-embed-text-v1 / v1.5, nomic-bert-2048): post-norm BERT blocks with a fused
// Wqkv, rotary positions on q and k (NeoX halves, base rotary_emb_base, positions 0..S-1 of the
// padded layout; a learned position table instead when rotary_emb_fraction is 0), a gated MLP
// fc2(fc11(x) * act(fc12(x))) (swiglu: silu, geglu: erf gelu) or a plain one, no final norm.
// Reference: the hub's modeling_hf_nomic_bert.py and configuration_hf_nomic_bert.py, pinned in
// tools/reference/nomic_bert/ (nomic-ai/nomic-bert-2048 @ 7710840; line numbers below are that
// file's); docs/encoder-family.md.
#include <limits>

#include "models/arch_bert.h"

namespace encore {

namespace {

bool gated(const std::string& act) { return act == "swiglu" || act == "geglu" || act == "glu"; }

// Options of the reference that encore does not compute, each refused in one line (what the
// reference would do with it in parentheses).
void refuse_unsupported(const ConfigReader& r) {
  auto refuse_if = [&](bool set, const char* what) { ENCORE_CHECK(!set, r.file, ": ", what, " is not supported"); };
  refuse_if(r.boolean("prenorm", false), "prenorm: true (a pre-norm residual stream, L1689-1710)");
  refuse_if(r.boolean("parallel_block", false), "parallel_block: true (the text model ignores it)");
  refuse_if(r.boolean("use_rms_norm", false), "use_rms_norm: true (the text model ignores it)");
  refuse_if(r.boolean("causal", false), "causal: true (the text model ignores it)");
  refuse_if(r.boolean("rotary_emb_interleaved", false), "rotary_emb_interleaved: true (GPT-J pairs)");
  refuse_if(r.has("rotary_scaling_factor") && r.number("rotary_scaling_factor", 0.0) != 0.0,
            "rotary_scaling_factor (dynamic NTK rotary: its base follows the padded batch length and the "
            "calls before it)");
  refuse_if(r.has("rotary_emb_scale_base"), "rotary_emb_scale_base (XPos scaling)");
  refuse_if(r.boolean("rotary_head_dim", false), "rotary_head_dim: true");
  refuse_if(r.boolean("norm_mlp", false), "norm_mlp: true (a LayerNorm inside the gated MLP)");
  refuse_if(r.integer("moe_every_n_layers", 0, 0) > 0, "moe_every_n_layers (mixture-of-experts layers)");
  refuse_if(r.has("num_heads_kv") && r.integer("num_heads_kv", 0) != r.integer("n_head", 12),
            "num_heads_kv other than n_head");
  // L1579-1582: F.scaled_dot_product_attention(dropout_p=attn_pdrop) drops probabilities in
  // eval mode too, so the reference's outputs would be random.
  ENCORE_CHECK(r.probability("attn_pdrop", 0.1) == 0.0f, r.file,
               ": attn_pdrop > 0: the reference applies attention dropout in eval mode too (its outputs are "
               "random); set it to 0");
}

ModelConfig parse_config(const ConfigReader& r) {
  refuse_unsupported(r);
  ModelConfig c;  // GPT2Config's keys and defaults, NomicBertConfig's additions
  c.hidden = r.integer("n_embd", 768);
  c.layers = r.integer("n_layer", 12, 0);
  c.heads = r.integer("n_head", 12);
  r.check_heads(c, "n_embd", "n_head");
  const int64_t d = c.hidden / c.heads;
  const std::string act = r.string("activation_function", "gelu_new");
  ENCORE_CHECK(act == "swiglu" || act == "geglu" || act == "gelu" || act == "gelu_new" || act == "gelu_fast" ||
                   act == "gelu_pytorch_tanh" || act == "glu",
               r.file, ": activation_function '", act, "' is not one NomicBertModel accepts (L1875-1883)");
  ENCORE_CHECK(act != "glu", r.file, ": activation_function 'glu' (a sigmoid gate) is not supported");
  if (gated(act)) {
    // NomciBertGatedMLP (L1074-1076): n_inner (default 8H/3) rounded up to a multiple of 256.
    const int64_t inner = r.has("n_inner") ? r.integer("n_inner", 0) : 8 * c.hidden / 3;
    c.intermediate = (inner + 255) / 256 * 256;
  } else {
    c.intermediate = r.has("n_inner") ? r.integer("n_inner", 0) : 4 * c.hidden;  // NomicBertMLP
  }
  // NomicBertModel.__init__ (L1871-1873): the vocabulary rounded up to pad_vocab_size_multiple.
  const int64_t multiple = r.integer("pad_vocab_size_multiple", 1);
  c.vocab_size = (r.integer("vocab_size", 50257) + multiple - 1) / multiple * multiple;
  c.type_vocab_size = r.integer("type_vocab_size", 2, 0);
  c.padding_idx = r.has("pad_token_id") ? r.integer("pad_token_id", 0, 0) : 0;
  c.has_pooler = false;  // decided by the checkpoint (NomicBertModel(add_pooling_layer))
  c.embedding_size = c.hidden;
  const float eps = static_cast<float>(r.number("layer_norm_epsilon", 1e-5));
  c.embedding_norm_eps = eps;
  const float resid = r.probability("resid_pdrop", 0.1);
  c.embedding_dropout = resid;  // emb_drop after emb_ln
  c.max_positions = r.integer("n_positions", 1024);
  c.max_length = c.max_positions;

  LayerSpec& l = c.layer;
  l.layer_norm_eps = eps;
  l.hidden_dropout = resid;  // dropout1 / dropout2
  l.attention.mask_fill = std::numeric_limits<float>::lowest();  // get_extended_attention_mask: float32 min
  // L1499: rotary_emb_dim = head_dim * rotary_emb_fraction; none: a learned position table (L993).
  const double fraction = r.number("rotary_emb_fraction", 0.0);
  ENCORE_CHECK(fraction >= 0.0 && fraction <= 1.0, r.file, ": rotary_emb_fraction ", fraction,
               " is outside [0, 1]");
  const double rotary = static_cast<double>(d) * fraction;
  c.absolute_positions = rotary <= 0.0;
  if (rotary > 0.0) {
    const int64_t rd = static_cast<int64_t>(rotary);
    ENCORE_CHECK(static_cast<double>(rd) == rotary && rd % 2 == 0, r.file, ": rotary_emb_fraction ", fraction,
                 " rotates ", rotary, " of ", d, " features per head; rotary embeddings need an even count");
    l.attention.rotary_theta = static_cast<float>(r.number("rotary_emb_base", 10000.0));
    l.attention.rotary_dims = rd == d ? 0 : rd;
  }
  if (gated(act)) {
    l.feed_forward.kind = FeedForwardKind::Glu;  // fc2(fc11(x) * act(fc12(x))), L1085-1096
    l.feed_forward.activation = act == "swiglu" ? Activation::Silu : Activation::GeluErf;
  } else {
    // L1615 passes the function F.gelu, so NomicBertMLP's string test (L1046-1047) fails and
    // every plain activation_function is the erf GELU.
    l.feed_forward.activation = Activation::GeluErf;
  }
  l.feed_forward.activation_label = act;
  return c;
}

BodyNames names() {
  BodyNames n;
  n.prefix = "bert.";  // the task classes' body (self.bert); NomicBertModel's own files have none
  n.word = "embeddings.word_embeddings.weight";
  n.position = "embeddings.position_embeddings.weight";
  n.token_type = "embeddings.token_type_embeddings.weight";
  n.embedding_norm = {"emb_ln.weight", "emb_ln.bias"};
  n.pooler = {"pooler.dense.weight", "pooler.dense.bias"};
  const std::string l = "encoder.layers.{i}.";
  auto linear = [&](const std::string& name) { return LinearNames{l + name + ".weight", l + name + ".bias"}; };
  n.qkv = linear("attn.Wqkv");  // [3H, H]: (three, heads, d) on the outputs, as encore stacks Q K V
  n.attention_out = linear("attn.out_proj");
  n.attention_norm = {l + "norm1.weight", l + "norm1.bias"};
  n.ffn_in = linear("mlp.fc12");  // gated (configure): the activated branch; plain: mlp.fc1
  n.ffn_gate = linear("mlp.fc11");
  n.ffn_out = linear("mlp.fc2");
  n.ffn_norm = {l + "norm2.weight", l + "norm2.bias"};
  return n;
}

std::vector<HeadSpec> heads() {
  // NomicBertForPreTraining (L1928-1989): decoder(LN(act(dense(h)))), the decoder tied to the
  // word embeddings; act and the biases set by configure.
  HeadPart mlm;
  mlm.dense = {"cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias"};
  mlm.activation = HeadActivation::Given;
  mlm.norm = {"cls.predictions.transform.layer_norm.weight", "cls.predictions.transform.layer_norm.bias"};
  mlm.out = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"};
  mlm.rows = HeadRows::Vocab;
  mlm.outputs = {"logits"};
  // NomicBertForSequenceClassification (L1992-2068): classifier(drop(tanh(pooler(h[:, 0])))).
  HeadPart classifier = linear_head(HeadInput::Pooler, {"classifier.weight", "classifier.bias"}, HeadRows::Labels,
                                    {"logits"});
  return {
      {"NomicBertForPreTraining", {}, TaskHead::MaskedLM, mlm, std::nullopt},
      {"NomicBertForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt, classifier},
  };
}

// The biases the config leaves out, the plain MLP's names, the MLM transform's activation.
void configure(const ConfigReader& r, BodyNames& n, std::vector<HeadSpec>& heads) {
  const std::string act = r.string("activation_function", "gelu_new");
  if (!gated(act)) {
    n.ffn_in = {"encoder.layers.{i}.mlp.fc1.weight", "encoder.layers.{i}.mlp.fc1.bias"};
    n.ffn_gate = {};
  }
  if (!r.boolean("qkv_proj_bias", true)) n.qkv.bias = n.attention_out.bias = "";  // L1521-1523
  const bool fc1_bias = r.boolean("mlp_fc1_bias", true);
  if (!fc1_bias) n.ffn_in.bias = n.ffn_gate.bias = "";
  if (!r.boolean("mlp_fc2_bias", true)) n.ffn_out.bias = "";
  // NomicBertPredictionHeadTransform (L1824-1841): silu for swiglu, else GELU (tanh for the
  // gelu_new family, unlike the body); its dense and the decoder have biases iff mlp_fc1_bias.
  const bool tanh = act == "gelu_new" || act == "gelu_fast" || act == "gelu_pytorch_tanh";
  const Activation head_act = act == "swiglu" ? Activation::Silu : tanh ? Activation::GeluTanh : Activation::GeluErf;
  for (HeadSpec& h : heads)
    if (h.kind == TaskHead::MaskedLM) {
      h.token->given_activation = head_act;
      if (!fc1_bias) h.token->dense.bias = h.token->out.bias = "";
    }
}

Architecture record() {
  Architecture a;
  a.name = "nomic-bert";
  a.reference = "NomicBertModel, modeling_hf_nomic_bert.py of nomic-ai/nomic-bert-2048 (tools/reference/nomic_bert)";
  a.config_file = "config.json";
  a.model_types = {"nomic_bert"};
  a.detect_order = 1;
  a.family = "nomic-bert";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.configure = configure;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.inputs = {"input_ids", "attention_mask", "token_type_ids"};  // position_ids never reach the rotary
  a.io.head_mask = "";
  a.io.positions = "";
  a.explain = {"activation_function: swiglu = silu gate, geglu = erf gelu gate; every plain one erf gelu",
               "layer_norm_epsilon, default 1e-05 (1e-12 in nomic-embed-text)",
               "(1 - mask) * float32 min, added after scaling",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; after out-proj; after FFN out (resid_pdrop)",
               "post, no final norm"};
  a.explain_parameters = "9440256 at H=768, I=3072 (4H^2 + 3HI + 4H without linear biases; nomic-embed-text-v1)";
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
