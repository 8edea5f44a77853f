// DistilBERT: BERT's post-norm layer under its own config keys and weight names, without
// token types or a pooler, every LayerNorm eps fixed at 1e-12. References: transformers 4.57.6
// models/distilbert/modeling_distilbert.py, configuration_distilbert.py; docs/encoder-family.md.
//
// Where the arithmetic differs from BERT and encore does not follow it to the bit: q is
// scaled before the product (L211-212; BERT scales the scores), equal in exact arithmetic;
// masked keys are written finfo.min with masked_fill (L213-216) where BERT adds it, which
// gives the same float32 scores (a finite score plus finfo.min rounds to finfo.min).
// In train mode DistilBERT has no dropout after out_lin (L403), which encore's layer applies
// (LayerSpec::hidden_dropout is one probability for both blocks): inference is exact.
#include <limits>

#include "models/architecture.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  ModelConfig c;  // DistilBertConfig keys and defaults (configuration_distilbert.py)
  c.vocab_size = r.integer("vocab_size", 30522);
  c.hidden = r.integer("dim", 768);
  c.layers = r.integer("n_layers", 6, 0);
  c.heads = r.integer("n_heads", 12);
  c.intermediate = r.integer("hidden_dim", 3072);
  c.max_positions = r.integer("max_position_embeddings", 512);
  r.check_heads(c, "dim", "n_heads");
  const std::string act = r.string("activation", "gelu");  // L415: get_activation(config.activation)
  c.layer.feed_forward.activation = r.activation(act);
  c.layer.feed_forward.activation_label = act;
  // Every LayerNorm is nn.LayerNorm(dim, eps=1e-12), no config key (L91, L444, L447, L749).
  c.layer.layer_norm_eps = 1e-12f;
  c.layer.hidden_dropout = r.probability("dropout", 0.1);
  c.layer.attention.dropout = r.probability("attention_dropout", 0.1);
  c.layer.attention.mask_fill = std::numeric_limits<float>::lowest();  // masked_fill(mask == 0, finfo.min)
  c.type_vocab_size = 0;  // no token types (L123-125)
  c.embedding_size = c.hidden;
  c.embedding_norm_eps = 1e-12f;
  c.embedding_dropout = c.layer.hidden_dropout;
  // sinusoidal_pos_embds only decides how the table is initialized (L77-82); the checkpoint
  // stores it like a learned one.
  c.max_length = c.max_positions;
  return c;
}

BodyNames names() {
  BodyNames n;
  n.prefix = "distilbert.";
  n.word = "embeddings.word_embeddings.weight";  // L88-91
  n.position = "embeddings.position_embeddings.weight";
  n.embedding_norm = {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  const std::string l = "transformer.layer.{i}.";  // L146-149, L413-414, L443-447
  auto linear = [&](const char* name) {
    return LinearNames{l + name + ".weight", l + name + ".bias"};
  };
  n.query = linear("attention.q_lin");
  n.key = linear("attention.k_lin");
  n.value = linear("attention.v_lin");
  n.attention_out = linear("attention.out_lin");
  n.attention_norm = {l + "sa_layer_norm.weight", l + "sa_layer_norm.bias"};
  n.ffn_in = linear("ffn.lin1");
  n.ffn_out = linear("ffn.lin2");
  n.ffn_norm = {l + "output_layer_norm.weight", l + "output_layer_norm.bias"};
  return n;
}

std::vector<HeadSpec> heads() {
  // vocab_projector(vocab_layer_norm(act(vocab_transform(h)))), act = config.activation,
  // eps 1e-12 (L745-750, L824-827); vocab_projector.weight tied to the word embeddings (L740).
  HeadPart mlm;
  mlm.dense = {"vocab_transform.weight", "vocab_transform.bias"};
  mlm.activation = HeadActivation::Layer;
  mlm.norm = {"vocab_layer_norm.weight", "vocab_layer_norm.bias"};
  mlm.norm_eps = 1e-12f;
  mlm.out = {"vocab_projector.weight", "vocab_projector.bias"};
  mlm.rows = HeadRows::Vocab;
  mlm.outputs = {"logits"};
  // classifier(relu(pre_classifier(h[:, 0]))) (L858-860, L915-919).
  HeadPart classifier;
  classifier.input = HeadInput::FirstToken;
  classifier.dense = {"pre_classifier.weight", "pre_classifier.bias"};
  classifier.activation = HeadActivation::Relu;
  classifier.out = {"classifier.weight", "classifier.bias"};
  classifier.outputs = {"logits"};
  return {
      {"DistilBertForMaskedLM", {}, TaskHead::MaskedLM, mlm, std::nullopt},
      {"DistilBertForQuestionAnswering", {}, TaskHead::QuestionAnswering,  // L962, L1031-1034
       qa_outputs(),
       std::nullopt},
      {"DistilBertForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt, classifier},
      {"DistilBertForTokenClassification", {}, TaskHead::TokenClassification,  // L1074, L1130
       token_classifier(), std::nullopt},
  };
}

ForwardNames forward_names() {
  ForwardNames io;
  // DistilBertModel.forward(input_ids, attention_mask, head_mask, ...) (L666-675): no token
  // types, no position_ids; a [B, S, S] mask raises (L197, L213).
  io.inputs = {"input_ids", "attention_mask", "head_mask"};
  io.types = io.positions = io.pooled = "";
  io.mask3d = false;
  return io;
}

Architecture record() {
  Architecture a;
  a.name = "distilbert";
  a.reference = "transformers DistilBertModel (config.json, its own module names)";
  a.config_file = "config.json";
  a.model_types = {"distilbert"};  // configuration_distilbert.py:L85
  a.detect_order = 1;
  a.family = "distilbert";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.names = names();
  a.heads = heads();
  a.io = forward_names();
  a.explain = {"activation: \"gelu\" = exact erf (or relu, ...)",
               "1e-12 (fixed, no config key)",
               "masked_fill(mask == 0, float32 min) after scaling q",
               "uniform over all keys (every score float32 min)",
               "embeddings; attention probs; after FFN out (none after out_lin: encore's train mode adds one)",
               "post"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
