// DeBERTa-v2 and v3 (and mDeBERTa): BERT-shaped post-norm layers whose attention adds
// disentangled relative position scores — content-to-position (q_i · pk[r]) and
// position-to-content (k_j · pq[r]), r the log-bucketed distance i - j, pk / pq each layer's key
// and query projections of one shared table of relative embeddings — with every term divided by
// sqrt(d * (1 + the number of position terms)). Embeddings: word (+ absolute positions when
// position_biased_input, false in v3) (+ token types when type_vocab_size > 0), an optional
// projection E -> H before the LayerNorm, multiplied by the mask. v2-xlarge's ConvLayer after the
// first layer. References: transformers 4.57.6 models/deberta_v2/modeling_deberta_v2.py and
// configuration_deberta_v2.py; docs/encoder-family.md.
#include <limits>

#include "models/arch_bert.h"

namespace encore {

namespace {

// pos_att_type as a list, or as the older "p2c|c2p" string (DebertaV2Config.__init__).
std::vector<std::string> position_terms(const ConfigReader& r) {
  std::vector<std::string> out;
  if (!r.has("pos_att_type")) return out;
  const nlohmann::json& v = r.j["pos_att_type"];
  auto add = [&](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    ENCORE_CHECK(s == "c2p" || s == "p2c", r.file, ": pos_att_type '", s, "' is neither c2p nor p2c");
    out.push_back(s);
  };
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    size_t at = 0;
    while (at <= s.size()) {
      const size_t bar = s.find('|', at);
      add(s.substr(at, bar == std::string::npos ? std::string::npos : bar - at));
      if (bar == std::string::npos) break;
      at = bar + 1;
    }
  } else {
    ENCORE_CHECK(v.is_array(), r.file, ": pos_att_type must be a list or a '|'-separated string");
    for (const auto& e : v) {
      ENCORE_CHECK(e.is_string(), r.file, ": pos_att_type entries must be strings");
      add(e.get<std::string>());
    }
  }
  return out;
}

bool has_term(const std::vector<std::string>& terms, const char* t) {
  return std::find(terms.begin(), terms.end(), t) != terms.end();
}

ModelConfig parse_config(const ConfigReader& r) {
  ModelConfig c;  // DebertaV2Config's defaults (configuration_deberta_v2.py)
  c.vocab_size = r.integer("vocab_size", 128100);
  c.hidden = r.integer("hidden_size", 1536);
  c.layers = r.integer("num_hidden_layers", 24, 0);
  c.heads = r.integer("num_attention_heads", 24);
  c.intermediate = r.integer("intermediate_size", 6144);
  r.check_heads(c, "hidden_size", "num_attention_heads");
  ENCORE_CHECK(!r.has("attention_head_size") || r.integer("attention_head_size", 0) == c.hidden / c.heads, r.file,
               ": attention_head_size other than hidden_size / num_attention_heads is not supported");
  c.max_positions = r.integer("max_position_embeddings", 512);
  c.max_length = c.max_positions;
  c.type_vocab_size = r.integer("type_vocab_size", 0, 0);
  c.padding_idx = r.integer("pad_token_id", 0, 0);
  c.absolute_positions = r.boolean("position_biased_input", true);
  c.has_pooler = false;  // the ContextPooler belongs to the classification head
  c.embedding_size = r.integer("embedding_size", c.hidden);
  c.embedding_norm_after_projection = true;  // DebertaV2Embeddings: embed_proj, then LayerNorm over H
  c.embeddings_masked = true;                // embeddings * mask
  const float eps = static_cast<float>(r.number("layer_norm_eps", 1e-7));
  c.embedding_norm_eps = eps;
  c.embedding_dropout = r.probability("hidden_dropout_prob", 0.1);

  LayerSpec& l = c.layer;
  l.layer_norm_eps = eps;
  const std::string act = r.string("hidden_act", "gelu");
  l.feed_forward.activation = r.activation(act);
  l.feed_forward.activation_label = act;
  l.hidden_dropout = c.embedding_dropout;
  AttentionSpec& a = l.attention;
  a.dropout = r.probability("attention_probs_dropout_prob", 0.1);
  a.mask_fill = std::numeric_limits<float>::lowest();  // masked_fill(~mask, finfo.min)
  // The scale counts the position terms whether or not relative_attention computes them.
  const std::vector<std::string> terms = position_terms(r);
  a.c2p = has_term(terms, "c2p"), a.p2c = has_term(terms, "p2c");
  a.scale_factor = 1.0f + static_cast<float>(a.c2p) + static_cast<float>(a.p2c);
  if (r.boolean("relative_attention", false) && (a.c2p || a.p2c)) {
    a.relative = RelativePositions::Disentangled;
    const int64_t max_relative = r.integer("max_relative_positions", -1, std::numeric_limits<int64_t>::min());
    a.max_relative = static_cast<int>(max_relative < 1 ? c.max_positions : max_relative);
    const int64_t buckets = r.integer("position_buckets", -1, std::numeric_limits<int64_t>::min());
    a.position_buckets = static_cast<int>(buckets > 0 ? buckets : 0);
  }
  c.conv_kernel = r.integer("conv_kernel_size", 0, 0);
  if (c.conv_kernel > 0) {
    ENCORE_CHECK(c.conv_kernel % 2 == 1, r.file, ": conv_kernel_size ", c.conv_kernel,
                 " is even (the reference's padding (k - 1) / 2 then shortens the sequence)");
    ENCORE_CHECK(r.integer("conv_groups", 1) == 1, r.file, ": conv_groups other than 1 is not supported");
    c.conv_activation = r.activation(r.string("conv_act", "tanh"));
  }
  return c;
}

BodyNames names() {
  BodyNames n = bert_body_names();
  n.prefix = "deberta.";  // DebertaV2PreTrainedModel.base_model_prefix
  n.pooler = {};
  n.embedding_projection = {"embeddings.embed_proj.weight", ""};
  const std::string l = "encoder.layer.{i}.";
  n.query = {l + "attention.self.query_proj.weight", l + "attention.self.query_proj.bias"};
  n.key = {l + "attention.self.key_proj.weight", l + "attention.self.key_proj.bias"};
  n.value = {l + "attention.self.value_proj.weight", l + "attention.self.value_proj.bias"};
  n.distance = "";
  n.pos_key = {l + "attention.self.pos_key_proj.weight", l + "attention.self.pos_key_proj.bias"};
  n.pos_query = {l + "attention.self.pos_query_proj.weight", l + "attention.self.pos_query_proj.bias"};
  n.relative_embeddings = "encoder.rel_embeddings.weight";
  n.relative_embeddings_norm = {"encoder.LayerNorm.weight", "encoder.LayerNorm.bias"};
  n.conv = {"encoder.conv.conv.weight", "encoder.conv.conv.bias"};
  n.conv_norm = {"encoder.conv.LayerNorm.weight", "encoder.conv.LayerNorm.bias"};
  return n;
}

std::vector<HeadSpec> heads() {
  // ForMaskedLM, legacy (config legacy, default true): BERT's cls.predictions (transform dense
  // H -> E, hidden_act, LayerNorm; decoder tied, bias cls.predictions.bias).
  HeadPart legacy;
  legacy.dense = {"cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias"};
  legacy.dense_to_embedding = true;
  legacy.activation = HeadActivation::Layer;
  legacy.norm = {"cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"};
  legacy.out = {"cls.predictions.decoder.weight", "cls.predictions.bias"};
  legacy.out_bias_copy = "cls.predictions.decoder.bias";
  legacy.rows = HeadRows::Vocab;
  legacy.outputs = {"logits"};
  // legacy false: DebertaV2LMPredictionHead, h · word_embeddings^T + bias.
  HeadPart lm = legacy;
  lm.dense = {"lm_predictions.lm_head.dense.weight", "lm_predictions.lm_head.dense.bias"};
  lm.dense_to_embedding = false;
  lm.norm = {"lm_predictions.lm_head.LayerNorm.weight", "lm_predictions.lm_head.LayerNorm.bias"};
  lm.out = {"", "lm_predictions.lm_head.bias"};
  lm.out_bias_copy = "";
  // ForSequenceClassification: classifier(ContextPooler(h)), the pooler act(dense(h[:, 0])),
  // act = pooler_hidden_act (configure).
  HeadPart classifier = linear_head(HeadInput::FirstToken, {"classifier.weight", "classifier.bias"},
                                    HeadRows::Labels, {"logits"});
  classifier.dense = {"pooler.dense.weight", "pooler.dense.bias"};
  classifier.activation = HeadActivation::Given;
  return {
      {"DebertaV2ForMaskedLM", {}, TaskHead::MaskedLM, legacy, std::nullopt},
      {"DebertaV2ForMaskedLM", {}, TaskHead::MaskedLM, lm, std::nullopt},
      {"DebertaV2ForQuestionAnswering", {}, TaskHead::QuestionAnswering, qa_outputs(), std::nullopt},
      {"DebertaV2ForSequenceClassification", {}, TaskHead::SequenceClassification, std::nullopt, classifier},
      {"DebertaV2ForTokenClassification", {}, TaskHead::TokenClassification, token_classifier(), std::nullopt},
  };
}

// Which MLM head (legacy), whether the position projections are the layers' own (share_att_key),
// the relative embeddings' norm (norm_rel_ebd), the pooler's activation.
void configure(const ConfigReader& r, BodyNames& n, std::vector<HeadSpec>& heads) {
  if (r.boolean("share_att_key", false)) n.pos_key = n.pos_query = {};
  const std::string norm = r.string("norm_rel_ebd", "none");
  if (norm.find("layer_norm") == std::string::npos) n.relative_embeddings_norm = {};
  const bool legacy = r.boolean("legacy", true);
  const Activation pooler_act = r.activation(r.string("pooler_hidden_act", "gelu"));
  std::vector<HeadSpec> kept;
  for (HeadSpec& h : heads) {
    if (h.kind == TaskHead::MaskedLM && (h.token->dense.weight.rfind("cls.", 0) == 0) != legacy) continue;
    if (h.sequence) h.sequence->given_activation = pooler_act;
    kept.push_back(h);
  }
  heads = kept;
}

Architecture record() {
  Architecture a;
  a.name = "deberta-v2";
  a.aliases = {"deberta-v3"};
  a.reference = "transformers DebertaV2Model (config.json, disentangled relative attention)";
  a.config_file = "config.json";
  a.model_types = {"deberta-v2"};
  a.detect_order = 1;
  a.family = "deberta-v2";
  a.layout = ConvertTarget::HF;
  a.parse_config = parse_config;
  a.configure = configure;
  a.names = names();
  a.heads = heads();
  a.io = bert_forward_names();
  a.io.inputs = {"input_ids", "attention_mask", "token_type_ids", "position_ids"};
  a.io.head_mask = "";
  a.io.mask3d = false;  // DebertaV2Embeddings multiplies [B, S, H] by the mask: 2-D only
  a.explain = {"hidden_act, default gelu (erf); the pooler's pooler_hidden_act",
               "layer_norm_eps, default 1e-07",
               "masked_fill(float32 min) on query and key padding, after the position terms",
               "uniform over all keys (every score float32 min)",
               "embeddings; attention probs; the relative embeddings; after out-proj; after FFN out",
               "post; c2p / p2c relative scores from one shared table; v2-xlarge: a ConvLayer after layer 0"};
  return a;
}

const bool registered = register_architecture(record());

}  // namespace
}  // namespace encore
