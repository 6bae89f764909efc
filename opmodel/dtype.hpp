// Storage types of weights, activations and the KV cache, as they are stored (with their scales).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace opmodel {

// fp8 is e4m3 or e5m2 with one per-tensor scale (the two cost the same everywhere: one byte, the same tensor-core
// rate). The block formats carry scales a GEMM reads with the weights (bits per weight, including scales):
//   fp8_block  e4m3 with one fp32 scale per 128x128 block (DeepSeek-V3):   8 + 32/16384 = 8.002
//   mxfp4      OCP MX: e2m1 values, one 8-bit (e8m0) exponent per 32:      4 + 8/32     = 4.25
//   nvfp4      e2m1 values, one fp8 (e4m3) scale per 16, fp32 per tensor:  4 + 8/16     = 4.5
//   int8/int4  one fp16 scale per group of `group_size` inputs (GPTQ/AWQ): 8 or 4 + 16/G
enum class DType { fp32, fp16, bf16, fp8, int8, int4, fp8_block, mxfp4, nvfp4 };

inline constexpr std::array<DType, 9> kAllDTypes = {DType::fp32, DType::fp16,      DType::bf16,
                                                    DType::fp8,  DType::int8,      DType::int4,
                                                    DType::fp8_block, DType::mxfp4, DType::nvfp4};

constexpr std::string_view to_string(DType t) {
  constexpr std::array<std::string_view, 9> names = {"fp32", "fp16",      "bf16",  "fp8",  "int8",
                                                     "int4", "fp8_block", "mxfp4", "nvfp4"};
  return names[static_cast<std::size_t>(t)];
}

constexpr std::optional<DType> parse_dtype(std::string_view s) {
  for (DType t : kAllDTypes)
    if (to_string(t) == s) return t;
  if (s == "float32") return DType::fp32;
  if (s == "float16") return DType::fp16;
  if (s == "bfloat16") return DType::bf16;
  if (s == "fp8_e4m3" || s == "fp8_e5m2" || s == "e4m3" || s == "e5m2") return DType::fp8;
  return std::nullopt;
}

// The names parse_dtype accepts, for error messages.
inline constexpr std::string_view kDTypeNames =
    "fp32, fp16, bf16, fp8 (fp8_e4m3, fp8_e5m2), int8, int4, fp8_block, mxfp4, nvfp4";

// Bytes per element, scales not included (matrix_bytes adds them); 4-bit formats pack two elements per byte.
constexpr double bytes_of(DType t) {
  constexpr std::array<double, 9> bytes = {4, 2, 2, 1, 1, 0.5, 1, 0.5, 0.5};
  return bytes[static_cast<std::size_t>(t)];
}

// Integer weight formats carry one fp16 scale per group of input elements (group-wise symmetric
// quantization, as GPTQ/AWQ/llm.int8 store them); fp8 uses a per-tensor scale, too small to count.
constexpr bool has_group_scales(DType t) { return t == DType::int8 || t == DType::int4; }
// The largest group: one scale per row of any projection the model limits allow.
inline constexpr std::int64_t kMaxGroupSize = std::int64_t{1} << 24;
constexpr bool is_integer(DType t) { return t == DType::int8 || t == DType::int4; }
// Formats with block scales, made for tensor cores that read them: their GEMMs quantize the activations on the fly
// to the same format and run at its rate (fp8 on Hopper, fp4 on Blackwell), up-converting where a part lacks it.
constexpr bool is_block_float(DType t) { return t == DType::fp8_block || t == DType::mxfp4 || t == DType::nvfp4; }
// Quantized weight formats apply to the decoder layers' projections only (see step_ops.hpp).
constexpr bool is_quantized(DType t) { return t == DType::fp8 || is_integer(t) || is_block_float(t); }
// Formats that only weights are stored in (activations and the KV cache take the others).
constexpr bool is_weight_only(DType t) { return is_block_float(t); }

}  // namespace opmodel
