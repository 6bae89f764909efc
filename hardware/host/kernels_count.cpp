// Counting twins of the probe kernels: the same loop templates (kernels.hpp) instantiated with policies
// whose operations do no arithmetic but tally what they would do: a multiply-add is 2 FLOP per lane, an add
// 1, a load or store sizeof(T) bytes per lane, a dot instruction 2 OP per product it forms. Compiled without
// ISA flags. Tests compare these tallies with each kernel's declared per-element counts.
#include <string_view>

#include "hardware/host/kernels.hpp"
#include "hardware/host/probes.hpp"

namespace hardware::host {
namespace {

using namespace kernels;

struct Tally {
  double flops = 0, bytes = 0;
};
thread_local Tally tally;

template <class T, int L>
struct Counting {
  using scalar = T;
  struct vec {};
  static constexpr int lanes = L;
  static vec set1(T) { return {}; }
  static vec zero() { return {}; }
  static vec load(const T*) {
    tally.bytes += L * double(sizeof(T));
    return {};
  }
  static void store(T*, vec) { tally.bytes += L * double(sizeof(T)); }
  static vec add(vec, vec) {
    tally.flops += L;
    return {};
  }
  static vec fma(vec, vec, vec) {
    tally.flops += 2.0 * L;  // a multiply and an add per lane
    return {};
  }
  static double reduce(vec) {
    tally.flops += L - 1;
    return 0;
  }
};

// A dot instruction on L 32-bit lanes, each summing `Products` products into its accumulator (vpdpbusd: 4
// byte pairs per lane; vdpbf16ps: 2 bf16 pairs per lane), counted product by product.
template <int L, int Products>
struct CountingDot {
  struct acc {};
  struct Operands {
    int x, y;
  };
  static constexpr int lanes = L;
  static constexpr int products_per_lane = Products;
  static acc zero() { return {}; }
  static Operands operands() { return {}; }
  static acc dot(acc, int, int) {
    for (int lane = 0; lane < L; ++lane)
      for (int p = 0; p < Products; ++p) tally.flops += 2;  // multiply, then add into the lane
    return {};
  }
  static double reduce(acc) { return 0; }
};

template <class K>
OpCounts count(std::int64_t n) {
  tally = {};
  // Counting policies never dereference, so the pointers need only be distinct and non-null.
  static float dummy[3];
  K::run(&dummy[0], &dummy[1], &dummy[2], n, 1);
  return {tally.flops, tally.bytes};
}

// n must be a multiple of the kernel's granule; the caller (count_kernel) checks it.
template <IsaShape S>
std::optional<OpCounts> count_on(std::string_view name, std::int64_t n) {
  using F32 = Counting<float, S.f32_lanes>;
  using F64 = Counting<double, S.f64_lanes>;
  if (name == "fma_f32") return count<PeakFma<F32, S.fma_chains>>(n);
  if (name == "fma_f64") return count<PeakFma<F64, S.fma_chains>>(n);
  if constexpr (S.dot_chains > 0) {
    if (name == "dot_i8") return count<PeakDot<CountingDot<S.f32_lanes, 4>, S.dot_chains>>(n);
    if (name == "dot_bf16") return count<PeakDot<CountingDot<S.f32_lanes, 2>, S.dot_chains>>(n);
  }
  if (name == "read_f32") return count<ReadSum<F32>>(n);
  if (name == "triad_f32") return count<Triad<F32>>(n);
  return std::nullopt;
}

}  // namespace

std::optional<OpCounts> count_kernel(const ProbeKernel& k, std::int64_t n) {
  if (n <= 0 || n % k.granule != 0) return std::nullopt;
  switch (k.isa) {
    case Isa::scalar: return count_on<kScalarShape>(k.name, n);
    case Isa::avx2: return count_on<kAvx2Shape>(k.name, n);
    case Isa::avx512: return count_on<kAvx512Shape>(k.name, n);
  }
  return std::nullopt;
}

}  // namespace hardware::host
