// How encore computes a Linear layer: its activation and the number format of its GEMM.
// Shared by the public model API (model.h) and the kernels, which need nothing else of it.
#pragma once

#include <string>

namespace encore {

enum class Activation { GeluErf, GeluTanh, QuickGelu, Relu, Silu, Tanh };
Activation activation_from_name(const std::string& name);  // config spellings: gelu, gelu_new, relu, ...
const char* activation_name(Activation a);

// The number format of the linear layers' GEMMs (everything else computes in float32).
enum class ComputeType { F32, BF16, Int8 };
// Two spellings: encore's short one ("f32", "bf16", "int8": --dtype) and PyTorch's dtype
// names ("float32", "bfloat16", "int8": TEI's /info model_dtype, the Python API).
const char* compute_type_name(ComputeType t);        // "f32", "bf16", "int8"
const char* compute_type_torch_name(ComputeType t);  // "float32", "bfloat16", "int8"
ComputeType compute_type_from_name(const std::string& name);  // either spelling; else encore::Error

}  // namespace encore
