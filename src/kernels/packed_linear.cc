#include "kernels/packed_linear.h"

#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>

#include "encore/error.h"

namespace encore::kernels {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The post-op chain for an activation (oneDNN eltwise) or a residual sum.
dnnl::primitive_attr make_attr(std::optional<Activation> act, bool accumulate) {
  dnnl::post_ops po;
  if (accumulate) po.append_sum(1.0f);
  if (act) {
    switch (*act) {
      case Activation::GeluErf: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f); break;
      case Activation::GeluTanh: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f); break;
      case Activation::Relu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
      case Activation::QuickGelu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.702f, 0.0f); break;
      case Activation::Silu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f); break;
    }
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  return attr;
}

}  // namespace

struct PackedLinear::Impl {
  memory::desc weights_md;  // the packed layout
  memory weights;
  memory bias;
  bool has_bias = false;
  // Primitives by (rows, activation, accumulate): oneDNN primitives are shape-specific.
  mutable std::mutex mu;
  mutable std::map<std::tuple<int64_t, int, bool>, dnnl::matmul> cache;

  dnnl::matmul::primitive_desc describe(int64_t M, int64_t K, int64_t N, const memory::desc& w,
                                        std::optional<Activation> act, bool accumulate) const {
    memory::desc src({M, K}, dt::f32, tag::ab), dst({M, N}, dt::f32, tag::ab);
    memory::desc b = has_bias ? memory::desc({1, N}, dt::f32, tag::ab) : memory::desc();
    dnnl::matmul::desc d(src, w, b, dst);
    return dnnl::matmul::primitive_desc(d, make_attr(act, accumulate), cpu_engine());
  }
};

PackedLinear::PackedLinear(const float* weight, const float* bias, int64_t out, int64_t in)
    : out_(out), in_(in), impl_(std::make_unique<Impl>()) {
  impl_->has_bias = bias != nullptr;
  // Let oneDNN choose the weights layout for a typical row count; every later row count
  // reuses that layout (the blocked kernels accept it for any M).
  memory::desc any({in, out}, dt::f32, tag::any);
  auto pd = impl_->describe(128, in, out, any, std::nullopt, false);
  impl_->weights_md = pd.weights_desc();
  impl_->weights = memory(impl_->weights_md, cpu_engine());
  // [out, in] row-major is the [in, out] matrix with layout "ba".
  memory user(memory::desc({in, out}, dt::f32, tag::ba), cpu_engine(), const_cast<float*>(weight));
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(user, impl_->weights).execute(stream, user, impl_->weights);
  if (bias) {
    impl_->bias = memory(memory::desc({1, out}, dt::f32, tag::ab), cpu_engine());
    std::copy(bias, bias + out, static_cast<float*>(impl_->bias.get_data_handle()));
  }
  stream.wait();
}

PackedLinear::~PackedLinear() = default;

void PackedLinear::run(float* y, const float* x, int64_t T, std::optional<Activation> act, bool accumulate) const {
  if (T == 0) return;
  ENCORE_CHECK(!(act && accumulate), "PackedLinear: activation and accumulate are exclusive");
  dnnl::matmul prim;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto key = std::make_tuple(T, act ? static_cast<int>(*act) : -1, accumulate);
    auto it = impl_->cache.find(key);
    if (it == impl_->cache.end()) {
      if (impl_->cache.size() > 256) impl_->cache.clear();  // bounded: serving sees many row counts
      it = impl_->cache.emplace(key, dnnl::matmul(impl_->describe(T, in_, out_, impl_->weights_md, act, accumulate)))
               .first;
    }
    prim = it->second;
  }
  memory src(memory::desc({T, in_}, dt::f32, tag::ab), cpu_engine(), const_cast<float*>(x));
  memory dst(memory::desc({T, out_}, dt::f32, tag::ab), cpu_engine(), y);
  dnnl::stream stream(cpu_engine());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, impl_->weights}, {DNNL_ARG_DST, dst}};
  if (impl_->has_bias) args[DNNL_ARG_BIAS] = impl_->bias;
  prim.execute(stream, args);
  stream.wait();
}

}  // namespace encore::kernels
