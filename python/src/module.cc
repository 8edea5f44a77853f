// encore._encore: the C++ API for Python, thin. The sentence-transformers / tokenizers
// shaped classes are python/encore/__init__.py; this file converts types, releases the GIL
// around tokenization and compute, and turns encore::Error into Python exceptions.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <algorithm>

#include "encore/bge_m3.h"
#include "encore/classifier.h"
#include "encore/embedder.h"
#include "encore/error.h"
#include "encore/fill_mask.h"
#include "encore/question_answerer.h"
#include "encore/model.h"
#include "encore/multi_vector.h"
#include "encore/reranker.h"
#include "encore/sparse_encoder.h"
#include "encore/token_classifier.h"
#include "encore/tokenizer.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace encore::python {
namespace {

using Array = nb::ndarray<nb::numpy>;

// A NumPy array that owns `value` (moved to the heap; freed with the array): no copy.
template <class T>
nb::capsule owning(T&& value, T** out) {
  auto* held = new T(std::move(value));
  *out = held;
  return nb::capsule(held, [](void* p) noexcept { delete static_cast<T*>(p); });
}

Array float_matrix(std::vector<float>&& data, size_t rows, size_t cols) {
  std::vector<float>* held = nullptr;
  nb::capsule owner = owning(std::move(data), &held);
  const size_t shape[2] = {rows, cols};
  return Array(held->data(), 2, shape, owner, nullptr, nb::dtype<float>());
}

nb::dlpack::dtype dlpack_of(DType t) {
  switch (t) {
    case DType::F32: return nb::dtype<float>();
    case DType::F64: return nb::dtype<double>();
    case DType::I64: return nb::dtype<int64_t>();
    case DType::I32: return nb::dtype<int32_t>();
    case DType::I16: return nb::dtype<int16_t>();
    case DType::I8: return nb::dtype<int8_t>();
    case DType::U8: return nb::dtype<uint8_t>();
    case DType::Bool: return nb::dtype<bool>();
    case DType::F16: return {static_cast<uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
    case DType::BF16: return {static_cast<uint8_t>(nb::dlpack::dtype_code::Bfloat), 16, 1};
  }
  fail("unsupported dtype");
}

DType dtype_of(const nb::dlpack::dtype& d, const std::string& name) {
  const DType all[] = {DType::F32, DType::F64, DType::I64, DType::I32, DType::I16, DType::I8, DType::U8, DType::Bool, DType::F16};
  for (DType t : all)
    if (dlpack_of(t) == d) return t;
  fail("input '", name, "': unsupported array dtype (float32, float64, float16, int64, int32, int16, int8, uint8 or bool)");
}

Array to_numpy(Tensor&& t) {
  Tensor* held = nullptr;
  nb::capsule owner = owning(std::move(t), &held);
  std::vector<size_t> shape(held->shape().begin(), held->shape().end());
  return Array(const_cast<void*>(held->raw()), shape.size(), shape.data(), owner, nullptr, dlpack_of(held->dtype()));
}

using InArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

// The inputs as views of the callers' arrays (kept alive by the call's arguments).
TensorMap tensors_of(const std::map<std::string, InArray>& inputs) {
  TensorMap out;
  for (const auto& [name, a] : inputs) {
    Shape shape;
    for (size_t i = 0; i < a.ndim(); ++i) shape.push_back(static_cast<int64_t>(a.shape(i)));
    out.emplace(name, Tensor::view(dtype_of(a.dtype(), name), shape, a.data(), nullptr));
  }
  return out;
}

ComputeType compute_type(const std::string& dtype) { return compute_type_from_name(dtype); }

// The fields every pipeline's options have: the GEMMs' number format, threads, batch size.
template <class Options>
Options options_of(const std::string& dtype, int threads, int batch_size) {
  Options o;
  o.dtype = compute_type(dtype);
  o.threads = threads;
  o.batch_size = std::max(1, batch_size);
  return o;
}

struct PyModel {
  Model model;
  int threads = 0;
};

struct PyEmbedder {
  Embedder embedder;
};

// Embeddings of `texts`: [n, dims] float32, or the first text's error.
Array embed(const PyEmbedder& self, const std::vector<std::string>& texts, const EmbedRequest& request, bool normalize) {
  std::vector<EmbedResult> results;
  {
    nb::gil_scoped_release released;
    results = self.embedder.embed(texts, request);
  }
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i].error.empty()) fail("text ", i, ": ", results[i].error);
  // A route of a Router may end with its own width: every text of one call takes one route.
  const size_t dims = results.empty() ? static_cast<size_t>(self.embedder.dimensions()) : results[0].embedding.size();
  std::vector<float> flat(texts.size() * dims);
  for (size_t i = 0; i < results.size(); ++i) {
    EmbedResult& r = results[i];
    if (normalize) l2_normalize(r.embedding);
    std::memcpy(flat.data() + i * dims, r.embedding.data(), dims * sizeof(float));
  }
  return float_matrix(std::move(flat), texts.size(), dims);
}

// output_value="token_embeddings" (or None): one [tokens, dims] array per text, and the
// sentence embeddings [n, dims] of the same pass.
std::pair<std::vector<Array>, Array> embed_tokens(const PyEmbedder& self, const std::vector<std::string>& texts,
                                                  const EmbedRequest& request, int batch_size, bool normalize) {
  std::vector<std::vector<float>> tokens_of_all, sentences;
  {
    nb::gil_scoped_release released;
    const size_t step = static_cast<size_t>(std::max(1, batch_size));
    for (size_t start = 0; start < texts.size(); start += step) {
      TokenBatch batch;
      std::vector<int64_t> prompts;
      for (size_t i = start; i < std::min(texts.size(), start + step); ++i) {
        PreparedText p = self.embedder.prepare(texts[i], request);
        batch.ids.push_back(std::move(p.encoding.ids));
        batch.type_ids.push_back(std::move(p.encoding.type_ids));
        prompts.push_back(p.prompt_tokens);
      }
      std::vector<std::vector<float>> tokens;
      for (auto& s : self.embedder.run(batch, prompts, request.task, &tokens)) {
        self.embedder.finish(s);  // as embed() ends
        if (normalize) l2_normalize(s);
        sentences.push_back(std::move(s));
      }
      for (auto& t : tokens) tokens_of_all.push_back(std::move(t));
    }
  }
  const size_t dims = static_cast<size_t>(self.embedder.token_dimensions());
  std::vector<Array> out;
  for (auto& t : tokens_of_all) {
    const size_t rows = t.size() / dims;
    out.push_back(float_matrix(std::move(t), rows, dims));
  }
  const size_t width = sentences.empty() ? static_cast<size_t>(self.embedder.dimensions()) : sentences[0].size();
  std::vector<float> flat(sentences.size() * width);
  for (size_t i = 0; i < sentences.size(); ++i) std::copy(sentences[i].begin(), sentences[i].end(), flat.begin() + i * width);
  return {std::move(out), float_matrix(std::move(flat), sentences.size(), width)};
}

struct PyReranker {
  Reranker reranker;
};

struct PyTokenizer {
  Tokenizer tokenizer;
};

// The pipelines (transformers' output structures are built in python/encore/pipelines.py).
struct PyTextClassifier {
  TextClassifier classifier;
};
struct PyTokenClassifier {
  TokenClassifier classifier;
};
struct PySparseEncoder {
  SparseEncoder encoder;
};
struct PyColBERT {
  ColBERT model;
};
struct PyBgeM3 {
  BgeM3 model;
};

// A MultiVector as a [rows, dim] float32 NumPy array.
Array multi_vector_array(MultiVector&& v) {
  return float_matrix(std::move(v.values), static_cast<size_t>(v.rows), static_cast<size_t>(v.dim));
}

// A 1-D NumPy array owning `data`.
template <class T>
Array vector_array(std::vector<T>&& data) {
  const size_t shape[1] = {data.size()};
  std::vector<T>* held = nullptr;
  nb::capsule owner = owning(std::move(data), &held);
  return Array(held->data(), 1, shape, owner, nullptr, nb::dtype<T>());
}

struct PyFillMask {
  FillMask fill_mask;
};
struct PyQuestionAnswerer {
  QuestionAnswerer answerer;
};

// A per-input error of a pipeline becomes the call's exception.
template <class Result>
void raise_first_error(const std::vector<Result>& results) {
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i].error.empty()) fail("input ", i, ": ", results[i].error);
}

ScoreFunction score_function(const std::string& name) {
  if (name == "default") return ScoreFunction::Default;
  if (name == "softmax") return ScoreFunction::Softmax;
  if (name == "sigmoid") return ScoreFunction::Sigmoid;
  if (name == "none") return ScoreFunction::None;
  fail("function_to_apply must be default, softmax, sigmoid or none, not '", name, "'");
}

nb::dict encoding_dict(const Encoding& e) {
  nb::dict d;
  d["ids"] = e.ids;
  d["type_ids"] = e.type_ids;
  d["attention_mask"] = e.attention_mask;
  d["special_tokens_mask"] = e.special_tokens_mask;
  d["tokens"] = e.tokens;
  d["offsets"] = e.char_offsets;  // code points: Python string indices, as `tokenizers` gives them
  nb::list words, sequences;
  for (int32_t w : e.word_ids) words.append(w < 0 ? nb::object(nb::none()) : nb::object(nb::int_(w)));
  for (int32_t s : e.sequence_ids) sequences.append(s < 0 ? nb::object(nb::none()) : nb::object(nb::int_(s)));
  d["word_ids"] = words;
  d["sequence_ids"] = sequences;
  nb::list overflowing;
  for (const Encoding& o : e.overflowing) overflowing.append(encoding_dict(o));
  d["overflowing"] = overflowing;
  return d;
}

EncodeOptions encode_options(const PyTokenizer& self, bool add_special_tokens, std::optional<size_t> max_length) {
  EncodeOptions o = self.tokenizer.config().defaults;
  o.add_special_tokens = add_special_tokens;
  if (max_length) {
    o.truncation.strategy = TruncationStrategy::LongestFirst;
    o.truncation.max_length = *max_length;
  }
  return o;
}

}  // namespace
}  // namespace encore::python

NB_MODULE(_encore, m) {
  using namespace encore;
  using namespace encore::python;
  m.doc() = "encore: Transformer encoders as their reference implementations compute them";

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  nb::class_<PyModel>(m, "Model")
      .def(
          "__init__",
          [](PyModel* self, const std::string& path, std::optional<std::string> dialect, const std::string& dtype,
             int threads, const std::string& activation) {
            LoadOptions lo;
            if (dialect) lo.dialect = dialect_from_name(*dialect);
            lo.activation = activation;
            lo.dtype = compute_type(dtype);
            nb::gil_scoped_release released;
            new (self) PyModel{Model::load(path, lo), threads};
          },
          "path"_a, "dialect"_a = nb::none(), "dtype"_a = "float32", "threads"_a = 0, "activation"_a = "")
      .def(
          "forward",
          [](const PyModel& self, const std::map<std::string, InArray>& inputs, bool all_hidden, bool attentions,
             bool causal) {
            const TensorMap in = tensors_of(inputs);
            ForwardOptions o;
            o.threads = self.threads;
            o.all_hidden = all_hidden;
            o.attentions = attentions;
            o.causal = causal;
            TensorMap out;
            {
              nb::gil_scoped_release released;
              out = self.model.forward(in, o);
            }
            nb::dict d;
            for (auto& [name, t] : out) d[name.c_str()] = to_numpy(std::move(t));
            return d;
          },
          "inputs"_a, "all_hidden"_a = false, "attentions"_a = false, "causal"_a = false)
      .def_prop_ro("dialect", [](const PyModel& self) { return std::string(dialect_name(self.model.config().dialect)); })
      .def_prop_ro("directory", [](const PyModel& self) { return self.model.directory(); })
      .def_prop_ro("parameter_count", [](const PyModel& self) { return self.model.parameter_count(); });

  nb::class_<PyEmbedder>(m, "Embedder")
      .def(
          "__init__",
          [](PyEmbedder* self, const std::string& path, const std::string& dtype, int threads, int truncate_dim,
             int batch_size) {
            EmbedderOptions o = options_of<EmbedderOptions>(dtype, threads, batch_size);
            o.dimensions = truncate_dim;
            nb::gil_scoped_release released;
            new (self) PyEmbedder{Embedder::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "truncate_dim"_a = 0, "batch_size"_a = 32)
      .def(
          "embed",
          [](const PyEmbedder& self, const std::vector<std::string>& texts, const std::string& task,
             std::optional<std::string> prompt_name, std::optional<std::string> prompt, int max_length,
             bool normalize, int batch_size) {
            EmbedRequest r;
            r.task = task;
            r.prompt_name = std::move(prompt_name);
            r.prompt = std::move(prompt);
            r.max_length = max_length;
            r.batch_size = batch_size;
            return embed(self, texts, r, normalize);
          },
          "texts"_a, "task"_a = "", "prompt_name"_a = nb::none(), "prompt"_a = nb::none(), "max_length"_a = 0,
          "normalize"_a = false, "batch_size"_a = 0)
      .def(
          "embed_tokens",
          [](const PyEmbedder& self, const std::vector<std::string>& texts, const std::string& task,
             std::optional<std::string> prompt_name, std::optional<std::string> prompt, int max_length,
             int batch_size, bool normalize) {
            EmbedRequest r;
            r.task = task;
            r.prompt_name = std::move(prompt_name);
            r.prompt = std::move(prompt);
            r.max_length = max_length;
            return embed_tokens(self, texts, r, batch_size, normalize);
          },
          "texts"_a, "task"_a = "", "prompt_name"_a = nb::none(), "prompt"_a = nb::none(), "max_length"_a = 0,
          "batch_size"_a = 32, "normalize"_a = false)
      .def_prop_ro("dimensions", [](const PyEmbedder& self) { return self.embedder.dimensions(); })
      .def_prop_ro("max_length", [](const PyEmbedder& self) { return self.embedder.max_length(); })
      .def_prop_ro("position_limit", [](const PyEmbedder& self) {
        const Model* model = self.embedder.model();
        return model ? model->config().max_length : int64_t{0};
      })
      .def_prop_ro("prompts", [](const PyEmbedder& self) { return self.embedder.prompts(); })
      .def_prop_ro("default_prompt_name", [](const PyEmbedder& self) { return self.embedder.default_prompt_name(); })
      .def_prop_ro("similarity_fn_name", [](const PyEmbedder& self) { return self.embedder.similarity_fn_name(); })
      .def_prop_ro("normalizes", [](const PyEmbedder& self) { return self.embedder.normalizes(); })
      .def("describe", [](const PyEmbedder& self) { return self.embedder.describe(); });

  nb::class_<PyReranker>(m, "Reranker")
      .def(
          "__init__",
          [](PyReranker* self, const std::string& path, const std::string& dtype, int threads, int max_length,
             int batch_size) {
            RerankerOptions o = options_of<RerankerOptions>(dtype, threads, batch_size);
            o.max_length = max_length;
            nb::gil_scoped_release released;
            new (self) PyReranker{Reranker::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "max_length"_a = 0, "batch_size"_a = 32)
      .def(
          "predict",
          [](const PyReranker& self, const std::vector<std::pair<std::string, std::string>>& pairs, bool raw) {
            std::vector<float> scores;
            {
              nb::gil_scoped_release released;
              scores = self.reranker.predict(pairs, raw);
            }
            return float_matrix(std::move(scores), pairs.size(), static_cast<size_t>(self.reranker.num_labels()));
          },
          "pairs"_a, "raw"_a = false)
      .def_prop_ro("num_labels", [](const PyReranker& self) { return self.reranker.num_labels(); });

  nb::class_<PyTextClassifier>(m, "TextClassifier")
      .def(
          "__init__",
          [](PyTextClassifier* self, const std::string& path, const std::string& dtype, int threads, int batch_size) {
            ClassifierOptions o = options_of<ClassifierOptions>(dtype, threads, batch_size);
            o.top_k = 0;
            nb::gil_scoped_release released;
            new (self) PyTextClassifier{TextClassifier::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32)
      // Every label's score per input, best first (equal scores in label order).
      .def(
          "classify",
          [](const PyTextClassifier& self, const std::vector<std::string>& texts, const std::vector<std::string>& pairs,
             const std::string& function) {
            const ScoreFunction f = score_function(function);
            std::vector<ClassifyResult> results;
            {
              nb::gil_scoped_release released;
              results = self.classifier.classify(texts, pairs);
            }
            raise_first_error(results);
            const std::vector<std::string>& labels = self.classifier.labels();
            std::vector<std::vector<std::pair<std::string, float>>> out;
            for (const ClassifyResult& r : results) {
              const std::vector<float> scores = self.classifier.scores(r.logits, f);
              std::vector<std::pair<std::string, float>> one;
              for (size_t k = 0; k < scores.size(); ++k) one.emplace_back(labels[k], scores[k]);
              std::stable_sort(one.begin(), one.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
              out.push_back(std::move(one));
            }
            return out;
          },
          "texts"_a, "pairs"_a = std::vector<std::string>{}, "function"_a = "default");

  nb::class_<PyTokenClassifier>(m, "TokenClassifier")
      .def(
          "__init__",
          [](PyTokenClassifier* self, const std::string& path, const std::string& aggregation,
             const std::vector<std::string>& ignore_labels, const std::string& dtype, int threads, int batch_size) {
            TokenClassifierOptions o = options_of<TokenClassifierOptions>(dtype, threads, batch_size);
            o.aggregation = aggregation_from_name(aggregation);
            o.ignore_labels = ignore_labels;
            nb::gil_scoped_release released;
            new (self) PyTokenClassifier{TokenClassifier::load(path, o)};
          },
          "path"_a, "aggregation"_a = "none", "ignore_labels"_a = std::vector<std::string>{"O"},
          "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32)
      .def("classify", [](const PyTokenClassifier& self, const std::vector<std::string>& texts, bool grouped) {
        std::vector<TokenClassifyResult> results;
        {
          nb::gil_scoped_release released;
          results = self.classifier.classify(texts);
        }
        raise_first_error(results);
        nb::list out;
        for (const TokenClassifyResult& r : results) {
          nb::list entities;
          for (const Entity& e : r.entities) {
            nb::dict d;
            d[grouped ? "entity_group" : "entity"] = e.label;
            d["score"] = e.score;
            if (!grouped) d["index"] = e.index;
            d["word"] = e.word;
            d["start"] = e.start;
            d["end"] = e.end;
            entities.append(d);
          }
          out.append(entities);
        }
        return out;
      });

  nb::class_<PySparseEncoder>(m, "SparseEncoder")
      .def(
          "__init__",
          [](PySparseEncoder* self, const std::string& path, const std::string& dtype, int threads, int max_length,
             int batch_size) {
            SparseEncoderOptions o = options_of<SparseEncoderOptions>(dtype, threads, batch_size);
            o.max_length = max_length;
            nb::gil_scoped_release released;
            new (self) PySparseEncoder{SparseEncoder::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "max_length"_a = 0, "batch_size"_a = 32)
      .def_prop_ro("dimensions", [](const PySparseEncoder& self) { return self.encoder.dimensions(); })
      .def_prop_ro("max_length", [](const PySparseEncoder& self) { return self.encoder.max_length(); })
      .def("describe", [](const PySparseEncoder& self) { return self.encoder.describe(); })
      // [(indices int32, values float32)] per text: the non-zero weights by index ascending.
      .def(
          "encode",
          [](const PySparseEncoder& self, const std::vector<std::string>& texts, int max_active_dims) {
        std::vector<SparseEmbedding> results;
        {
          nb::gil_scoped_release released;
          results = self.encoder.encode(texts, max_active_dims);
        }
        raise_first_error(results);
        nb::list out;
        for (SparseEmbedding& r : results)
          out.append(nb::make_tuple(vector_array(std::move(r.indices)), vector_array(std::move(r.values))));
        return out;
      },
          "texts"_a, "max_active_dims"_a = 0);

  nb::class_<PyColBERT>(m, "ColBERT")
      .def(
          "__init__",
          [](PyColBERT* self, const std::string& path, const std::string& dtype, int threads, int batch_size,
             int query_length, int document_length) {
            ColBERTOptions o = options_of<ColBERTOptions>(dtype, threads, batch_size);
            o.query_length = query_length;
            o.document_length = document_length;
            nb::gil_scoped_release released;
            new (self) PyColBERT{ColBERT::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32, "query_length"_a = 0,
          "document_length"_a = 0)
      .def_prop_ro("dimensions", [](const PyColBERT& self) { return self.model.dimensions(); })
      .def_prop_ro("query_length", [](const PyColBERT& self) { return self.model.query_length(); })
      .def_prop_ro("document_length", [](const PyColBERT& self) { return self.model.document_length(); })
      .def("describe", [](const PyColBERT& self) { return self.model.describe(); })
      // [float32 [kept tokens, dim]] per text.
      .def(
          "encode",
          [](const PyColBERT& self, const std::vector<std::string>& texts, bool is_query) {
            std::vector<MultiVector> results;
            {
              nb::gil_scoped_release released;
              results = self.model.encode(texts, is_query);
            }
            raise_first_error(results);
            nb::list out;
            for (MultiVector& r : results) out.append(multi_vector_array(std::move(r)));
            return out;
          },
          "texts"_a, "is_query"_a);

  nb::class_<PyBgeM3>(m, "BgeM3")
      .def(
          "__init__",
          [](PyBgeM3* self, const std::string& path, const std::string& dtype, int threads, int batch_size,
             int max_length, bool normalize, bool fp16_weights) {
            BgeM3Options o = options_of<BgeM3Options>(dtype, threads, batch_size);
            o.max_length = max_length;
            o.normalize = normalize;
            o.fp16_weights = fp16_weights;
            nb::gil_scoped_release released;
            new (self) PyBgeM3{BgeM3::load(path, o)};
          },
          "path"_a, "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32, "max_length"_a = 0,
          "normalize"_a = true, "fp16_weights"_a = false)
      .def_prop_ro("dimensions", [](const PyBgeM3& self) { return self.model.dimensions(); })
      .def_prop_ro("max_length", [](const PyBgeM3& self) { return self.model.max_length(); })
      .def("describe", [](const PyBgeM3& self) { return self.model.describe(); })
      // (dense float32 [texts, H], [(indices int32, values float32)], [float32 [tokens - 1, dim]]).
      .def(
          "encode",
          [](const PyBgeM3& self, const std::vector<std::string>& texts, int max_length) {
            std::vector<BgeM3Embedding> results;
            {
              nb::gil_scoped_release released;
              results = self.model.encode(texts, max_length);
            }
            raise_first_error(results);
            const size_t H = static_cast<size_t>(self.model.dimensions());
            std::vector<float> dense(results.size() * H);
            nb::list sparse, colbert;
            for (size_t i = 0; i < results.size(); ++i) {
              std::copy(results[i].dense.begin(), results[i].dense.end(), dense.begin() + i * H);
              sparse.append(nb::make_tuple(vector_array(std::move(results[i].sparse.indices)),
                                           vector_array(std::move(results[i].sparse.values))));
              colbert.append(multi_vector_array(std::move(results[i].colbert)));
            }
            return nb::make_tuple(float_matrix(std::move(dense), results.size(), H), sparse, colbert);
          },
          "texts"_a, "max_length"_a = 0);

  nb::class_<PyFillMask>(m, "FillMask")
      .def(
          "__init__",
          [](PyFillMask* self, const std::string& path, int top_k, const std::string& dtype, int threads,
             int batch_size) {
            FillMaskOptions o = options_of<FillMaskOptions>(dtype, threads, batch_size);
            o.top_k = top_k;
            nb::gil_scoped_release released;
            new (self) PyFillMask{FillMask::load(path, o)};
          },
          "path"_a, "top_k"_a = 5, "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32)
      .def_prop_ro("mask_token", [](const PyFillMask& self) { return self.fill_mask.mask_token(); })
      .def("fill", [](const PyFillMask& self, const std::vector<std::string>& texts) {
        std::vector<FillMaskResult> results;
        {
          nb::gil_scoped_release released;
          results = self.fill_mask.fill(texts);
        }
        raise_first_error(results);
        nb::list out;
        for (const FillMaskResult& r : results) {
          nb::list masks;
          for (const auto& predictions : r.masks) {
            nb::list one;
            for (const MaskPrediction& p : predictions) {
              nb::dict d;
              d["score"] = p.score;
              d["token"] = p.token;
              d["token_str"] = p.token_str;
              d["sequence"] = p.sequence;
              one.append(d);
            }
            masks.append(one);
          }
          out.append(masks);
        }
        return out;
      });

  nb::class_<PyQuestionAnswerer>(m, "QuestionAnswerer")
      .def(
          "__init__",
          [](PyQuestionAnswerer* self, const std::string& path, int top_k, int max_answer_len, int max_seq_len,
             int doc_stride, bool handle_impossible_answer, const std::string& dtype, int threads, int batch_size) {
            QuestionAnswererOptions o = options_of<QuestionAnswererOptions>(dtype, threads, batch_size);
            o.top_k = top_k;
            o.max_answer_len = max_answer_len;
            o.max_seq_len = max_seq_len;
            o.doc_stride = doc_stride;
            o.handle_impossible_answer = handle_impossible_answer;
            nb::gil_scoped_release released;
            new (self) PyQuestionAnswerer{QuestionAnswerer::load(path, o)};
          },
          "path"_a, "top_k"_a = 1, "max_answer_len"_a = 15, "max_seq_len"_a = 0, "doc_stride"_a = 0,
          "handle_impossible_answer"_a = false, "dtype"_a = "float32", "threads"_a = 0, "batch_size"_a = 32)
      .def("answer", [](const PyQuestionAnswerer& self, const std::vector<std::string>& questions,
                        const std::vector<std::string>& contexts) {
        std::vector<AnswerResult> results;
        {
          nb::gil_scoped_release released;
          results = self.answerer.answer(questions, contexts);
        }
        raise_first_error(results);
        nb::list out;
        for (const AnswerResult& r : results) {
          nb::list answers;
          for (const Answer& a : r.answers) {
            nb::dict d;
            d["score"] = a.score;
            d["start"] = a.start;
            d["end"] = a.end;
            d["answer"] = a.answer;
            answers.append(d);
          }
          out.append(answers);
        }
        return out;
      });

  nb::class_<PyTokenizer>(m, "Tokenizer")
      .def_static("from_file",
                  [](const std::string& path) {
                    nb::gil_scoped_release released;
                    return PyTokenizer{Tokenizer::from_tokenizer_json(path)};
                  })
      .def_static(
          "from_dir",
          [](const std::string& dir, std::optional<std::string> flavour) {
            std::optional<TokenizerFlavour> f;
            if (flavour) f = flavour_from_name(*flavour);
            nb::gil_scoped_release released;
            return PyTokenizer{Tokenizer::from_dir(dir, f)};
          },
          "dir"_a, "flavour"_a = nb::none())
      .def(
          "encode",
          [](const PyTokenizer& self, const std::string& text, std::optional<std::string> pair,
             bool add_special_tokens, std::optional<size_t> max_length) {
            const EncodeOptions o = encode_options(self, add_special_tokens, max_length);
            Encoding e;
            {
              nb::gil_scoped_release released;
              e = pair ? self.tokenizer.encode_pair(text, *pair, o) : self.tokenizer.encode(text, o);
            }
            return encoding_dict(e);
          },
          "text"_a, "pair"_a = nb::none(), "add_special_tokens"_a = true, "max_length"_a = nb::none())
      .def(
          "encode_batch",
          [](const PyTokenizer& self, const std::vector<std::string>& texts, bool add_special_tokens,
             std::optional<size_t> max_length) {
            const EncodeOptions o = encode_options(self, add_special_tokens, max_length);
            std::vector<Encoding> all;
            {
              nb::gil_scoped_release released;
              const std::vector<std::string_view> views(texts.begin(), texts.end());
              all = self.tokenizer.encode_batch(views, o);
            }
            nb::list out;
            for (const Encoding& e : all) out.append(encoding_dict(e));
            return out;
          },
          "texts"_a, "add_special_tokens"_a = true, "max_length"_a = nb::none())
      .def(
          "decode",
          [](const PyTokenizer& self, const std::vector<int32_t>& ids, bool skip_special_tokens) {
            DecodeOptions o;
            o.skip_special_tokens = skip_special_tokens;
            nb::gil_scoped_release released;
            return self.tokenizer.decode(ids, o);
          },
          "ids"_a, "skip_special_tokens"_a = true)
      .def("token_to_id", [](const PyTokenizer& self, const std::string& t) { return self.tokenizer.token_to_id(t); })
      .def("id_to_token", [](const PyTokenizer& self, int32_t id) { return self.tokenizer.id_to_token(id); })
      .def("get_vocab_size", [](const PyTokenizer& self) { return self.tokenizer.vocab_size(); });
}
