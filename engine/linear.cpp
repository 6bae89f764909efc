#include "engine/linear.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "engine/error.hpp"

namespace engine {

std::string to_string(WeightFormat f) {
  switch (f) {
    case WeightFormat::f32: return "f32";
    case WeightFormat::bf16: return "bf16";
    case WeightFormat::int8: return "int8";
  }
  return "?";
}

WeightFormat parse_weight_format(const std::string& s) {
  if (s == "f32" || s == "fp32") return WeightFormat::f32;
  if (s == "bf16") return WeightFormat::bf16;
  if (s == "int8") return WeightFormat::int8;
  throw EngineError("weights", "format", fmt::format("unknown weight format '{}' (use f32, bf16 or int8)", s));
}

float bf16_to_float(std::uint16_t h) {
  const std::uint32_t u = std::uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::uint16_t float_to_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round half to even on the dropped 16 bits
  return std::uint16_t(u >> 16);
}

std::uint16_t float_to_half(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
  const float a = std::fabs(f);
  if (std::isnan(f)) return std::uint16_t(sign | 0x7e00u);
  if (a >= 65520.0f) return std::uint16_t(sign | 0x7c00u);  // rounds to infinity
  if (a < std::ldexp(1.0f, -14)) {  // subnormal half: multiples of 2^-24
    const auto m = std::uint16_t(std::nearbyint(a * std::ldexp(1.0f, 24)));
    return std::uint16_t(sign | m);
  }
  int e;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  auto mant = std::uint32_t(std::nearbyint((m * 2 - 1) * 1024));  // 10 fraction bits of 1.f
  int exponent = e - 1 + 15;
  if (mant == 1024) {  // rounding carried into the exponent
    mant = 0;
    ++exponent;
  }
  if (exponent >= 31) return std::uint16_t(sign | 0x7c00u);
  return std::uint16_t(sign | std::uint16_t(exponent << 10) | std::uint16_t(mant));
}

std::size_t Linear::weight_bytes() const {
  std::size_t bytes = f32.size() * 4 + bf16.size() * 2 + i8.size() + scales.size() * 2;
  return bytes + bias.size() * 4;
}

float Linear::at(std::int64_t row, std::int64_t col) const {
  const std::int64_t i = row * k + col;
  switch (format) {
    case WeightFormat::f32: return f32[std::size_t(i)];
    case WeightFormat::bf16: return bf16_to_float(bf16[std::size_t(i)]);
    case WeightFormat::int8:
      return float(i8[std::size_t(i)]) * half_to_float(scales[std::size_t(row * groups_per_row() + col / group)]);
  }
  return 0;
}

void Linear::dequantize_row(std::int64_t row, float* out) const {
  for (std::int64_t c = 0; c < k; ++c) out[c] = at(row, c);
}

Linear make_linear(const std::string& name, const float* w, std::int64_t n, std::int64_t k, WeightFormat format,
                   std::int64_t group, const float* bias) {
  if (n < 1 || k < 1) throw EngineError(name, "shape", fmt::format("must be positive, got [{}, {}]", n, k));
  Linear l;
  l.n = n;
  l.k = k;
  l.format = format;
  const auto count = std::size_t(n * k);
  switch (format) {
    case WeightFormat::f32:
      l.f32 = Buffer<float>(count);
      std::copy(w, w + count, l.f32.data());
      break;
    case WeightFormat::bf16:
      l.bf16 = Buffer<std::uint16_t>(count);
#pragma omp parallel for schedule(static)
      for (std::size_t i = 0; i < count; ++i) l.bf16[i] = float_to_bf16(w[i]);
      break;
    case WeightFormat::int8: {
      if (!group_fits(group, k))
        throw EngineError(name, "group_size",
                          fmt::format("{} must divide the input width {} and be a multiple of 16 (or equal it)",
                                      group, k));
      l.group = group;
      l.i8 = Buffer<std::int8_t>(count);
      l.scales = Buffer<std::uint16_t>(std::size_t(n * (k / group)));
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < n; ++r) {
        for (std::int64_t g0 = 0; g0 < k; g0 += group) {
          const float* src = w + r * k + g0;
          float amax = 0;
          for (std::int64_t i = 0; i < group; ++i) amax = std::max(amax, std::fabs(src[i]));
          const std::uint16_t half = float_to_half(amax / 127.0f);
          l.scales[std::size_t(r * (k / group) + g0 / group)] = half;
          const float scale = half_to_float(half);  // quantize against the scale actually stored
          for (std::int64_t i = 0; i < group; ++i) {
            const float q = scale > 0 ? std::nearbyint(src[i] / scale) : 0.0f;
            l.i8[std::size_t(r * k + g0 + i)] = std::int8_t(std::clamp(q, -127.0f, 127.0f));
          }
        }
      }
      break;
    }
  }
  if (bias) {
    l.bias = Buffer<float>(std::size_t(n));
    std::copy(bias, bias + n, l.bias.data());
  }
  return l;
}

}  // namespace engine
