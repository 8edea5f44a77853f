// Task heads, computed as the architecture record describes them (HeadSpec, see
// src/models/architecture.h): out(norm(act(dense(x)))) per token and/or per sequence. For
// BERT (modeling_bert.py; google-research/bert run_pretraining.py, run_classifier.py,
// run_squad.py):
//   MLM  LN(act(h W_t + b_t)) E^T + bias, E = word embeddings unless a separate decoder is
//        stored and tie_word_embeddings is false; act = hidden_act, LN eps = layer_norm_eps.
//   NSP  pooled W_s^T + b_s, [2, H]; sequence classification pooled W^T + b.
//   token classification h W^T + b; QA h W^T + b, [2, H], column 0 start, column 1 end
//        (logits.split(1, dim=-1)).
#include "models/heads.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>
#include <limits>
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
    case TaskHead::Discriminator:
      return "ElectraForPreTraining";
  }
  return "?";
}

namespace {

const HeadSpec* head_from_class(const std::vector<HeadSpec>& heads, const std::string& name) {
  for (const HeadSpec& h : heads)
    if (h.class_name == name || std::find(h.aliases.begin(), h.aliases.end(), name) != h.aliases.end()) return &h;
  return nullptr;  // the base model, or a head encore does not compute (BertForMultipleChoice, ...)
}

// transformers names a family's task models <Model>For<Task> (BertForMultipleChoice,
// RobertaForCausalLM); a class named otherwise (BertModel, colbert-ai's HF_ColBERT) is the body
// under some name.
bool is_task_class(const std::string& name) {
  for (size_t at = name.find("For", 1); at != std::string::npos; at = name.find("For", at + 1))
    if (at + 3 < name.size() && std::isupper(static_cast<unsigned char>(name[at + 3]))) return true;
  return false;
}

// The record's head classes, each once ("NomicBertForPreTraining, NomicBertForSequenceClassification").
std::string offered_classes(const std::vector<HeadSpec>& heads) {
  std::vector<std::string> seen;
  std::string s;
  for (const HeadSpec& h : heads) {
    if (std::find(seen.begin(), seen.end(), h.class_name) != seen.end()) continue;
    seen.push_back(h.class_name);
    s += (s.empty() ? "" : ", ") + h.class_name;
  }
  return s;
}

// A part's weights are present when its first Linear is stored (an MLM decoder may be tied).
bool present(const HeadPart& p, const WeightBinder& w, bool has_pooler) {
  const std::string& first = p.dense.empty() ? p.out.weight : p.dense.weight;
  return !first.empty() && w.has(first) && (p.input != HeadInput::Pooler || has_pooler);
}

const HeadSpec* head_from_tensors(const std::vector<HeadSpec>& heads, const WeightBinder& w, bool has_pooler) {
  for (const HeadSpec& h : heads) {
    const bool token = !h.token || present(*h.token, w, has_pooler);
    const bool sequence = !h.sequence || present(*h.sequence, w, has_pooler);
    if (token && sequence) return &h;
  }
  return nullptr;
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

// What loading a part needs besides its names.
struct PartContext {
  const ModelConfig& c;
  const Embeddings& embeddings;
  WeightBinder& w;
  bool tie;
  HeadConfig& head;
  const std::string& file;
};

// The output rows of a Labels part: the stored weight's, checked against id2label.
int64_t label_rows(const HeadPart& p, const PartContext& x) {
  const auto shape = x.w.stored_shape(p.out.weight);
  ENCORE_CHECK(shape && shape->size() == 2, x.file, ": the config names ", x.head.class_name,
               " but the checkpoint has no 2-D '", p.out.weight, "'");
  x.head.num_labels = p.out.in_out ? (*shape)[1] : (*shape)[0];
  if (x.head.labels.empty())
    for (int64_t i = 0; i < x.head.num_labels; ++i) x.head.labels.push_back("LABEL_" + std::to_string(i));
  ENCORE_CHECK(static_cast<int64_t>(x.head.labels.size()) == x.head.num_labels, x.file, ": id2label has ",
               x.head.labels.size(), " labels but the classifier has ", x.head.num_labels, " outputs");
  return x.head.num_labels;
}

// A decoder over the vocabulary: tied to the word embeddings (transformers tie_weights();
// Google uses the embedding table itself) unless stored and tie_word_embeddings is false.
nn::Linear vocab_decoder(const HeadPart& p, int64_t width, const PartContext& x) {
  const int64_t V = x.c.vocab_size;
  nn::Linear d;
  const Tensor stored = p.out.weight.empty() ? Tensor() : x.w.get(p.out.weight, {V, width}, true);
  d.weight = stored.defined() && stored.numel() && !x.tie ? stored : x.embeddings.word;
  ENCORE_CHECK(d.weight.size(1) == width, x.file, ": the decoder of ", x.head.class_name, " is ", d.weight.size(1),
               " wide, its input ", width);
  const bool has_bias = x.w.has(p.out.bias), has_copy = !p.out_bias_copy.empty() && x.w.has(p.out_bias_copy);
  if (p.out.bias.empty()) return d;  // decoder_bias=False (ModernBERT)
  d.bias = x.w.get(has_bias || !has_copy ? p.out.bias : p.out_bias_copy, {V});
  if (has_bias && has_copy) x.w.get(p.out_bias_copy, {V});  // the same tied parameter, saved twice
  return d;
}

HeadPartWeights load_part(const HeadPart& p, const PartContext& x) {
  const ModelConfig& c = x.c;
  HeadPartWeights h;
  h.input = p.input;
  h.outputs = p.outputs;
  h.squeeze = p.squeeze;
  h.activation = p.activation;
  h.layer_activation = p.activation == HeadActivation::Given ? p.given_activation : c.layer.feed_forward.activation;
  int64_t width = c.hidden;
  if (!p.dense.empty()) {
    width = p.dense_to_embedding ? c.embedding_size : c.hidden;
    h.dense = x.w.linear(p.dense, "", width, c.hidden);
  }
  if (!p.norm.empty()) {
    h.norm.gamma = x.w.get(p.norm.gamma, {width});
    if (!p.norm.beta.empty()) h.norm.beta = x.w.get(p.norm.beta, {width});
    h.norm_eps = p.norm_eps > 0.0f ? p.norm_eps : c.layer.layer_norm_eps;
  }
  switch (p.rows) {
    case HeadRows::Vocab:
      h.out = vocab_decoder(p, width, x);
      break;
    case HeadRows::Labels:
      h.out = x.w.linear(p.out, "", label_rows(p, x), width);
      break;
    case HeadRows::Two:
      h.out = x.w.linear(p.out, "", 2, width);
      break;
    case HeadRows::One:
      h.out = x.w.linear(p.out, "", 1, width);
      break;
  }
  return h;
}

void activate(float* x, int64_t n, const HeadPartWeights& p) {
  switch (p.activation) {
    case HeadActivation::None:
      return;
    case HeadActivation::Layer:
    case HeadActivation::Given:
      kernels::activate(x, n, p.layer_activation);
      return;
    case HeadActivation::GeluErf:
      kernels::activate(x, n, Activation::GeluErf);
      return;
    case HeadActivation::Relu:
      kernels::activate(x, n, Activation::Relu);
      return;
    case HeadActivation::Tanh:
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      return;
  }
}

// out(norm(act(dense(x)))) on x [R, H]. `row_by_row`: the dense GEMM one row at a time, as
// the pooler runs (a GEMM's rounding may depend on its row count, and a sequence's result
// must not depend on what else is in the batch).
Tensor apply(const HeadPartWeights& p, const float* x, int64_t R, int64_t H, bool row_by_row) {
  Tensor t;
  int64_t width = H;
  if (p.dense.defined()) {
    width = p.dense.out();
    t = Tensor::empty(DType::F32, {R, width});
    const float* w = p.dense.weight.data<float>();
    const float* b = nn::data_or_null(p.dense.bias);
    if (row_by_row) {
      for (int64_t r = 0; r < R; ++r) kernels::linear(t.data<float>() + r * width, x + r * H, w, b, 1, H, width);
    } else {
      kernels::linear(t.data<float>(), x, w, b, R, H, width);
    }
    activate(t.data<float>(), R * width, p);
    if (p.norm.gamma.defined())
      kernels::layer_norm(t.data<float>(), t.data<float>(), p.norm.gamma.data<float>(), nn::data_or_null(p.norm.beta),
                          R, width, p.norm_eps);
    x = t.data<float>();
  }
  const int64_t N = p.out.out();
  Tensor y = Tensor::empty(DType::F32, {R, N});
  kernels::linear(y.data<float>(), x, p.out.weight.data<float>(), nn::data_or_null(p.out.bias), R, width, N);
  return y;
}

std::string head_label(const Model::Impl& m) {
  const HeadConfig& h = m.config.head;
  if (!h.absent_class.empty())
    return "the model (config.json names " + h.absent_class + ", but the checkpoint holds none of its weights)";
  if (!h.unsupported_class.empty())
    return "the model (config.json names " + h.unsupported_class + ", which encore does not offer; offered: " +
           (m.arch ? offered_classes(m.arch->heads) : std::string("none")) + ")";
  return h.class_name.empty() ? std::string("the model (no task head)") : h.class_name;
}

}  // namespace

HeadConfig load_heads(const std::vector<HeadSpec>& heads, const fs::path& config_file, ModelConfig& c,
                      const Embeddings& embeddings, WeightBinder& w, HeadWeights& out) {
  HeadConfig head;
  const json j = fs::exists(config_file) ? read_json(config_file) : json::object();
  const std::string file = config_file.string();
  const HeadSpec* spec = nullptr;
  std::string class_name;  // as the config names it (XLMRobertaForMaskedLM computes as RobertaForMaskedLM)
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string()) {
    class_name = j["architectures"][0].get<std::string>();
    spec = head_from_class(heads, class_name);
    if (!spec && is_task_class(class_name)) {
      head.unsupported_class = class_name;
      std::cerr << "encore: warning: " << file << ": " << class_name
                << " is a head encore does not compute (it computes " << offered_classes(heads)
                << "); its weights are ignored and the outputs are the base model's "
                << "(hidden states and embeddings unaffected)\n";
    }
    if (spec && (!spec->token || !present(*spec->token, w, /*has_pooler=*/true)) &&
        (!spec->sequence || !present(*spec->sequence, w, /*has_pooler=*/true))) {
      head.absent_class = class_name;
      spec = nullptr;
    }
  } else {
    spec = head_from_tensors(heads, w, c.has_pooler);
    if (spec) class_name = spec->class_name;
  }
  head.labels = read_labels(j, file);
  if (j.contains("problem_type") && j["problem_type"].is_string()) head.problem_type = j["problem_type"];
  const bool tie = !(j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean()) ||
                   j["tie_word_embeddings"].get<bool>();
  if (!spec) return head;
  head.kind = spec->kind;
  head.class_name = class_name;
  const PartContext x{c, embeddings, w, tie, head, file};
  if (spec->token) out.token = load_part(*spec->token, x);
  if (spec->sequence) {
    ENCORE_CHECK(c.has_pooler || spec->sequence->input != HeadInput::Pooler, file, ": ", head.class_name,
                 " needs the pooler, which the checkpoint lacks");
    out.sequence = load_part(*spec->sequence, x);
  }
  return head;
}

Tensor head_token_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& rows) {
  ENCORE_CHECK(m.heads.token, m.dir, ": ", head_label(m), " has no per-token head");
  const int64_t H = m.config.hidden, R = static_cast<int64_t>(rows.size());
  Tensor x = Tensor::empty(DType::F32, {R, H});
  for (int64_t r = 0; r < R; ++r) std::copy(states + rows[r] * H, states + (rows[r] + 1) * H, x.data<float>() + r * H);
  return apply(*m.heads.token, x.data<float>(), R, H, /*row_by_row=*/false);
}

Tensor head_sequence_logits(const Model::Impl& m, const float* states, const std::vector<int64_t>& first_rows,
                            const std::vector<int64_t>& cu, const std::vector<uint8_t>& all_masked,
                            const Tensor& pooled) {
  ENCORE_CHECK(m.heads.sequence, m.dir, ": ", head_label(m), " has no head on the pooled output");
  const HeadPartWeights& p = *m.heads.sequence;
  const int64_t H = m.config.hidden, B = static_cast<int64_t>(first_rows.size());
  if (p.input == HeadInput::Pooler) {
    ENCORE_CHECK(pooled.defined() && pooled.dim() == 2 && pooled.size(1) == H, m.dir,
                 ": the head needs the pooled output");
    return apply(p, pooled.data<float>(), pooled.size(0), H, true);
  }
  if (p.input == HeadInput::Mean) {
    // (h * mask).sum(1) / mask.sum(1): a sum over the sequence's real tokens in order, then one
    // division. A sequence whose mask is all zeros divides 0 by 0: NaN, as the reference.
    Tensor mean = Tensor::zeros(DType::F32, {B, H});
    for (int64_t b = 0; b < B; ++b) {
      float* o = mean.data<float>() + b * H;
      const bool empty = (!all_masked.empty() && all_masked[b]) || cu[b] == cu[b + 1];
      if (empty) {
        std::fill(o, o + H, std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      for (int64_t t = cu[b]; t < cu[b + 1]; ++t)
        for (int64_t k = 0; k < H; ++k) o[k] += states[t * H + k];
      const float count = static_cast<float>(cu[b + 1] - cu[b]);
      for (int64_t k = 0; k < H; ++k) o[k] /= count;
    }
    return apply(p, mean.data<float>(), B, H, true);
  }
  // The first token's state (h[:, 0]); a sequence whose position 0 was padding has the zero row.
  Tensor first = Tensor::zeros(DType::F32, {B, H});
  for (int64_t b = 0; b < B; ++b)
    if (first_rows[b] >= 0)
      std::copy(states + first_rows[b] * H, states + (first_rows[b] + 1) * H, first.data<float>() + b * H);
  return apply(p, first.data<float>(), B, H, true);
}

Tensor head_sequence_logits(const Model::Impl& m, const Encoded& e) {
  std::vector<int64_t> first;
  for (size_t b = 0; b + 1 < e.cu.size(); ++b) first.push_back(e.cu[b] < e.cu[b + 1] ? e.cu[b] : -1);
  return head_sequence_logits(m, e.states.data<float>(), first, e.cu, {}, e.pooled);
}

void add_head_outputs(const Model::Impl& m, const float* states, const nn::RaggedBatch& batch,
                      const std::vector<int64_t>& first_rows, const std::vector<uint8_t>& all_masked,
                      const Tensor& pooled, TensorMap& out) {
  if (const auto& part = m.heads.token) {
    std::vector<int64_t> rows(static_cast<size_t>(batch.tokens()));
    for (int64_t t = 0; t < batch.tokens(); ++t) rows[static_cast<size_t>(t)] = t;
    const Tensor l = head_token_logits(m, states, rows);
    const Tensor per_token = scatter_padded(l.data<float>(), batch, l.size(1));  // [B, S, N]
    const Shape bs{per_token.size(0), per_token.size(1)};
    if (part->outputs.size() == 2) {  // start, end: logits.split(1, dim=-1)
      Tensor start = Tensor::empty(DType::F32, bs), end = Tensor::empty(DType::F32, bs);
      for (int64_t i = 0; i < start.numel(); ++i) {
        start.data<float>()[i] = per_token.data<float>()[2 * i];
        end.data<float>()[i] = per_token.data<float>()[2 * i + 1];
      }
      out[part->outputs[0]] = start;
      out[part->outputs[1]] = end;
    } else {
      out[part->outputs[0]] = part->squeeze ? per_token.reshaped(bs) : per_token;
    }
  }
  if (const auto& part = m.heads.sequence)
    out[part->outputs[0]] = head_sequence_logits(m, states, first_rows, batch.cu, all_masked, pooled);
}

}  // namespace encore
