// BERT as google-research/bert saves it: bert_config.json and TensorFlow variable names
// (a tensor bundle, or the same names in safetensors), dense kernels [in, out]. References:
// modeling.py (BertModel, transformer_model, get_activation), run_pretraining.py,
// run_classifier.py, run_squad.py.
#include "models/architecture.h"
#include "models/convert_config.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  ENCORE_CHECK(!r.boolean("encore_encoder_only", false), r.file,
               ": encoder layers only (encore convert --encoder-only), no embeddings: not a model that loads");
  ModelConfig c;
  c.vocab_size = r.integer("vocab_size", std::nullopt);
  c.hidden = r.integer("hidden_size", std::nullopt);
  c.layers = r.integer("num_hidden_layers", std::nullopt, 0);
  c.heads = r.integer("num_attention_heads", std::nullopt);
  c.intermediate = r.integer("intermediate_size", std::nullopt);
  c.max_positions = r.integer("max_position_embeddings", 512);
  c.type_vocab_size = r.integer("type_vocab_size", 16);
  r.check_heads(c, "hidden_size", "num_attention_heads");
  // get_activation(): "gelu" is modeling.py's tanh approximation; "relu"; "linear" unsupported.
  const std::string act = r.string("hidden_act", "gelu");
  ENCORE_CHECK(act == "gelu" || act == "relu", r.file, ": hidden_act '", act,
               "' is not supported for Google BERT (gelu, relu)");
  c.layer.feed_forward.activation = act == "relu" ? Activation::Relu : Activation::GeluTanh;
  c.layer.feed_forward.activation_label = act == "relu" ? "relu" : "gelu (modeling.py tanh form)";
  c.layer.layer_norm_eps = static_cast<float>(r.number("layer_norm_eps", 1e-12));
  c.layer.hidden_dropout = r.probability("hidden_dropout_prob", 0.1);
  c.layer.attention.dropout = r.probability("attention_probs_dropout_prob", 0.1);
  c.layer.attention.mask_fill = -10000.0f;  // adder = (1.0 - mask) * -10000.0
  c.layer.attention.max_relative = static_cast<int>(c.max_positions);
  c.embedding_size = c.hidden;
  c.embedding_norm_eps = c.layer.layer_norm_eps;
  c.embedding_dropout = c.layer.hidden_dropout;
  c.max_length = c.max_positions;
  return c;
}

BodyNames names() {
  BodyNames n;
  auto kernel = [](const std::string& scope) { return LinearNames{scope + "/kernel", scope + "/bias", true}; };
  auto norm = [](const std::string& scope) { return NormNames{scope + "/gamma", scope + "/beta"}; };
  n.word = "bert/embeddings/word_embeddings";
  n.position = "bert/embeddings/position_embeddings";
  n.token_type = "bert/embeddings/token_type_embeddings";
  n.embedding_norm = norm("bert/embeddings/LayerNorm");
  n.pooler = kernel("bert/pooler/dense");
  const std::string l = "bert/encoder/layer_{i}/";
  n.query = kernel(l + "attention/self/query");
  n.key = kernel(l + "attention/self/key");
  n.value = kernel(l + "attention/self/value");
  n.attention_out = kernel(l + "attention/output/dense");
  n.attention_norm = norm(l + "attention/output/LayerNorm");
  n.ffn_in = kernel(l + "intermediate/dense");
  n.ffn_out = kernel(l + "output/dense");
  n.ffn_norm = norm(l + "output/LayerNorm");
  return n;
}

// The heads of run_pretraining.py (get_masked_lm_output, get_next_sentence_output),
// run_classifier.py (create_model) and run_squad.py, under transformers' class names. Only the
// MLM transform is a kernel [in, out]; output_weights are [out, in] (matmul transpose_b=True).
std::vector<HeadSpec> heads() {
  HeadPart mlm;
  mlm.dense = {"cls/predictions/transform/dense/kernel", "cls/predictions/transform/dense/bias", true};
  mlm.activation = HeadActivation::Layer;
  mlm.norm = {"cls/predictions/transform/LayerNorm/gamma", "cls/predictions/transform/LayerNorm/beta"};
  mlm.out = {"", "cls/predictions/output_bias"};  // the embedding table itself is the decoder
  mlm.rows = HeadRows::Vocab;
  HeadPart nsp;
  nsp.input = HeadInput::Pooler;
  nsp.out = {"cls/seq_relationship/output_weights", "cls/seq_relationship/output_bias"};
  nsp.rows = HeadRows::Two;
  HeadPart classifier;
  classifier.out = {"output_weights", "output_bias"};
  HeadPart squad;
  squad.out = {"cls/squad/output_weights", "cls/squad/output_bias"};
  squad.rows = HeadRows::Two;
  squad.outputs = {"start_logits", "end_logits"};
  auto named = [](HeadPart p, HeadInput input, const char* output) {
    p.input = input;
    p.outputs = {output};
    return p;
  };
  return {
      {"BertForPreTraining",
       {},
       TaskHead::PreTraining,
       named(mlm, HeadInput::Tokens, "prediction_logits"),
       named(nsp, HeadInput::Pooler, "seq_relationship_logits")},
      {"BertForMaskedLM", {}, TaskHead::MaskedLM, named(mlm, HeadInput::Tokens, "logits"), std::nullopt},
      {"BertForNextSentencePrediction",
       {},
       TaskHead::NextSentence,
       std::nullopt,
       named(nsp, HeadInput::Pooler, "logits")},
      {"BertForQuestionAnswering", {}, TaskHead::QuestionAnswering, squad, std::nullopt},
      {"BertForSequenceClassification",
       {},
       TaskHead::SequenceClassification,
       std::nullopt,
       named(classifier, HeadInput::Pooler, "logits")},
      {"BertForTokenClassification",
       {},
       TaskHead::TokenClassification,
       named(classifier, HeadInput::Tokens, "logits"),
       std::nullopt},
  };
}

ForwardNames forward_names() {
  ForwardNames io;
  io.inputs = {"input_ids", "input_mask", "attention_mask", "token_type_ids"};
  io.mask = "input_mask";
  io.mask_alias = "attention_mask";
  io.positions = io.head_mask = "";
  io.mask3d = false;
  io.last = "sequence_output";
  io.pooled = "pooled_output";
  io.embedding_output = "embedding_output";
  io.hidden = "all_encoder_layers.";
  io.hidden_counts_embeddings = false;
  return io;
}

Architecture record() {
  Architecture a;
  a.name = "bert-google";
  a.aliases = {"google"};
  a.reference = "google-research/bert modeling.py (bert_config.json, TensorFlow variable names)";
  a.config_file = "bert_config.json";
  a.detect_order = 2;
  a.family = "bert";
  a.layout = ConvertTarget::Google;
  a.parse_config = parse_config;
  a.write_config = google_config;
  a.names = names();
  a.heads = heads();
  a.io = forward_names();
  a.explain = {"gelu() in modeling.py is the tanh approximation (erf before Feb 2019)",
               "1e-12 (fixed)",
               "(1 - mask) * -10000, added after scaling",
               "softmax of the unmasked scores (the -10000 shift cancels)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
