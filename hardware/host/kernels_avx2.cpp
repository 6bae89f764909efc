// AVX2 + FMA policies and kernel table. Compiled with -mavx2 -mfma (hardware/CMakeLists.txt); called only
// after run-time detection (probes.cpp). Anonymous namespace and plain data only, as in kernels_avx512.cpp.
#include <immintrin.h>

#include "hardware/host/kernels.hpp"

namespace hardware::host {
namespace {

using namespace kernels;

struct F32 {
  using scalar = float;
  using vec = __m256;
  static constexpr int lanes = 8;
  static vec set1(float x) { return _mm256_set1_ps(x); }
  static vec zero() { return _mm256_setzero_ps(); }
  static vec load(const float* p) { return _mm256_load_ps(p); }
  static void store(float* p, vec v) { _mm256_store_ps(p, v); }
  static vec add(vec x, vec y) { return _mm256_add_ps(x, y); }
  static vec fma(vec x, vec y, vec z) { return _mm256_fmadd_ps(x, y, z); }
  static double reduce(vec v) {
    alignas(32) float lane[8];
    _mm256_store_ps(lane, v);
    double sum = 0;
    for (float x : lane) sum += double(x);
    return sum;
  }
};

struct F64 {
  using scalar = double;
  using vec = __m256d;
  static constexpr int lanes = 4;
  static vec set1(double x) { return _mm256_set1_pd(x); }
  static vec add(vec x, vec y) { return _mm256_add_pd(x, y); }
  static vec fma(vec x, vec y, vec z) { return _mm256_fmadd_pd(x, y, z); }
  static double reduce(vec v) {
    alignas(32) double lane[4];
    _mm256_store_pd(lane, v);
    return lane[0] + lane[1] + lane[2] + lane[3];
  }
};

constexpr IsaShape S = kAvx2Shape;
static_assert(F32::lanes == S.f32_lanes && F64::lanes == S.f64_lanes);

}  // namespace

constinit const ProbeKernel kAvx2Kernels[] = {
    entry<PeakFma<F32, S.fma_chains>>("fma_f32", Isa::avx2, ProbeKind::peak, Precision::fp32),
    entry<PeakFma<F64, S.fma_chains>>("fma_f64", Isa::avx2, ProbeKind::peak, Precision::fp64),
    entry<ReadSum<F32>>("read_f32", Isa::avx2, ProbeKind::read, Precision::fp32),
    entry<Triad<F32>>("triad_f32", Isa::avx2, ProbeKind::triad, Precision::fp32),
};
constinit const std::int64_t kAvx2KernelCount = sizeof(kAvx2Kernels) / sizeof(kAvx2Kernels[0]);

}  // namespace hardware::host
