// ELECTRA: BERT's layers (copies of BertModel's, modeling_electra.py L333-438) under an
// embedding table of its own width: embedding_size E for the word, position and type tables
// and the embedding LayerNorm, projected to the hidden size by embeddings_project when E
// differs (L687-688, applied L786-787); no pooler. References: transformers 4.57.6
// models/electra/modeling_electra.py, configuration_electra.py; docs/encoder-family.md.
#include "models/arch_bert.h"

namespace encore {

namespace {

ModelConfig parse_config(const ConfigReader& r) {
  BertConfigDefaults d;  // ElectraConfig (configuration_electra.py:L123-143)
  d.hidden_size = 256, d.num_attention_heads = 4, d.intermediate_size = 1024;
  ModelConfig c = parse_bert_config(r, d);
  c.embedding_size = r.integer("embedding_size", 128);
  return c;
}

BodyNames names() {
  BodyNames n = bert_body_names();
  n.prefix = "electra.";
  n.embedding_projection = {"embeddings_project.weight", "embeddings_project.bias"};
  n.pooler = {};
  return n;
}

std::vector<HeadSpec> heads() {
  // ElectraDiscriminatorPredictions (L600-616): dense_prediction(act(dense(h))).squeeze(-1),
  // act = hidden_act.
  HeadPart discriminator;
  discriminator.dense = {"discriminator_predictions.dense.weight", "discriminator_predictions.dense.bias"};
  discriminator.activation = HeadActivation::Layer;
  discriminator.out = {"discriminator_predictions.dense_prediction.weight",
                       "discriminator_predictions.dense_prediction.bias"};
  discriminator.rows = HeadRows::One;
  discriminator.outputs = {"logits"};
  discriminator.squeeze = true;
  // The generator (L619-634, L1127-1181): generator_lm_head(LN_E(gelu(dense(h)))), dense H -> E,
  // gelu the erf form whatever hidden_act says, LN eps layer_norm_eps, generator_lm_head tied
  // to the word embeddings [V, E], its bias stored.
  HeadPart generator;
  generator.dense = {"generator_predictions.dense.weight", "generator_predictions.dense.bias"};
  generator.dense_to_embedding = true;
  generator.activation = HeadActivation::GeluErf;
  generator.norm = {"generator_predictions.LayerNorm.weight", "generator_predictions.LayerNorm.bias"};
  generator.out = {"generator_lm_head.weight", "generator_lm_head.bias"};
  generator.rows = HeadRows::Vocab;
  generator.outputs = {"logits"};
  // ElectraClassificationHead (L805-825): out_proj(gelu(dense(h[:, 0]))), gelu the erf form.
  HeadPart classifier;
  classifier.input = HeadInput::FirstToken;
  classifier.dense = {"classifier.dense.weight", "classifier.dense.bias"};
  classifier.activation = HeadActivation::GeluErf;
  classifier.out = {"classifier.out_proj.weight", "classifier.out_proj.bias"};
  classifier.outputs = {"logits"};
  return {
      {"ElectraForPreTraining", {}, TaskHead::Discriminator, discriminator, std::nullopt},
      {"ElectraForMaskedLM", {}, TaskHead::MaskedLM, generator, std::nullopt},
      {"ElectraForQuestionAnswering", {}, TaskHead::QuestionAnswering,  // L1285, L1320-1323
       qa_outputs(),
       std::nullopt},
      {"ElectraForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt, classifier},
      {"ElectraForTokenClassification", {}, TaskHead::TokenClassification,  // L1218, L1256
       token_classifier(), std::nullopt},
  };
}

Architecture record() {
  Architecture a;
  a.name = "electra";
  a.reference = "transformers ElectraModel (config.json, HF module names, embeddings_project)";
  a.config_file = "config.json";
  a.model_types = {"electra"};  // configuration_electra.py:L119
  a.detect_order = 1;
  a.family = "electra";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.pooled = "";
  a.explain = {"hidden_act as BERT; the generator and classification heads' gelu is always erf",
               "layer_norm_eps, default 1e-12 (embedding LayerNorm over embedding_size)",
               "(1 - mask) * float32 min, added after scaling",
               "uniform over all keys (score + float32 min rounds to float32 min)",
               "embeddings; attention probs; after out-proj; after FFN out",
               "post"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
