#include "pipelines/task_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "encore/model_path.h"

namespace encore::pipelines {

TaskModel load_task_model(const std::string& dir, const std::vector<TaskHead>& heads, const char* task,
                          int batch_size, int threads, ComputeType dtype, bool half_weights) {
  LoadOptions lo;
  lo.dtype = dtype;
  lo.half_weights = half_weights;
  const std::string path = resolve_model_path(dir);
  TaskModel m{Model::load(path, lo), Tokenizer::from_dir(path)};
  const HeadConfig& head = m.model.config().head;
  const TaskHead kind = head.kind;
  std::string wanted;
  for (TaskHead h : heads) wanted += (wanted.empty() ? "" : ", ") + std::string(task_head_name(h));
  const std::string is = !head.unsupported_class.empty() ? head.unsupported_class + ", a head encore does not compute"
                         : !head.absent_class.empty()    ? head.absent_class + " without its head's weights"
                                                         : std::string(task_head_name(kind));
  ENCORE_CHECK(std::find(heads.begin(), heads.end(), kind) != heads.end(), dir, ": ", task, " needs a model with ",
               wanted, "; this one is ", is, " (config.json architectures)");
  m.max_length = static_cast<int>(
      std::min<int64_t>(m.model.config().max_length, static_cast<int64_t>(m.tokenizer.config().model_max_length)));
  m.batch_size = std::max(1, batch_size);
  m.threads = threads;
  std::ifstream f(std::filesystem::path(dir) / "tokenizer_config.json");
  if (f.good()) {
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_object() && j.contains("clean_up_tokenization_spaces") && j["clean_up_tokenization_spaces"].is_boolean())
      m.clean_up_spaces = j["clean_up_tokenization_spaces"].get<bool>();
  }
  return m;
}

std::vector<float> sequence_logits(const TaskModel& m, const Encoded& encoded, size_t index) {
  // Sequence `index` alone: its pooled row where the model has a pooler (BERT), and its token
  // states (the heads that read the first token or the mean: RoBERTa, DeBERTa, ModernBERT, ...).
  Encoded one;
  const int64_t H = encoded.states.size(1), begin = encoded.cu[index], end = encoded.cu[index + 1];
  one.states = Tensor::empty(DType::F32, {end - begin, H});
  std::copy(encoded.states.data<float>() + begin * H, encoded.states.data<float>() + end * H,
            one.states.data<float>());
  one.cu = {0, end - begin};
  if (encoded.pooled.defined()) {
    one.pooled = Tensor::empty(DType::F32, {1, H});
    const float* row = encoded.pooled.data<float>() + static_cast<int64_t>(index) * H;
    std::copy(row, row + H, one.pooled.data<float>());
  }
  const Tensor out = m.model.sequence_logits(one);
  return std::vector<float>(out.data<float>(), out.data<float>() + out.size(1));
}

void check_length(const TaskModel& m, const Encoding& e) {
  ENCORE_CHECK(e.size() <= static_cast<size_t>(m.model.config().max_length), "the input has ", e.size(),
               " tokens, more than the model's ", m.model.config().max_length, " positions");
}

std::vector<float> softmax(const float* x, size_t n) {
  std::vector<float> p(n);
  const float mx = *std::max_element(x, x + n);
  // The sum in double: a float running sum over a 30k-entry vocabulary drifts by ~1e-4
  // relative (torch's vectorized float sum does not), which showed in fill-mask scores.
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(x[i] - mx);
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

namespace {
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}
}  // namespace

std::string tokens_to_string(const Tokenizer& tokenizer, const std::vector<std::string>& tokens) {
  return tokenizer.decode_tokens(tokens);
}

std::string hf_decode(const TaskModel& m, const std::vector<int32_t>& ids, bool skip_special_tokens) {
  DecodeOptions d;
  d.skip_special_tokens = skip_special_tokens;
  std::string text = m.tokenizer.decode(ids, d);
  if (m.clean_up_spaces) {  // tokenization_utils_base.py clean_up_tokenization()
    for (auto [from, to] : {std::pair{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
                            {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}})
      replace_all(text, from, to);
  }
  return text;
}

static size_t utf8_advance(std::string_view s, size_t at) {
  ++at;
  while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
  return at;
}

std::string utf8_slice(std::string_view s, size_t begin, size_t end) {
  size_t at = 0, cp = 0, b = s.size(), e = s.size();
  while (at < s.size()) {
    if (cp == begin) b = at;
    if (cp == end) {
      e = at;
      break;
    }
    at = utf8_advance(s, at);
    ++cp;
  }
  if (b > e) return "";
  return std::string(s.substr(b, e - b));
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t at = 0; at < s.size(); at = utf8_advance(s, at)) ++n;
  return n;
}

}  // namespace encore::pipelines
