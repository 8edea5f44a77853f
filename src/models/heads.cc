// Task heads, as transformers modeling_bert.py and google-research/bert compute them:
//
//   MLM  (BertLMPredictionHead; run_pretraining.py get_masked_lm_output)
//        logits = LN(act(h W_t + b_t)) E^T + bias, E = word embeddings unless a separate
//        decoder is stored and tie_word_embeddings is false; act = hidden_act, LN eps =
//        layer_norm_eps.
//   NSP  (BertOnlyNSPHead; get_next_sentence_output) pooled W_s^T + b_s, [2, H].
//   sequence classification (BertForSequenceClassification; run_classifier.py create_model)
//        pooled W^T + b; dropout is inactive at inference.
//   token classification (BertForTokenClassification) sequence_output W^T + b.
//   QA   (BertForQuestionAnswering; run_squad.py) sequence_output W^T + b, [2, H]; column 0
//        start, column 1 end (logits.split(1, dim=-1)).
#include "models/heads.h"

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "models/batch.h"
#include "models/json_file.h"
#include "models/model_impl.h"
#include "models/weight_binder.h"

namespace encore {

namespace fs = std::filesystem;
using nlohmann::json;

const char* task_head_name(TaskHead h) {
  switch (h) {
    case TaskHead::None: return "BertModel";
    case TaskHead::MaskedLM: return "BertForMaskedLM";
    case TaskHead::PreTraining: return "BertForPreTraining";
    case TaskHead::NextSentence: return "BertForNextSentencePrediction";
    case TaskHead::SequenceClassification: return "BertForSequenceClassification";
    case TaskHead::TokenClassification: return "BertForTokenClassification";
    case TaskHead::QuestionAnswering: return "BertForQuestionAnswering";
  }
  return "?";
}

namespace {

// Checkpoint names of the heads, per dialect.
struct HeadNames {
  std::string transform_w, transform_b, ln_g, ln_b, decoder_w, bias, decoder_b;
  std::string nsp_w, nsp_b, cls_w, cls_b, qa_w, qa_b;
};

const HeadNames& head_names(Dialect d) {
  static const HeadNames hf{"cls.predictions.transform.dense.weight",
                            "cls.predictions.transform.dense.bias",
                            "cls.predictions.transform.LayerNorm.weight",
                            "cls.predictions.transform.LayerNorm.bias",
                            "cls.predictions.decoder.weight",
                            "cls.predictions.bias",
                            "cls.predictions.decoder.bias",
                            "cls.seq_relationship.weight",
                            "cls.seq_relationship.bias",
                            "classifier.weight",
                            "classifier.bias",
                            "qa_outputs.weight",
                            "qa_outputs.bias"};
  // Google: dense kernels [in,out]; output_weights are already [out,in] (transpose_b=True).
  static const HeadNames google{"cls/predictions/transform/dense/kernel",
                                "cls/predictions/transform/dense/bias",
                                "cls/predictions/transform/LayerNorm/gamma",
                                "cls/predictions/transform/LayerNorm/beta",
                                "",
                                "cls/predictions/output_bias",
                                "",
                                "cls/seq_relationship/output_weights",
                                "cls/seq_relationship/output_bias",
                                "output_weights",
                                "output_bias",
                                "cls/squad/output_weights",
                                "cls/squad/output_bias"};
  return d == Dialect::BertGoogle ? google : hf;
}

TaskHead head_from_architecture(const std::string& a) {
  if (a == "BertForMaskedLM" || a == "BertLMHeadModel") return TaskHead::MaskedLM;
  if (a == "BertForPreTraining") return TaskHead::PreTraining;
  if (a == "BertForNextSentencePrediction") return TaskHead::NextSentence;
  if (a == "BertForSequenceClassification") return TaskHead::SequenceClassification;
  if (a == "BertForTokenClassification") return TaskHead::TokenClassification;
  if (a == "BertForQuestionAnswering") return TaskHead::QuestionAnswering;
  return TaskHead::None;  // BertModel, BertForMultipleChoice (unsupported), ...
}

TaskHead head_from_tensors(const WeightBinder& w, const HeadNames& n, bool has_pooler) {
  const bool mlm = w.has(n.transform_w, 0), nsp = w.has(n.nsp_w, 0);
  if (mlm) return nsp ? TaskHead::PreTraining : TaskHead::MaskedLM;
  if (nsp) return TaskHead::NextSentence;
  if (w.has(n.qa_w, 0)) return TaskHead::QuestionAnswering;
  if (w.has(n.cls_w, 0)) return has_pooler ? TaskHead::SequenceClassification : TaskHead::TokenClassification;
  return TaskHead::None;
}

// id2label in id order (PretrainedConfig: num_labels = len(id2label)).
std::vector<std::string> read_labels(const json& j, const std::string& file) {
  std::vector<std::string> labels;
  if (!j.contains("id2label") || !j["id2label"].is_object()) return labels;
  const json& m = j["id2label"];
  labels.resize(m.size());
  std::vector<bool> seen(m.size(), false);
  for (const auto& [key, value] : m.items()) {
    size_t used = 0;
    long id = -1;
    try {
      id = std::stol(key, &used);
    } catch (const std::exception&) {
    }
    ENCORE_CHECK(used == key.size() && id >= 0 && static_cast<size_t>(id) < m.size() && !seen[id] &&
                     value.is_string(),
                 file, ": id2label must map the ids 0..", m.size() - 1, " to strings (bad key '", key, "')");
    seen[id] = true;
    labels[id] = value.get<std::string>();
  }
  return labels;
}

nn::Linear classifier_head(WeightBinder& w, const std::string& wn, const std::string& bn, int64_t rows, int64_t H) {
  return {w.get(wn, 0, {rows, H}), w.get(bn, 0, {rows})};
}

}  // namespace

HeadConfig load_heads(const fs::path& config_json, ModelConfig& c, const Tensor& word_embeddings, WeightBinder& w,
                      HeadWeights& out) {
  const HeadNames& n = head_names(c.dialect);
  const int64_t H = c.hidden;
  HeadConfig head;
  json j = config_json.empty() ? json::object() : read_json(config_json);
  const std::string file = config_json.string();
  bool tie = true;
  if (!config_json.empty()) {
    if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
        j["architectures"][0].is_string())
      head.kind = head_from_architecture(j["architectures"][0].get<std::string>());
    else
      head.kind = head_from_tensors(w, n, c.has_pooler);
    head.labels = read_labels(j, file);
    if (j.contains("problem_type") && j["problem_type"].is_string()) head.problem_type = j["problem_type"];
    if (j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean()) tie = j["tie_word_embeddings"];
  } else {
    head.kind = head_from_tensors(w, n, c.has_pooler);
  }

  switch (head.kind) {
    case TaskHead::None: break;
    case TaskHead::PreTraining:
    case TaskHead::MaskedLM: {
      out.transform = {w.linear_weight(n.transform_w, 0, H, H), w.get(n.transform_b, 0, {H})};
      out.transform_norm = {w.get(n.ln_g, 0, {H}), w.get(n.ln_b, 0, {H})};
      // Tied decoder (transformers tie_weights(); Google uses the embedding table itself).
      Tensor decoder = n.decoder_w.empty() ? Tensor() : w.get(n.decoder_w, 0, {c.vocab_size, H}, true);
      out.decoder.weight = decoder.defined() && decoder.numel() && !tie ? decoder : word_embeddings;
      out.decoder.bias = w.has(n.bias, 0) || n.decoder_b.empty() ? w.get(n.bias, 0, {c.vocab_size})
                                                                   : w.get(n.decoder_b, 0, {c.vocab_size});
      if (!n.decoder_b.empty() && w.has(n.decoder_b, 0) && w.has(n.bias, 0))
        w.get(n.decoder_b, 0, {c.vocab_size});  // the same tied parameter, saved twice
      if (head.kind == TaskHead::PreTraining)
        out.seq_relationship = classifier_head(w, n.nsp_w, n.nsp_b, 2, H);
      break;
    }
    case TaskHead::NextSentence:
      out.seq_relationship = classifier_head(w, n.nsp_w, n.nsp_b, 2, H);
      break;
    case TaskHead::QuestionAnswering:
      out.qa = classifier_head(w, n.qa_w, n.qa_b, 2, H);
      break;
    case TaskHead::SequenceClassification:
    case TaskHead::TokenClassification: {
      auto shape = w.stored_shape(n.cls_w, 0);
      ENCORE_CHECK(shape && shape->size() == 2, file, ": the config names ", task_head_name(head.kind),
                   " but the checkpoint has no 2-D '", n.cls_w, "'");
      head.num_labels = (*shape)[0];
      out.classifier = classifier_head(w, n.cls_w, n.cls_b, head.num_labels, H);
      if (head.labels.empty()) {
        for (int64_t i = 0; i < head.num_labels; ++i) head.labels.push_back("LABEL_" + std::to_string(i));
      }
      ENCORE_CHECK(static_cast<int64_t>(head.labels.size()) == head.num_labels, file, ": id2label has ",
                   head.labels.size(), " labels but the classifier has ", head.num_labels, " outputs");
      break;
    }
  }
  ENCORE_CHECK(c.has_pooler || (head.kind != TaskHead::SequenceClassification && head.kind != TaskHead::NextSentence &&
                                head.kind != TaskHead::PreTraining),
               file, ": ", task_head_name(head.kind), " needs the pooler, which the checkpoint lacks");
  return head;
}

Tensor head_token_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& rows) {
  const ModelConfig& c = m.config;
  const HeadWeights& hw = m.heads;
  const int64_t H = c.hidden, R = static_cast<int64_t>(rows.size());
  Tensor x = Tensor::empty(DType::F32, {R, H});
  for (int64_t r = 0; r < R; ++r) std::copy(states + rows[r] * H, states + (rows[r] + 1) * H, x.data<float>() + r * H);
  const nn::Linear* last = nullptr;
  switch (c.head.kind) {
    case TaskHead::MaskedLM:
    case TaskHead::PreTraining: {
      Tensor t = Tensor::empty(DType::F32, {R, H});
      kernels::linear(t.data<float>(), x.data<float>(), hw.transform.weight.data<float>(),
                      hw.transform.bias.data<float>(), R, H, H);
      kernels::activate(t.data<float>(), R * H, c.layer.feed_forward.activation);
      kernels::layer_norm(t.data<float>(), t.data<float>(), hw.transform_norm.gamma.data<float>(),
                          hw.transform_norm.beta.data<float>(), R, H, c.layer.layer_norm_eps);
      x = t;
      last = &hw.decoder;
      break;
    }
    case TaskHead::TokenClassification: last = &hw.classifier; break;
    case TaskHead::QuestionAnswering: last = &hw.qa; break;
    default: fail(m.dir, ": ", task_head_name(c.head.kind), " has no per-token head");
  }
  const int64_t N = last->out();
  Tensor y = Tensor::empty(DType::F32, {R, N});
  kernels::linear(y.data<float>(), x.data<float>(), last->weight.data<float>(), last->bias.data<float>(), R, H, N);
  return y;
}

Tensor head_sequence_logits(const Model::Impl& m, const Tensor& pooled) {
  const ModelConfig& c = m.config;
  const nn::Linear* l = nullptr;
  switch (c.head.kind) {
    case TaskHead::SequenceClassification: l = &m.heads.classifier; break;
    case TaskHead::NextSentence:
    case TaskHead::PreTraining: l = &m.heads.seq_relationship; break;
    default: fail(m.dir, ": ", task_head_name(c.head.kind), " has no head on the pooled output");
  }
  ENCORE_CHECK(pooled.defined() && pooled.dim() == 2 && pooled.size(1) == c.hidden, m.dir,
               ": the head needs the pooled output");
  const int64_t B = pooled.size(0), N = l->out();
  Tensor y = Tensor::empty(DType::F32, {B, N});
  kernels::linear(y.data<float>(), pooled.data<float>(), l->weight.data<float>(), l->bias.data<float>(), B, c.hidden, N);
  return y;
}

void add_head_outputs(const Model::Impl& m, const float* states, const nn::RaggedBatch& batch, const Tensor& pooled,
                      TensorMap& out) {
  const TaskHead kind = m.config.head.kind;
  if (kind == TaskHead::None) return;
  std::vector<int64_t> rows(static_cast<size_t>(batch.tokens()));
  for (int64_t t = 0; t < batch.tokens(); ++t) rows[static_cast<size_t>(t)] = t;
  auto per_token = [&]() {
    Tensor l = head_token_logits(m, states, rows);
    return scatter_padded(l.data<float>(), batch, l.size(1));
  };
  // Output names of transformers' ModelOutput classes (MaskedLMOutput.logits,
  // BertForPreTrainingOutput.prediction_logits, QuestionAnsweringModelOutput.start_logits, ...).
  switch (kind) {
    case TaskHead::None: break;
    case TaskHead::MaskedLM:
    case TaskHead::TokenClassification: out["logits"] = per_token(); break;
    case TaskHead::PreTraining:
      out["prediction_logits"] = per_token();
      out["seq_relationship_logits"] = head_sequence_logits(m, pooled);
      break;
    case TaskHead::NextSentence:
    case TaskHead::SequenceClassification: out["logits"] = head_sequence_logits(m, pooled); break;
    case TaskHead::QuestionAnswering: {
      Tensor both = per_token();  // [B, S, 2]
      const int64_t n = both.numel() / 2;
      Shape s{both.size(0), both.size(1)};
      Tensor start = Tensor::empty(DType::F32, s), end = Tensor::empty(DType::F32, s);
      for (int64_t i = 0; i < n; ++i) {
        start.data<float>()[i] = both.data<float>()[2 * i];
        end.data<float>()[i] = both.data<float>()[2 * i + 1];
      }
      out["start_logits"] = start;
      out["end_logits"] = end;
      break;
    }
  }
}

}  // namespace encore
