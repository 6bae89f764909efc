// AVX-512 policies and kernel table. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma
// -mavx512vnni -mavx512bf16 (hardware/CMakeLists.txt); called only after run-time detection (probes.cpp).
// Everything is in an anonymous namespace or plain data, so no wide instruction leaks into shared code.
#include <immintrin.h>

#include "hardware/host/kernels.hpp"

namespace hardware::host {
namespace {

using namespace kernels;

// Sum of the lanes, through memory: GCC 12's _mm512_reduce_add_* trip -Wuninitialized in its own header
// (GCC bug 105593), and a reduction runs once per kernel call, so its speed does not matter.
template <class T, int N, class V>
double lane_sum(V v) {
  alignas(64) T lane[N];
  __builtin_memcpy(lane, &v, sizeof v);
  double sum = 0;
  for (T x : lane) sum += double(x);
  return sum;
}

struct F32 {
  using scalar = float;
  using vec = __m512;
  static constexpr int lanes = 16;
  static vec set1(float x) { return _mm512_set1_ps(x); }
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load(const float* p) { return _mm512_load_ps(p); }
  static void store(float* p, vec v) { _mm512_store_ps(p, v); }
  static vec add(vec x, vec y) { return _mm512_add_ps(x, y); }
  static vec fma(vec x, vec y, vec z) { return _mm512_fmadd_ps(x, y, z); }
  static double reduce(vec v) { return lane_sum<float, 16>(v); }
};

struct F64 {
  using scalar = double;
  using vec = __m512d;
  static constexpr int lanes = 8;
  static vec set1(double x) { return _mm512_set1_pd(x); }
  static vec zero() { return _mm512_setzero_pd(); }
  static vec add(vec x, vec y) { return _mm512_add_pd(x, y); }
  static vec fma(vec x, vec y, vec z) { return _mm512_fmadd_pd(x, y, z); }
  static double reduce(vec v) { return lane_sum<double, 8>(v); }
};

// vpdpbusd: each 32-bit lane adds the 4 products of unsigned x bytes by signed y bytes.
struct DotI8 {
  using acc = __m512i;
  struct Operands {
    __m512i x, y;
  };
  static constexpr int lanes = 16;
  static constexpr int products_per_lane = 4;
  static acc zero() { return _mm512_setzero_si512(); }
  static Operands operands() { return {_mm512_set1_epi8(kDotI8X), _mm512_set1_epi8(kDotI8Y)}; }
  static acc dot(acc a, __m512i x, __m512i y) { return _mm512_dpbusd_epi32(a, x, y); }
  static double reduce(acc a) { return lane_sum<int, 16>(a); }
};

// vdpbf16ps: each fp32 lane adds the 2 products of a pair of bf16 values.
struct DotBf16 {
  using acc = __m512;
  struct Operands {
    __m512bh x, y;
  };
  static constexpr int lanes = 16;
  static constexpr int products_per_lane = 2;
  static acc zero() { return _mm512_setzero_ps(); }
  static Operands operands() {
    const __m512 v = _mm512_set1_ps(kDotBf16Operand);
    return {_mm512_cvtne2ps_pbh(v, v), _mm512_cvtne2ps_pbh(v, v)};
  }
  static acc dot(acc a, __m512bh x, __m512bh y) { return _mm512_dpbf16_ps(a, x, y); }
  static double reduce(acc a) { return lane_sum<float, 16>(a); }
};

constexpr IsaShape S = kAvx512Shape;
static_assert(F32::lanes == S.f32_lanes && F64::lanes == S.f64_lanes && DotI8::lanes == S.f32_lanes &&
              DotBf16::lanes == S.f32_lanes);

}  // namespace

constinit const ProbeKernel kAvx512Kernels[] = {
    entry<PeakFma<F32, S.fma_chains>>("fma_f32", Isa::avx512, ProbeKind::peak, Precision::fp32),
    entry<PeakFma<F64, S.fma_chains>>("fma_f64", Isa::avx512, ProbeKind::peak, Precision::fp64),
    entry<PeakDot<DotI8, S.dot_chains>>("dot_i8", Isa::avx512, ProbeKind::peak, Precision::int8, "avx512vnni"),
    entry<PeakDot<DotBf16, S.dot_chains>>("dot_bf16", Isa::avx512, ProbeKind::peak, Precision::bf16, "avx512bf16"),
    entry<ReadSum<F32>>("read_f32", Isa::avx512, ProbeKind::read, Precision::fp32),
    entry<Triad<F32>>("triad_f32", Isa::avx512, ProbeKind::triad, Precision::fp32),
};
constinit const std::int64_t kAvx512KernelCount = sizeof(kAvx512Kernels) / sizeof(kAvx512Kernels[0]);

}  // namespace hardware::host
