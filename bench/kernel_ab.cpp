// kernel_ab: two builds of the engine's GEMM, GEMV and attention kernels in one process, called in turn, so that a
// change to a kernel is measured against the kernel before it through the same moments of a noisy machine (separate
// runs of bench_engine on a shared VM moved by 10-30% between runs, more than most changes). Built and run by
// scripts/kernel-ab.sh, which passes a commit's engine/kernels_{gemm,gemv,attention}.cpp (KERNEL_A_*) and the
// working tree's (KERNEL_B_*); both compile against today's headers.
//   kernel_ab [rounds] [gemm] [gemv] [gemv-bf16] [gemv-int8] [decode] [prefill]
// GEMM: M = 1024, K = 4096, N = 4096 and 11008, fp32 (bench_engine's shapes), with OpenBLAS sgemm after each pair.
// GEMV: M = 1, the same N and K, fp32 (or bf16: gemv-bf16; int8 in groups of 128: gemv-int8), weights cold, with
// OpenBLAS sgemv (fp32) after each pair.
// Decode attention: one query over 8192 cached positions (bench_engine's shape), K and V streamed from DRAM.
// Prefill attention: one prompt of 16 to 2048 tokens over 32 heads of 128 (bench_engine's shapes).
// Each round times A and B once each (the best of a few calls, or of enough to take about 0.2 s for attention),
// swapping which goes first every round: run in a fixed order, the same build twice read 1.08-1.13x in favour of
// the one that did not follow OpenBLAS, whose threads spin for a while after a call; OpenBLAS now runs last and is
// followed by a pause. Prints the median of the rounds' rates, the median and quartiles of the B / A time ratios, and
// the largest difference between A's and B's outputs.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <cblas.h>
#include <fmt/core.h>
#include <omp.h>

#include "bench/bench_attention.hpp"
#include "bench/bench_common.hpp"
#include "bench/bench_host.hpp"
#include "engine/kernels.hpp"
#include "engine/kv_cache.hpp"
#include "engine/linear.hpp"
#include "engine/scale_to_float.hpp"
#include "engine/simd.hpp"

// Each build in a namespace of its own; its public functions renamed, so that calls inside the file (linear calls
// gemm) find the build's own and not, by argument-dependent lookup, the engine library's.
#define gemm gemm_build
#define gemv gemv_build
#define linear linear_build
#define attention attention_build
namespace a_linear {
using namespace ::engine;
#include KERNEL_A_GEMV
#include KERNEL_A_GEMM
}  // namespace a_linear
namespace a_attention {
using namespace ::engine;
#include KERNEL_A_ATTENTION
}  // namespace a_attention
namespace b_linear {
using namespace ::engine;
#include KERNEL_B_GEMV
#include KERNEL_B_GEMM
}  // namespace b_linear
namespace b_attention {
using namespace ::engine;
#include KERNEL_B_ATTENTION
}  // namespace b_attention
#undef gemm
#undef gemv
#undef linear
#undef attention

namespace {

using bench::quantile;
using bench::random_floats;
using bench::seconds;

float max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// Rounds of A and B (and an optional third contender after them), each the best of `calls` calls.
struct Pair {
  std::vector<double> a, b, ratio, other;
};
Pair run_pair(int rounds, int calls, const std::function<void()>& a, const std::function<void()>& b,
              const std::function<void()>& other = {}) {
  Pair p;
  const auto best = [&](const std::function<void()>& f) {
    double t = std::numeric_limits<double>::infinity();
    for (int k = 0; k < calls; ++k) t = std::min(t, seconds(f));
    return t;
  };
  a(), b();  // warm-up
  for (int r = 0; r < rounds; ++r) {
    double ta, tb;
    if (r % 2 == 0) {
      ta = best(a), tb = best(b);
    } else {
      tb = best(b), ta = best(a);
    }
    p.a.push_back(ta), p.b.push_back(tb), p.ratio.push_back(tb / ta);
    if (other) {
      p.other.push_back(best(other));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return p;
}

// Rates are work / time in units of 1e9 (FLOP or bytes) a second.
// other_work: OpenBLAS's work where it differs from A's and B's (an fp32 GEMV beside an int8 one); 0: the same.
void print_pair(const std::string& what, const Pair& p, double work, float diff, const char* unit = "GFLOP/s",
                double other_work = 0) {
  fmt::print("  {:<22} A {:6.1f}  B {:6.1f} {}", what, work / quantile(p.a, 0.5) / 1e9, work / quantile(p.b, 0.5) / 1e9, unit);
  if (!p.other.empty()) fmt::print("  OpenBLAS {:6.1f}", (other_work > 0 ? other_work : work) / quantile(p.other, 0.5) / 1e9);
  fmt::print("  B time / A time {:.3f} (quartiles {:.3f}-{:.3f})  max |B - A| {:.2g}\n", quantile(p.ratio, 0.5),
             quantile(p.ratio, 0.25), quantile(p.ratio, 0.75), diff);
}

void gemm_pairs(int rounds) {
  fmt::print("GEMM, fp32, M = 1024, K = 4096, {} threads, {} rounds\n", omp_get_max_threads(), rounds);
  const std::int64_t M = 1024, K = 4096;
  for (std::int64_t N : {4096, 11008}) {
    const auto wf = random_floats(std::size_t(N * K), 1), x = random_floats(std::size_t(M * K), 2);
    const engine::Linear w = engine::make_linear("w", wf.data(), N, K, engine::WeightFormat::f32, 0, nullptr);
    std::vector<float> ya(std::size_t(M * N)), yb(ya.size()), yo(ya.size());
    const Pair p = run_pair(
        rounds, 1, [&] { a_linear::engine::gemm_build({ya.data(), N, nullptr}, x.data(), M, w); },
        [&] { b_linear::engine::gemm_build({yb.data(), N, nullptr}, x.data(), M, w); },
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), 1.0f, x.data(), int(K), wf.data(),
                      int(K), 0.0f, yo.data(), int(N));
        });
    print_pair(fmt::format("N = {}", N), p, 2.0 * double(M) * double(N) * double(K), max_difference(ya, yb));
  }
}

// GEMV, one row of x (a decode step's projection): N = 4096 and 11008, K = 4096, W cold: each call reads the next of
// enough matrices to span bench::cold_bytes, as bench_engine's cold GEMV does. Rates in GB/s of the format's weights
// (OpenBLAS: of its fp32 ones).
void gemv_pairs(int rounds, double cold, engine::WeightFormat format) {
  fmt::print("GEMV, {}, M = 1, K = 4096, weights cold, {} threads, {} rounds (GB/s of weights)\n",
             engine::to_string(format), omp_get_max_threads(), rounds);
  const std::int64_t K = 4096;
  const std::int64_t group = format == engine::WeightFormat::int8 ? 128 : 0;
  for (std::int64_t N : {4096, 11008}) {
    const double f32_bytes = double(N * K * 4);
    std::vector<engine::Linear> ws, blas;  // each enough copies to span `cold` in its own format
    for (int c = 0; ws.empty() || double(c) * double(ws[0].weight_bytes()) <= cold; ++c) {
      const auto wf = random_floats(std::size_t(N * K), unsigned(100 + c));
      ws.push_back(engine::make_linear("w", wf.data(), N, K, format, group, nullptr));
      if (format != engine::WeightFormat::f32 && double(c) * f32_bytes <= cold)
        blas.push_back(engine::make_linear("w", wf.data(), N, K, engine::WeightFormat::f32, 0, nullptr));
    }
    const double bytes = double(ws[0].weight_bytes());
    const std::vector<engine::Linear>& reference = blas.empty() ? ws : blas;
    std::size_t next_blas = 0;
    const auto x = random_floats(std::size_t(K), 3);
    std::vector<float> ya(static_cast<std::size_t>(N)), yb(ya.size()), yo(ya.size());
    std::size_t next = 0;
    const auto w = [&]() -> const engine::Linear& { return ws[next++ % ws.size()]; };
    const Pair p = run_pair(
        rounds, 8, [&] { a_linear::engine::gemv_build({ya.data(), N, nullptr}, x.data(), 1, w()); },
        [&] { b_linear::engine::gemv_build({yb.data(), N, nullptr}, x.data(), 1, w()); },
        [&] {
          const engine::Linear& m = reference[next_blas++ % reference.size()];
          cblas_sgemv(CblasRowMajor, CblasNoTrans, int(N), int(K), 1.0f, m.f32.data(), int(K), x.data(), 1, 0.0f,
                      yo.data(), 1);
        });
    a_linear::engine::gemv_build({ya.data(), N, nullptr}, x.data(), 1, ws[0]);  // both on one matrix, to compare
    b_linear::engine::gemv_build({yb.data(), N, nullptr}, x.data(), 1, ws[0]);
    print_pair(fmt::format("N = {}", N), p, bytes, max_difference(ya, yb), "GB/s", f32_bytes);
  }
}

// Decode attention: one query after 8192 cached positions of 32 heads x 128 (bench_engine's shape), K and V 256 MiB:
// each call streams more than 4x a 64 MiB cache. Rates in GB/s of K and V.
void decode_pairs(int rounds) {
  constexpr std::int64_t h = 32, n = 8192;
  fmt::print("Decode attention, {} heads x {}, {} cached positions, batch 1, {} threads, {} rounds (GB/s of K and V)\n",
             h, bench::PromptAttention::hd, n, omp_get_max_threads(), rounds);
  const bench::PromptAttention a(1, h, n);
  std::vector<float> ob(a.out.size());
  engine::AttentionSeq sb = a.seq;
  sb.out = ob.data();
  const Pair p = run_pair(rounds, 3, [&] { a_attention::engine::attention_build({&a.seq, 1}, a.shape); },
                          [&] { b_attention::engine::attention_build({&sb, 1}, a.shape); });
  print_pair(fmt::format("{} positions", n), p, a.kv_bytes(), max_difference(a.out, ob), "GB/s");
}

void prefill_pairs(int rounds) {
  constexpr std::int64_t h = 32;
  fmt::print("Prefill attention, {} heads x {}, fp32, {} threads, {} rounds\n", h, bench::PromptAttention::hd,
             omp_get_max_threads(), rounds);
  for (std::int64_t n : {16, 64, 128, 512, 2048}) {
    const bench::PromptAttention a(n, h);
    std::vector<float> ob(a.out.size());
    engine::AttentionSeq sb = a.seq;
    sb.out = ob.data();
    const int calls = std::max(1, int(2e8 / a.flops()));
    const Pair p = run_pair(rounds, calls, [&] { a_attention::engine::attention_build({&a.seq, 1}, a.shape); },
                            [&] { b_attention::engine::attention_build({&sb, 1}, a.shape); });
    print_pair(fmt::format("{} tokens", n), p, a.flops(), max_difference(a.out, ob));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const hardware::host::CpuInfo cpu = hardware::host::detect_cpu();
  bench::run_openblas_at_its_best(cpu, argv);
  const double cold = double(bench::cold_bytes(cpu));
  int rounds = 12;
  // The kernels it can time, by name, in the order they run.
  const std::vector<std::pair<std::string, std::function<void()>>> modes = {
      {"gemm", [&] { gemm_pairs(rounds); }},
      {"gemv", [&] { gemv_pairs(rounds, cold, engine::WeightFormat::f32); }},
      {"gemv-bf16", [&] { gemv_pairs(rounds, cold, engine::WeightFormat::bf16); }},
      {"gemv-int8", [&] { gemv_pairs(rounds, cold, engine::WeightFormat::int8); }},
      {"decode", [&] { decode_pairs(rounds); }},
      {"prefill", [&] { prefill_pairs(rounds); }}};
  std::vector<bool> chosen(modes.size(), false);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto mode = std::find_if(modes.begin(), modes.end(), [&](const auto& m) { return m.first == a; });
    if (mode != modes.end()) {
      chosen[std::size_t(mode - modes.begin())] = true;
    } else if (const int r = std::atoi(a.c_str()); r > 0) {
      rounds = r;
    } else {
      std::string names;
      for (const auto& m : modes) names += ", " + m.first;
      fmt::print(stderr, "kernel_ab: unknown argument '{}' (expected a round count{})\n", a, names);
      return 2;
    }
  }
  const bool all = std::none_of(chosen.begin(), chosen.end(), [](bool c) { return c; });
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  fmt::print("kernel_ab: A = {}, B = {}; OPENBLAS_CORETYPE={}\n", KERNEL_A_NAME, KERNEL_B_NAME, coretype ? coretype : "(unset)");
  for (std::size_t m = 0; m < modes.size(); ++m)
    if (all || chosen[m]) modes[m].second();
}
