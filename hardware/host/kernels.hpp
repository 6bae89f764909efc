// The probe loops, written once over a vector "policy" V and instantiated per ISA (kernels_avx512.cpp,
// kernels_avx2.cpp, kernels_scalar.cpp) and with a counting policy (kernels_count.cpp) that tallies the
// FLOPs and bytes the same loop performs, so tests can check each declared count against the loop.
//
// A policy V provides: `scalar`, `vec`, `lanes`, and static set1, zero, load, store, add, fma(x, y, z) = x*y + z,
// reduce (sum of lanes, as double). Dot policies (int8, bf16) provide `acc`, `lanes` (32-bit accumulator
// lanes), `products_per_lane`, `operands()` (the two constant operands), `zero()`, `dot(acc, x, y)`, `reduce`.
//
// An "element" is one lane of one loop iteration (peak kernels) or one array index (memory kernels).
// Every function here is a template: instantiated with a policy from an anonymous namespace it has internal
// linkage, so a copy compiled with -mavx512f can never be shared with code that runs on other CPUs.
#pragma once

#include <cstdint>

#include "hardware/host/probe_kernel.hpp"

namespace hardware::host::kernels {

// Lanes and chains of each ISA's instantiation, shared with the counting twins.
struct IsaShape {
  int f32_lanes, f64_lanes;
  int fma_chains;  // independent accumulators: at least FMA latency x FMA pipes (4 x 2 on current x86 cores)
  int dot_chains;  // same for VNNI / BF16 dot products; 0 where the ISA has none
};
inline constexpr IsaShape kScalarShape{1, 1, 12, 0};   // a multiply and an add in sequence: twice the latency
inline constexpr IsaShape kAvx2Shape{8, 4, 10, 0};     // 10 accumulators + 2 constants of 16 ymm registers
inline constexpr IsaShape kAvx512Shape{16, 8, 24, 16};  // 24 + 2 of 32 zmm registers: 3x the latency bound

// Peak multiply-add rate: Chains independent chains acc = acc * m + c per lane, in registers only. Chain k
// starts at 1 + k/64; m < 1 makes every chain converge to c / (1 - m) = 0.5: no overflow, no denormals.
inline constexpr double kFmaStart = 1, kFmaStartStep = 1.0 / 64, kFmaMultiplier = 0.998, kFmaAddend = 0.001;

template <class V, int Chains>
struct PeakFma {
  using T = typename V::scalar;
  static constexpr double flops_per_element = 2.0 * Chains;  // Chains multiply-adds of 2 FLOP per lane
  static constexpr double bytes_per_element = 0;             // registers only
  static constexpr std::int64_t granule = V::lanes;          // one iteration covers `lanes` elements

  static double run(float*, const float*, const float*, std::int64_t n, std::int64_t repeats) {
    typename V::vec acc[Chains];
    for (int k = 0; k < Chains; ++k) acc[k] = V::set1(T(kFmaStart) + T(k) * T(kFmaStartStep));
    const auto m = V::set1(T(kFmaMultiplier)), c = V::set1(T(kFmaAddend));
    const std::int64_t iterations = n / V::lanes * repeats;
    for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
      for (int k = 0; k < Chains; ++k) acc[k] = V::fma(acc[k], m, c);
    }
    for (int k = 1; k < Chains; ++k) acc[0] = V::add(acc[0], acc[k]);
    return V::reduce(acc[0]);
  }
};

// Peak dot-product rate (VNNI int8, AVX512_BF16): Chains independent accumulators per lane. Operands are
// constants: int8 3 (unsigned) x -2 (signed); bf16 1/1024 x 1/1024 (exact in bf16, the sums grow slowly).
inline constexpr int kDotI8X = 3, kDotI8Y = -2;
inline constexpr float kDotBf16Operand = 1.0f / 1024;

template <class D, int Chains>
struct PeakDot {
  // Each dot instruction does D::products_per_lane multiply-adds (2 OP each) per 32-bit accumulator lane.
  static constexpr double flops_per_element = 2.0 * D::products_per_lane * Chains;
  static constexpr double bytes_per_element = 0;
  static constexpr std::int64_t granule = D::lanes;

  static double run(float*, const float*, const float*, std::int64_t n, std::int64_t repeats) {
    typename D::acc acc[Chains];
    for (int k = 0; k < Chains; ++k) acc[k] = D::zero();
    const auto [x, y] = D::operands();
    const std::int64_t iterations = n / D::lanes * repeats;
    for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
      for (int k = 0; k < Chains; ++k) acc[k] = D::dot(acc[k], x, y);
    }
    double sum = 0;
    for (int k = 0; k < Chains; ++k) sum += D::reduce(acc[k]);
    return sum;
  }
};

// Read-only bandwidth: sum of b[0, n). The array is read as kStreams interleaved streams (one per quarter)
// with kPerStream accumulators each, so enough misses are in flight to reach DRAM bandwidth from one core.
template <class V>
struct ReadSum {
  using T = typename V::scalar;
  static constexpr int kStreams = 4, kPerStream = 2;
  static constexpr double flops_per_element = 1;          // one add per element read
  static constexpr double bytes_per_element = sizeof(T);  // one load per element
  static constexpr std::int64_t granule = std::int64_t{kStreams} * kPerStream * V::lanes;

  static double run(float*, const float* b, const float*, std::int64_t n, std::int64_t repeats) {
    const T* x = b;
    const std::int64_t part = n / kStreams;
    typename V::vec acc[kStreams * kPerStream];
    for (auto& a : acc) a = V::zero();
    for (std::int64_t r = 0; r < repeats; ++r) {
      for (std::int64_t i = 0; i < part; i += kPerStream * V::lanes) {
#pragma GCC unroll 8
        for (int s = 0; s < kStreams; ++s)
#pragma GCC unroll 8
          for (int u = 0; u < kPerStream; ++u)
            acc[s * kPerStream + u] = V::add(acc[s * kPerStream + u], V::load(x + s * part + i + u * V::lanes));
      }
      __asm__ __volatile__("" ::: "memory");  // keep each repeat a full pass (no interchange with the i loop)
    }
    for (int k = 1; k < kStreams * kPerStream; ++k) acc[0] = V::add(acc[0], acc[k]);
    return V::reduce(acc[0]);
  }
};

inline constexpr float kTriadScale = 3.0f;

// STREAM triad a[i] = b[i] + s * c[i].
template <class V>
struct Triad {
  using T = typename V::scalar;
  static constexpr int kUnroll = 2;
  static constexpr double flops_per_element = 2;              // one multiply-add
  static constexpr double bytes_per_element = 3 * sizeof(T);  // load b, load c, store a (STREAM convention)
  static constexpr std::int64_t granule = std::int64_t{kUnroll} * V::lanes;

  static double run(float* a, const float* b, const float* c, std::int64_t n, std::int64_t repeats) {
    const auto s = V::set1(T(kTriadScale));
    for (std::int64_t r = 0; r < repeats; ++r) {
      for (std::int64_t i = 0; i < n; i += kUnroll * V::lanes) {
#pragma GCC unroll 8
        for (int u = 0; u < kUnroll; ++u) {
          const std::int64_t j = i + u * V::lanes;
          V::store(a + j, V::fma(s, V::load(c + j), V::load(b + j)));
        }
      }
      __asm__ __volatile__("" ::: "memory");
    }
    return double(a[0]);
  }
};

// The table entry of kernel K (a PeakFma<...>, ReadSum<...>, ...): its declared counts, taken from K.
template <class K>
constexpr ProbeKernel entry(const char* name, Isa isa, ProbeKind kind, Precision precision,
                            const char* cpu_feature = nullptr) {
  return {name, isa, kind, precision, K::flops_per_element, K::bytes_per_element, K::granule, &K::run, cpu_feature};
}

}  // namespace hardware::host::kernels
