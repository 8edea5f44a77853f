// The spellings of the public enums: activations (as configs write them), compute types.
#include "encore/error.h"
#include "encore/model.h"

namespace encore {

Activation activation_from_name(const std::string& name) {
  // transformers activations.py ACT2FN names that BERT checkpoints use.
  if (name == "gelu" || name == "gelu_python" || name == "gelu_erf") return Activation::GeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast" || name == "gelu_tanh")
    return Activation::GeluTanh;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "tanh") return Activation::Tanh;
  fail("unsupported activation '", name,
       "' (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu, silu, tanh, gelu_erf, gelu_tanh)");
}

const char* compute_type_name(ComputeType t) {
  switch (t) {
    case ComputeType::F32:
      return "f32";
    case ComputeType::BF16:
      return "bf16";
    case ComputeType::Int8:
      return "int8";
  }
  return "?";
}

const char* compute_type_torch_name(ComputeType t) {
  switch (t) {
    case ComputeType::F32:
      return "float32";
    case ComputeType::BF16:
      return "bfloat16";
    case ComputeType::Int8:
      return "int8";
  }
  return "?";
}

ComputeType compute_type_from_name(const std::string& name) {
  if (name == "f32" || name == "float32") return ComputeType::F32;
  if (name == "bf16" || name == "bfloat16") return ComputeType::BF16;
  if (name == "int8") return ComputeType::Int8;
  fail("unknown dtype '", name, "' (f32, bf16 or int8; float32 and bfloat16 also)");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::GeluErf:
      return "gelu_erf";
    case Activation::GeluTanh:
      return "gelu_tanh";
    case Activation::QuickGelu:
      return "quick_gelu";
    case Activation::Relu:
      return "relu";
    case Activation::Silu:
      return "silu";
    case Activation::Tanh:
      return "tanh";
  }
  return "?";
}

}  // namespace encore
