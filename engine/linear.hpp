// Linear: the weight of one nn.Linear layer, stored as fp32, bf16, or int8 with fp16 scales, so that the
// same op runs at three arithmetic intensities. Layout is Hugging Face's: row n holds output n's k inputs.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "engine/buffer.hpp"

namespace engine {

enum class WeightFormat { f32, bf16, int8 };
std::string to_string(WeightFormat f);
WeightFormat parse_weight_format(const std::string& s);  // "f32" | "bf16" | "int8"; throws EngineError

struct Linear {
  std::int64_t n = 0, k = 0;  // outputs, inputs
  WeightFormat format = WeightFormat::f32;
  std::int64_t group = 0;           // int8: inputs sharing one scale (k = per output channel)
  Buffer<float> f32;                // [n, k] when f32
  Buffer<std::uint16_t> bf16;       // [n, k] when bf16
  Buffer<std::int8_t> i8;           // [n, k] when int8
  Buffer<std::uint16_t> scales;     // [n, k / group] fp16 bits when int8: w = i8 * scale
  Buffer<float> bias;               // [n], or empty

  std::int64_t groups_per_row() const { return format == WeightFormat::int8 ? k / group : 0; }
  std::size_t weight_bytes() const;  // bytes the kernels stream: the matrix, its scales and bias
  float at(std::int64_t row, std::int64_t col) const;  // the dequantized weight
  void dequantize_row(std::int64_t row, float* out) const;  // out[k]
};

// Whether int8 weights of input width k can take `group` inputs per scale: it must divide k and be a
// multiple of 16 (the kernels' vector width), or be k itself (per output channel).
inline bool group_fits(std::int64_t group, std::int64_t k) {
  return group > 0 && k % group == 0 && (group % 16 == 0 || group == k);
}

// Builds a Linear from fp32 weights w[n, k] (and bias[n] or null), converting to `format`. int8 uses
// symmetric round-to-nearest per group: scale = max|w| / 127 (as fp16), q = round(w / scale).
// The group must fit k (group_fits); throws EngineError naming `name`.
Linear make_linear(const std::string& name, const float* w, std::int64_t n, std::int64_t k, WeightFormat format,
                   std::int64_t group, const float* bias);

float bf16_to_float(std::uint16_t h);
std::uint16_t float_to_bf16(float f);  // round to nearest even; NaN stays NaN
std::uint16_t float_to_half(float f);  // round to nearest even; overflow to infinity

inline float half_to_float(std::uint16_t h) {
  // Re-bias the exponent (15 -> 127) and widen the mantissa (10 -> 23 bits); subnormal halves are exact
  // multiples of 2^-24; infinity and NaN keep an all-ones exponent. Bit operations only: this runs per
  // group of weights inside the int8 kernels.
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16, em = h & 0x7fffu;
  std::uint32_t bits;
  if (em >= 0x7c00u) {
    bits = sign | 0x7f800000u | ((em & 0x3ffu) << 13);
  } else if (em >= 0x400u) {
    bits = sign | ((em << 13) + (std::uint32_t(127 - 15) << 23));
  } else {
    const float sub = float(em) * 0x1.0p-24f;
    std::memcpy(&bits, &sub, 4);
    bits |= sign;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace engine
