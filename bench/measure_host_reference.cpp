// Compiled with -mavx512f -mfma (bench/CMakeLists.txt). Deliberately shares no code with hardware/host.
#include "bench/measure_host_reference.hpp"

#include <immintrin.h>
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

volatile float g_m = 0.999f, g_c = 0.0005f;  // read at run time, so the compiler cannot fold the loops

// 24 independent FMA chains (3x the 4-cycle latency x 2 pipes of current cores) on 16 fp32 lanes.
__attribute__((noinline)) float fma_f32(long iterations) {
  // Distinct starting values and run-time constants: the chains cannot be merged or folded.
  const __m512 m = _mm512_set1_ps(g_m), c = _mm512_set1_ps(g_c), d = _mm512_set1_ps(g_c);
  __m512 a0 = _mm512_set1_ps(g_c), a1 = _mm512_add_ps(a0, d), a2 = _mm512_add_ps(a1, d), a3 = _mm512_add_ps(a2, d);
  __m512 a4 = _mm512_add_ps(a3, d), a5 = _mm512_add_ps(a4, d), a6 = _mm512_add_ps(a5, d), a7 = _mm512_add_ps(a6, d);
  __m512 a8 = _mm512_add_ps(a7, d), a9 = _mm512_add_ps(a8, d), a10 = _mm512_add_ps(a9, d), a11 = _mm512_add_ps(a10, d);
  __m512 a12 = _mm512_add_ps(a11, d), a13 = _mm512_add_ps(a12, d), a14 = _mm512_add_ps(a13, d);
  __m512 a15 = _mm512_add_ps(a14, d), a16 = _mm512_add_ps(a15, d), a17 = _mm512_add_ps(a16, d);
  __m512 a18 = _mm512_add_ps(a17, d), a19 = _mm512_add_ps(a18, d), a20 = _mm512_add_ps(a19, d);
  __m512 a21 = _mm512_add_ps(a20, d), a22 = _mm512_add_ps(a21, d), a23 = _mm512_add_ps(a22, d);
  for (long i = 0; i < iterations; ++i) {
    a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
    a12 = _mm512_fmadd_ps(a12, m, c); a13 = _mm512_fmadd_ps(a13, m, c); a14 = _mm512_fmadd_ps(a14, m, c);
    a15 = _mm512_fmadd_ps(a15, m, c); a16 = _mm512_fmadd_ps(a16, m, c); a17 = _mm512_fmadd_ps(a17, m, c);
    a18 = _mm512_fmadd_ps(a18, m, c); a19 = _mm512_fmadd_ps(a19, m, c); a20 = _mm512_fmadd_ps(a20, m, c);
    a21 = _mm512_fmadd_ps(a21, m, c); a22 = _mm512_fmadd_ps(a22, m, c); a23 = _mm512_fmadd_ps(a23, m, c);
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                     _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a16, a17), _mm512_add_ps(a18, a19)),
                                     _mm512_add_ps(_mm512_add_ps(a20, a21), _mm512_add_ps(a22, a23))));
  alignas(64) float lane[16];
  _mm512_store_ps(lane, s);
  float sum = 0;
  for (float x : lane) sum += x;
  return sum;
}
constexpr double kFlopsPerIterationF32 = 24 * 16 * 2;  // chains x lanes x (multiply + add)

__attribute__((noinline)) double fma_f64(long iterations) {
  // Distinct starting values and run-time constants: the chains cannot be merged or folded.
  const __m512d m = _mm512_set1_pd(g_m), c = _mm512_set1_pd(g_c), d = _mm512_set1_pd(g_c);
  __m512d a0 = _mm512_set1_pd(g_c), a1 = _mm512_add_pd(a0, d), a2 = _mm512_add_pd(a1, d), a3 = _mm512_add_pd(a2, d);
  __m512d a4 = _mm512_add_pd(a3, d), a5 = _mm512_add_pd(a4, d), a6 = _mm512_add_pd(a5, d), a7 = _mm512_add_pd(a6, d);
  __m512d a8 = _mm512_add_pd(a7, d), a9 = _mm512_add_pd(a8, d), a10 = _mm512_add_pd(a9, d), a11 = _mm512_add_pd(a10, d);
  __m512d a12 = _mm512_add_pd(a11, d), a13 = _mm512_add_pd(a12, d), a14 = _mm512_add_pd(a13, d);
  __m512d a15 = _mm512_add_pd(a14, d), a16 = _mm512_add_pd(a15, d), a17 = _mm512_add_pd(a16, d);
  __m512d a18 = _mm512_add_pd(a17, d), a19 = _mm512_add_pd(a18, d), a20 = _mm512_add_pd(a19, d);
  __m512d a21 = _mm512_add_pd(a20, d), a22 = _mm512_add_pd(a21, d), a23 = _mm512_add_pd(a22, d);
  for (long i = 0; i < iterations; ++i) {
    a0 = _mm512_fmadd_pd(a0, m, c); a1 = _mm512_fmadd_pd(a1, m, c); a2 = _mm512_fmadd_pd(a2, m, c);
    a3 = _mm512_fmadd_pd(a3, m, c); a4 = _mm512_fmadd_pd(a4, m, c); a5 = _mm512_fmadd_pd(a5, m, c);
    a6 = _mm512_fmadd_pd(a6, m, c); a7 = _mm512_fmadd_pd(a7, m, c); a8 = _mm512_fmadd_pd(a8, m, c);
    a9 = _mm512_fmadd_pd(a9, m, c); a10 = _mm512_fmadd_pd(a10, m, c); a11 = _mm512_fmadd_pd(a11, m, c);
    a12 = _mm512_fmadd_pd(a12, m, c); a13 = _mm512_fmadd_pd(a13, m, c); a14 = _mm512_fmadd_pd(a14, m, c);
    a15 = _mm512_fmadd_pd(a15, m, c); a16 = _mm512_fmadd_pd(a16, m, c); a17 = _mm512_fmadd_pd(a17, m, c);
    a18 = _mm512_fmadd_pd(a18, m, c); a19 = _mm512_fmadd_pd(a19, m, c); a20 = _mm512_fmadd_pd(a20, m, c);
    a21 = _mm512_fmadd_pd(a21, m, c); a22 = _mm512_fmadd_pd(a22, m, c); a23 = _mm512_fmadd_pd(a23, m, c);
  }
  __m512d s = _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)),
                            _mm512_add_pd(_mm512_add_pd(a4, a5), _mm512_add_pd(a6, a7)));
  s = _mm512_add_pd(s, _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(a8, a9), _mm512_add_pd(a10, a11)),
                                     _mm512_add_pd(_mm512_add_pd(a12, a13), _mm512_add_pd(a14, a15))));
  s = _mm512_add_pd(s, _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(a16, a17), _mm512_add_pd(a18, a19)),
                                     _mm512_add_pd(_mm512_add_pd(a20, a21), _mm512_add_pd(a22, a23))));
  alignas(64) double lane[8];
  _mm512_store_pd(lane, s);
  double sum = 0;
  for (double x : lane) sum += x;
  return sum;
}
constexpr double kFlopsPerIterationF64 = 24 * 8 * 2;

// Sum of `count` floats read as 8 streams (one per eighth of the range), one accumulator each.
__attribute__((noinline)) float read_sum(const float* p, long count) {
  const long eighth = count / 8;
  const float *p0 = p, *p1 = p + eighth, *p2 = p + 2 * eighth, *p3 = p + 3 * eighth;
  const float *p4 = p + 4 * eighth, *p5 = p + 5 * eighth, *p6 = p + 6 * eighth, *p7 = p + 7 * eighth;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (long i = 0; i < eighth; i += 16) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(p0 + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(p1 + i));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(p2 + i));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(p3 + i));
    s4 = _mm512_add_ps(s4, _mm512_load_ps(p4 + i));
    s5 = _mm512_add_ps(s5, _mm512_load_ps(p5 + i));
    s6 = _mm512_add_ps(s6, _mm512_load_ps(p6 + i));
    s7 = _mm512_add_ps(s7, _mm512_load_ps(p7 + i));
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)),
                                 _mm512_add_ps(_mm512_add_ps(s4, s5), _mm512_add_ps(s6, s7)));
  alignas(64) float lane[16];
  _mm512_store_ps(lane, s);
  return lane[0] + lane[15];
}

// Runs body(thread) on one pinned thread per CPU, `repetitions` times after a barrier each; returns the
// shortest repetition, each repetition timed by its slowest thread.
template <class Setup, class Body>
double best_time(const std::vector<int>& cpus, int repetitions, Setup setup, Body body) {
  const std::size_t n = cpus.size();
  std::vector<std::vector<double>> seconds(n, std::vector<double>(static_cast<std::size_t>(repetitions)));
  std::barrier sync(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpus[t], &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      setup(t);
      body(t);  // warm-up
      for (int r = 0; r < repetitions; ++r) {
        sync.arrive_and_wait();
        const auto t0 = Clock::now();
        body(t);
        seconds[t][static_cast<std::size_t>(r)] = std::chrono::duration<double>(Clock::now() - t0).count();
      }
    });
  for (auto& t : threads) t.join();
  double best = 1e300;
  for (int r = 0; r < repetitions; ++r) {
    double slowest = 0;
    for (std::size_t t = 0; t < n; ++t) slowest = std::max(slowest, seconds[t][static_cast<std::size_t>(r)]);
    best = std::min(best, slowest);
  }
  return best;
}

volatile double g_sink;

}  // namespace

ReferenceFigures measure_reference(const std::vector<int>& cpus, int repetitions) {
  ReferenceFigures f;
  const double threads = double(cpus.size());
  constexpr long kIterations = 2'000'000;  // about 20 ms per repetition at 2 FMA/cycle and 3-4 GHz
  auto none = [](std::size_t) {};
  f.fp32_flops_per_s = kFlopsPerIterationF32 * double(kIterations) * threads /
                       best_time(cpus, repetitions, none, [](std::size_t) { g_sink = fma_f32(kIterations); });
  f.fp64_flops_per_s = kFlopsPerIterationF64 * double(kIterations) * threads /
                       best_time(cpus, repetitions, none, [](std::size_t) { g_sink = fma_f64(kIterations); });

  // 1 GiB in all, each thread its own slice, allocated and first touched by that thread, on huge pages.
  const long floats_per_thread = (1L << 30) / long(sizeof(float)) / long(cpus.size()) / 128 * 128;
  std::vector<float*> slices(cpus.size());
  auto setup = [&](std::size_t t) {
    const std::size_t bytes = (std::size_t(floats_per_thread) * sizeof(float) + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    slices[t] = static_cast<float*>(std::aligned_alloc(2u << 20, bytes));
    madvise(slices[t], bytes, MADV_HUGEPAGE);
    std::fill_n(slices[t], floats_per_thread, 1.0f);
  };
  const double t = best_time(cpus, repetitions, setup, [&](std::size_t i) { g_sink = read_sum(slices[i], floats_per_thread); });
  f.dram_read_bytes_per_s = double(floats_per_thread) * sizeof(float) * threads / t;
  for (float* s : slices) std::free(s);
  return f;
}

}  // namespace bench
