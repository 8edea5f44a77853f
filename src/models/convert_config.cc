#include "models/convert_config.h"

#include "models/architecture.h"

namespace encore {

using nlohmann::json;

namespace {

double number(const json& j, const char* key, double fallback) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

// transformers ACT2FN spelling of each activation.
const char* hf_activation(Activation a) {
  switch (a) {
    case Activation::GeluErf: return "gelu";
    case Activation::GeluTanh: return "gelu_new";
    case Activation::QuickGelu: return "quick_gelu";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
    case Activation::Tanh: return "tanh";
  }
  return "?";
}

// A TransformerEncoderLayer is a BertLayer only when post-norm, with biases and no final norm.
void check_bert_layer(const ModelConfig& c) {
  ENCORE_CHECK(!c.layer.norm_first, "norm_first=True (pre-norm) layers have no BERT equivalent");
  ENCORE_CHECK(c.layer.bias, "bias=False layers have no BERT equivalent (BERT has biases everywhere)");
  ENCORE_CHECK(!c.final_norm, "a final norm (TransformerEncoder norm=...) has no BERT equivalent");
}

// Dropout probabilities as the source spells them (PyTorch has one for all three places).
double dropout(const ConfigInput& in, const char* bert_key) {
  return in.from.layout == ConvertTarget::Torch ? number(in.source, "dropout", 0.1) : number(in.source, bert_key, 0.1);
}

const char* architecture(const std::map<std::string, Tensor>& canonical) {
  auto has = [&](const char* n) { return canonical.count(n) != 0; };
  if (has("cls.predictions.bias") && has("cls.seq_relationship.weight")) return "BertForPreTraining";
  if (has("cls.predictions.bias")) return "BertForMaskedLM";
  if (has("cls.seq_relationship.weight")) return "BertForNextSentencePrediction";
  if (has("classifier.weight")) return "BertForSequenceClassification";
  if (has("qa_outputs.weight")) return "BertForQuestionAnswering";
  return "BertModel";
}

json encoder_only_hf(const ConfigInput& in) {
  const ModelConfig& c = in.config;
  check_bert_layer(c);
  return {{"model_type", "bert"},
          {"encore_encoder_only", true},
          {"hidden_size", c.hidden},
          {"num_hidden_layers", c.layers},
          {"num_attention_heads", c.heads},
          {"intermediate_size", c.intermediate},
          {"hidden_act", hf_activation(c.layer.feed_forward.activation)},
          {"layer_norm_eps", number(in.source, "layer_norm_eps", 1e-5)},
          {"hidden_dropout_prob", dropout(in, "")},
          {"attention_probs_dropout_prob", dropout(in, "")}};
}

}  // namespace

json same_config(const ConfigInput& in) {
  json j = in.source;
  if (in.activation_override) j["hidden_act"] = hf_activation(in.config.layer.feed_forward.activation);
  return j;
}

json hf_config(const ConfigInput& in, std::vector<std::string>& notes) {
  const ModelConfig& c = in.config;
  const std::map<std::string, Tensor>& canonical = in.canonical;
  if (in.from.layout == ConvertTarget::Torch) return encoder_only_hf(in);
  if (in.from.layout == ConvertTarget::HF) return same_config(in);
  json j = in.source;  // Google's bert_config.json keys are HF keys too
  j["model_type"] = "bert";
  j["architectures"] = json::array({architecture(canonical)});
  j["hidden_act"] = hf_activation(c.layer.feed_forward.activation);
  if (!in.activation_override && c.layer.feed_forward.activation == Activation::GeluTanh)
    notes.push_back("hidden_act: Google's \"gelu\" is the tanh form, written as HF \"gelu_new\" "
                    "(--activation gelu_erf for checkpoints trained with the erf form)");
  j["type_vocab_size"] = c.type_vocab_size;  // Google's default is 16, HF's 2
  j["max_position_embeddings"] = c.max_positions;
  if (!j.contains("layer_norm_eps")) j["layer_norm_eps"] = 1e-12;
  j["position_embedding_type"] = "absolute";
  auto cls = canonical.find("classifier.weight");
  if (cls != canonical.end() && cls->second.dim() == 2) {  // HF reads num_labels from id2label
    json id2label = json::object(), label2id = json::object();
    for (int64_t i = 0; i < cls->second.size(0); ++i) {
      id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
      label2id["LABEL_" + std::to_string(i)] = i;
    }
    j["id2label"] = id2label, j["label2id"] = label2id;
  }
  return j;
}

json google_config(const ConfigInput& in, std::vector<std::string>& notes) {
  const ModelConfig& c = in.config;
  if (in.from.layout == ConvertTarget::Torch) check_bert_layer(c);
  ENCORE_CHECK(c.layer.attention.relative == RelativePositions::None,
               "relative position embeddings have no Google BERT equivalent (modeling.py is absolute only)");
  const char* act = nullptr;
  switch (c.layer.feed_forward.activation) {
    case Activation::GeluTanh: act = "gelu"; break;
    case Activation::Relu: act = "relu"; break;
    case Activation::GeluErf:
      act = "gelu";
      notes.push_back("the erf GELU has no bert_config.json spelling (modeling.py's \"gelu\" is the tanh form): "
                      "written as \"gelu\"; load it with --activation gelu_erf");
      break;
    default:
      fail("activation ", activation_name(c.layer.feed_forward.activation),
           " has no Google BERT spelling (modeling.py: gelu = tanh form, relu)");
  }
  json j = {{"attention_probs_dropout_prob", dropout(in, "attention_probs_dropout_prob")},
            {"hidden_act", act},
            {"hidden_dropout_prob", dropout(in, "hidden_dropout_prob")},
            {"hidden_size", c.hidden},
            {"initializer_range", number(in.source, "initializer_range", 0.02)},
            {"intermediate_size", c.intermediate},
            {"num_attention_heads", c.heads},
            {"num_hidden_layers", c.layers}};
  if (in.from.layout == ConvertTarget::Torch) {
    j["encore_encoder_only"] = true;
  } else {
    j["max_position_embeddings"] = c.max_positions;
    j["type_vocab_size"] = c.type_vocab_size;
    j["vocab_size"] = c.vocab_size;
  }
  const double eps = number(in.source, "layer_norm_eps", in.from.layout == ConvertTarget::Torch ? 1e-5 : 1e-12);
  if (eps != 1e-12) {
    j["layer_norm_eps"] = eps;
    notes.push_back("layer_norm_eps " + std::to_string(eps) +
                    " written to bert_config.json: encore reads it, Google's modeling.py always uses 1e-12");
  }
  return j;
}

}  // namespace encore
