// encore explain: the records side by side, a model's differences from BERT, and its first
// layer recomputed as a PyTorch TransformerEncoderLayer.
#include "encore/explain.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "encore/error.h"
#include "models/architecture.h"
#include "models/model_impl.h"

namespace encore {
namespace {

// The records, by name (bert-google, bert-hf, ..., torch).
std::vector<const Architecture*> records() {
  std::vector<const Architecture*> r = architectures();
  std::sort(r.begin(), r.end(), [](const Architecture* a, const Architecture* b) { return a->name < b->name; });
  return r;
}

std::string layer_name(const std::string& pattern) { return expand(pattern, "N"); }

// "prefix{query,key,value}suffix" from the three projection names of a record.
std::string qkv_names(const BodyNames& n) {
  if (!n.qkv.empty()) return layer_name(n.qkv.weight) + "  [3E, E], packed q|k|v";
  const std::string q = layer_name(n.query.weight), k = layer_name(n.key.weight), v = layer_name(n.value.weight);
  size_t a = 0, b = 0;  // common prefix and suffix of the three names
  while (a < q.size() && q[a] == k[a] && q[a] == v[a]) ++a;
  while (b < q.size() - a && q[q.size() - 1 - b] == k[k.size() - 1 - b] && q[q.size() - 1 - b] == v[v.size() - 1 - b])
    ++b;
  return q.substr(0, a) + "{query,key,value}" + q.substr(q.size() - b) +
         (n.query.in_out ? "  [in, out] x3" : "  [out, in] x3");
}

std::string with_shape(const LinearNames& l) {
  return layer_name(l.weight) + (l.in_out ? "  [in, out]" : "  [out, in]");
}

std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width + 1 - s.size(), ' ');
}

std::string positions(const ModelConfig& c) {
  std::string p;
  if (c.absolute_positions)
    p = c.positions_from_ids ? "learned absolute, numbered from the ids (padding_idx " + std::to_string(c.padding_idx) +
                                   " + count of non-pad tokens)"
                             : "learned absolute, 0..n-1";
  const auto add = [&p](const char* what) { p += (p.empty() ? "" : " + ") + std::string(what); };
  switch (c.layer.attention.relative) {
    case RelativePositions::None: break;
    case RelativePositions::Key: add("relative_key distance embeddings"); break;
    case RelativePositions::KeyQuery: add("relative_key_query distance embeddings"); break;
    case RelativePositions::Bucket: add("a bucketed relative bias on the scores, shared by every layer"); break;
    case RelativePositions::Disentangled:
      add((std::string("disentangled ") + (c.layer.attention.c2p ? "c2p" : "") +
           (c.layer.attention.c2p && c.layer.attention.p2c ? " + " : "") + (c.layer.attention.p2c ? "p2c" : "") +
           " scores (log-bucketed distances, one shared table)")
              .c_str());
      break;
  }
  if (p.empty()) p = "rotary: q and k rotated by position in every layer's attention";
  return p;
}

int64_t bert_layer_parameters(int64_t H, int64_t I) { return 4 * H * H + 2 * H * I + 9 * H + I; }

}  // namespace

const std::string& dialect_reference(Dialect d) { return architecture(d).reference; }

std::string architecture_table() {
  const std::vector<const Architecture*> all = records();
  std::string out = "One encoder layer, " + std::to_string(all.size()) +
                    " spellings (N = layer index). Post-norm layers compute\n"
                    "  x = LN1(x + Dropout(OutProj(Attention(QKV(x)))));  x = LN2(x + Dropout(W2(Act(W1(x)))))\n"
                    "pre-norm ones (torch norm_first=True, modernbert)\n"
                    "  x = x + Dropout(OutProj(Attention(QKV(LN1(x)))));  x = x + Dropout(W2(Act(W1(LN2(x)))))\n"
                    "(modernbert, nomic-bert: rotary q and k; modernbert: a sliding window on local layers;\n"
                    " gated feed-forwards W2(act(W1 x) * Wg x), modernbert's W1 and Wg the halves of its FFN in)\n";
  const auto row = [&](const char* what, auto&& cell) {
    out += std::string("\n") + what + "\n";
    for (const Architecture* a : all) out += "  " + padded(a->name, 12) + std::string(cell(*a)) + "\n";
  };
  row("Q, K, V projection", [](const Architecture& a) { return qkv_names(a.names); });
  row("attention output projection (this is PyTorch's out_proj, not an extra Linear)",
      [](const Architecture& a) { return with_shape(a.names.attention_out); });
  row("LayerNorm of the attention block (after it post-norm, before it pre-norm)",
      [](const Architecture& a) { return layer_name(a.names.attention_norm.gamma); });
  row("FFN in", [](const Architecture& a) { return with_shape(a.names.ffn_in); });
  row("FFN gate (Wg of a gated feed-forward, stored apart)", [](const Architecture& a) {
    return a.names.ffn_gate.weight.empty() ? std::string("-") : with_shape(a.names.ffn_gate);
  });
  row("FFN out", [](const Architecture& a) { return with_shape(a.names.ffn_out); });
  row("LayerNorm of the FFN block", [](const Architecture& a) { return layer_name(a.names.ffn_norm.gamma); });
  row("activation", [](const Architecture& a) { return a.explain.activation; });
  row("LayerNorm eps", [](const Architecture& a) { return a.explain.layer_norm_eps; });
  row("mask constant", [](const Architecture& a) { return a.explain.mask; });
  row("fully masked query row", [](const Architecture& a) { return a.explain.fully_masked_row; });
  row("dropout positions (training only)", [](const Architecture& a) { return a.explain.dropout; });
  row("norm placement", [](const Architecture& a) { return a.explain.norm_placement; });
  const std::string params =
      std::to_string(bert_layer_parameters(768, 3072)) + " at H=768, I=3072 (4H^2 + 2HI + 9H + I)";
  row("parameters per layer", [&](const Architecture& a) { return a.explain_parameters.empty() ? params : a.explain_parameters; });
  return out;
}

std::string differences_from_bert(const Model& model) {
  const Model::Impl& m = impl_of(model);
  const ModelConfig& c = m.config;
  const Architecture& arch = *m.arch;
  const Architecture& bert = architecture(Dialect::BertHF);
  std::string out;
  const auto line = [&](const char* what, const std::string& here, const std::string& in_bert) {
    if (here != in_bert) out += "  " + padded(what, 16) + here + "  (BERT: " + in_bert + ")\n";
  };
  line("reference", arch.reference, bert.reference);
  line("embeddings", c.embedding_size != c.hidden ? "E=" + std::to_string(c.embedding_size) + ", then a Linear E -> H"
                                                  : "H wide",
       "H wide");
  line("token types", c.type_vocab_size ? std::to_string(c.type_vocab_size) : "none (every token type 0)", "2");
  line("positions", positions(c), "learned absolute, 0..n-1");
  line("activation", activation_name(c.layer.feed_forward.activation), "gelu_erf");
  line("feed-forward", c.layer.feed_forward.kind == FeedForwardKind::Glu ? "gated: W2(act(W1 x) * Wg x)" : "W2(act(W1(x)))",
       "W2(act(W1(x)))");
  int64_t windowed = 0, window = 0;
  for (const PlanStep& p : m.plan)
    if (const int64_t w = m.specs[static_cast<size_t>(p.spec)].attention.window; w > 0) ++windowed, window = w;
  if (windowed)
    line("attention", std::to_string(windowed) + " of " + std::to_string(m.plan.size()) +
                          " layers within +-" + std::to_string(window) + " positions, the others global",
         "global");
  char eps[32];
  std::snprintf(eps, sizeof eps, "%g", static_cast<double>(c.layer.layer_norm_eps));
  line("LayerNorm eps", eps, "1e-12");
  line("norm placement", c.layer.norm_first ? "pre (x + f(LN(x)))" : "post (LN(x + f(x)))", "post (LN(x + f(x)))");
  line("mask constant", arch.explain.mask, bert.explain.mask);
  const std::string stored = std::to_string(m.layers.size()), steps = std::to_string(m.plan.size());
  line("layer weights", stored + " stored layer(s) run as " + steps + " steps",
       steps + " stored layer(s) run as " + steps + " steps");
  line("pooler", c.has_pooler ? "tanh(Linear(h[first token]))" : "none", "tanh(Linear(h[first token]))");
  line("layer notes", arch.explain.norm_placement, bert.explain.norm_placement);
  if (!c.head.class_name.empty()) line("task head", c.head.class_name, "BertFor* heads");
  if (!c.head.absent_class.empty())
    line("task head", "none stored (config.json names " + c.head.absent_class + ")", "BertFor* heads");
  if (!c.head.unsupported_class.empty())
    line("task head", "none (config.json names " + c.head.unsupported_class + ", which encore does not compute)",
         "BertFor* heads");
  return out.empty() ? "  nothing: this is BERT\n" : out;
}

namespace {

// Why a PyTorch TransformerEncoderLayer cannot compute this model's layer ("" when it can).
std::string torch_layer_gap(const Model::Impl& m) {
  const ModelConfig& c = m.config;
  const Activation a = c.layer.feed_forward.activation;
  if (a != Activation::GeluErf && a != Activation::Relu)
    return std::string("its activation is ") + activation_name(a) + " (TransformerEncoderLayer has relu and erf gelu)";
  if (c.layer.attention.relative != RelativePositions::None)
    return "relative position scores are inside its attention (TransformerEncoderLayer has none)";
  if (c.layer.feed_forward.kind != FeedForwardKind::Mlp)
    return "its feed-forward is gated, act(W1 x) * Wg x (TransformerEncoderLayer's is W2(act(W1 x)))";
  for (const LayerSpec& s : m.specs) {
    if (s.attention.rotary_theta > 0.0f) return "rotary positions are inside its attention (TransformerEncoderLayer has none)";
    if (s.attention.window > 0) return "its attention has a sliding window (TransformerEncoderLayer attends to every key)";
    if (!s.attention_norm) return "a layer's attention reads x without a norm (TransformerEncoderLayer has norm1)";
  }
  if (m.plan.empty() || !m.plan[0].ends_depth) return "its first hidden state is several layers deep (layers run as groups)";
  return "";
}

}  // namespace

TorchLayerCheck check_against_torch_layer(const Model& model) {
  const Model::Impl& m = impl_of(model);
  const ModelConfig& c = m.config;
  ENCORE_CHECK(m.arch->embeddings == EmbeddingsKind::Tokens, m.dir, " is already a PyTorch encoder: nothing to compare");
  TorchLayerCheck check;
  check.gap = torch_layer_gap(m);
  if (!check.gap.empty()) return check;

  // Layer 0 of the model, fed by its own embeddings.
  const int64_t S = std::min<int64_t>(16, c.max_length);
  Tensor ids = Tensor::zeros(DType::I64, {1, S});
  for (int64_t j = 0; j < S; ++j) ids.data<int64_t>()[j] = (j * 7919 + 101) % c.vocab_size;
  ForwardOptions all;
  all.all_hidden = true;
  const ForwardNames& io = m.arch->io;
  TensorMap out = model.forward({{io.ids, ids}}, all);
  const std::string in_name = io.hidden_counts_embeddings ? io.hidden + "0" : io.embedding_output;
  const std::string out_name = io.hidden + (io.hidden_counts_embeddings ? "1" : "0");

  // The same layer as a PyTorch TransformerEncoderLayer.
  const auto tmp = std::filesystem::temp_directory_path() / ("encore-explain-" + std::to_string(std::random_device{}()));
  export_torch_encoder(model, 0, 1, tmp.string());
  Model torch = Model::load(tmp.string());
  TensorMap t = torch.forward({{"src", out.at(in_name)}});
  std::filesystem::remove_all(tmp);

  const Tensor& a = out.at(out_name);
  const Tensor& b = t.at("output");
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    check.max_difference = std::max(check.max_difference, std::fabs(x - y));
    check.max_output = std::max(check.max_output, std::fabs(x));
  }
  check.outputs = a.numel();
  check.parameters = bert_layer_parameters(c.hidden, c.intermediate);
  check.torch_parameters = torch.parameter_count();
  return check;
}

}  // namespace encore
