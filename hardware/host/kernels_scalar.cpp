// Portable policies and kernel table: plain C++ on one value per "vector" (the compiler may still use the
// baseline SIMD of the target, e.g. SSE2; the rate comes from the declared counts either way). The fallback
// where neither AVX2 nor AVX-512 is usable, and the only table on non-x86 targets.
#include "hardware/host/kernels.hpp"

namespace hardware::host {
namespace {

using namespace kernels;

template <class T>
struct Scalar {
  using scalar = T;
  using vec = T;
  static constexpr int lanes = 1;
  static T set1(T x) { return x; }
  static T zero() { return T(0); }
  static T load(const T* p) { return *p; }
  static void store(T* p, T v) { *p = v; }
  static T add(T x, T y) { return x + y; }
  static T fma(T x, T y, T z) { return x * y + z; }  // 2 FLOP whether or not the compiler fuses it
  static double reduce(T v) { return double(v); }
};

constexpr IsaShape S = kScalarShape;

}  // namespace

constinit const ProbeKernel kScalarKernels[] = {
    entry<PeakFma<Scalar<float>, S.fma_chains>>("fma_f32", Isa::scalar, ProbeKind::peak, Precision::fp32),
    entry<PeakFma<Scalar<double>, S.fma_chains>>("fma_f64", Isa::scalar, ProbeKind::peak, Precision::fp64),
    entry<ReadSum<Scalar<float>>>("read_f32", Isa::scalar, ProbeKind::read, Precision::fp32),
    entry<Triad<Scalar<float>>>("triad_f32", Isa::scalar, ProbeKind::triad, Precision::fp32),
};
constinit const std::int64_t kScalarKernelCount = sizeof(kScalarKernels) / sizeof(kScalarKernels[0]);

}  // namespace hardware::host
