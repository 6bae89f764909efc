// Storage types of weights, activations and the KV cache.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace opmodel {

enum class DType { fp32, fp16, bf16, fp8, int8, int4 };

inline constexpr std::array<DType, 6> kAllDTypes = {DType::fp32, DType::fp16, DType::bf16,
                                                    DType::fp8,  DType::int8, DType::int4};

constexpr std::string_view to_string(DType t) {
  constexpr std::array<std::string_view, 6> names = {"fp32", "fp16", "bf16", "fp8", "int8", "int4"};
  return names[static_cast<std::size_t>(t)];
}

constexpr std::optional<DType> parse_dtype(std::string_view s) {
  for (DType t : kAllDTypes)
    if (to_string(t) == s) return t;
  if (s == "float32") return DType::fp32;
  if (s == "float16") return DType::fp16;
  if (s == "bfloat16") return DType::bf16;
  return std::nullopt;
}

// Bytes per element; int4 packs two elements per byte.
constexpr double bytes_of(DType t) {
  constexpr std::array<double, 6> bytes = {4, 2, 2, 1, 1, 0.5};
  return bytes[static_cast<std::size_t>(t)];
}

// Integer weight formats carry one fp16 scale per group of input elements (group-wise symmetric
// quantization, as GPTQ/AWQ/llm.int8 store them); fp8 uses a per-tensor scale, too small to count.
constexpr bool has_group_scales(DType t) { return t == DType::int8 || t == DType::int4; }
constexpr bool is_integer(DType t) { return t == DType::int8 || t == DType::int4; }
// Quantized weight formats apply to the decoder layers' projections only (see step_ops.hpp).
constexpr bool is_quantized(DType t) { return t == DType::fp8 || t == DType::int8 || t == DType::int4; }

}  // namespace opmodel
