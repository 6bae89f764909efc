// fp16 scale bits to float for the linear kernels (kernels_gemm.cpp, kernels_gemv.cpp), which are built for
// the host's ISA: include from those files only.
#pragma once

#include <cstdint>

#include <immintrin.h>

#include "engine/linear.hpp"

namespace engine::detail {

// fp16 bits to float in one instruction where the host has F16C: half_to_float's branches, run once per
// group, cost as much as a quarter of the group's weights.
inline float scale_to_float(std::uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return half_to_float(h);
#endif
}

}  // namespace engine::detail
