// Numeric precisions a device has a peak rate for.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace hardware {

// fp32 is the non-tensor (vector unit) rate; tf32 the tensor-core rate on fp32 data.
enum class Precision { fp64, fp32, tf32, fp16, bf16, fp8, int8, int4 };

inline constexpr std::array<Precision, 8> kAllPrecisions = {
    Precision::fp64, Precision::fp32, Precision::tf32, Precision::fp16,
    Precision::bf16, Precision::fp8,  Precision::int8, Precision::int4};

constexpr std::string_view to_string(Precision p) {
  constexpr std::array<std::string_view, 8> names = {"fp64", "fp32", "tf32", "fp16",
                                                     "bf16", "fp8",  "int8", "int4"};
  return names[static_cast<std::size_t>(p)];
}

constexpr std::optional<Precision> parse_precision(std::string_view s) {
  for (Precision p : kAllPrecisions)
    if (to_string(p) == s) return p;
  return std::nullopt;
}

}  // namespace hardware
