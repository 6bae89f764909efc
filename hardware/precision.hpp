// Numeric precisions a device has a peak rate for.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace hardware {

// fp32 is the non-tensor (vector unit) rate; tf32 the tensor-core rate on fp32 data; fp6 and fp4 the tensor-core
// rates on 6- and 4-bit floats (Blackwell, CDNA 4: MXFP6, MXFP4, NVFP4), dense like every peak. Added last, so
// the order of the others (charts, tables) stays as it was.
enum class Precision { fp64, fp32, tf32, fp16, bf16, fp8, int8, int4, fp6, fp4 };

inline constexpr std::array<Precision, 10> kAllPrecisions = {
    Precision::fp64, Precision::fp32, Precision::tf32, Precision::fp16, Precision::bf16,
    Precision::fp8,  Precision::int8, Precision::int4, Precision::fp6,  Precision::fp4};

constexpr std::string_view to_string(Precision p) {
  constexpr std::array<std::string_view, 10> names = {"fp64", "fp32", "tf32", "fp16", "bf16",
                                                      "fp8",  "int8", "int4", "fp6",  "fp4"};
  return names[static_cast<std::size_t>(p)];
}

constexpr std::optional<Precision> parse_precision(std::string_view s) {
  for (Precision p : kAllPrecisions)
    if (to_string(p) == s) return p;
  return std::nullopt;
}

}  // namespace hardware
