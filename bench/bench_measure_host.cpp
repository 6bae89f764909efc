// bench_measure_host [rounds]: runs the default host measurement (what `roofline measure-host` does) and, in
// the same run, a hand-written reference microbenchmark before and after it, `rounds` times (default 3); then
// prints every measured figure and, for fp32 and fp64 peak and DRAM read bandwidth on all cores, the ratio
//   best measured over the rounds / best reference over the rounds        (target >= 0.90)
// with each round's own ratio (against the mean of its two reference passes) beside it.
// Exit status 1 if a ratio is below the target, 0 otherwise.
//
// Why rounds and best-of: on a shared machine the figures move between runs. On the 2-vCPU cloud VM this was
// written on, all-cores DRAM bandwidth ranges from about 45 to 85 GB/s, settling for a while near 50 or near
// 80 (where the host places the vCPUs and the memory), so one reference pass and one measurement can land in
// different modes. The best of several rounds on each side compares like with like. Run it on an otherwise
// idle machine.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/measure_host_reference.hpp"
#include "hardware/host/measure.hpp"

namespace {

using hardware::host::HostMeasurement;
using hardware::host::ThreadRun;

const hardware::host::PeakResult* peak(const ThreadRun& r, hardware::Precision p) {
  for (const auto& x : r.peaks)
    if (x.precision == p) return &x;
  return nullptr;
}

void print_figures(const HostMeasurement& m) {
  fmt::print("{}: {} kernels, {} threads, default run {:.1f} s, best of {} repetitions (median in brackets)\n\n",
             m.cpu.model, to_string(m.isa), m.all.threads(), m.seconds, m.repetitions);
  fmt::print("{:<8} {:>24} {:>24}\n", "peak", "1 thread GFLOP/s", "all threads GFLOP/s");
  for (std::size_t i = 0; i < m.all.peaks.size(); ++i)
    fmt::print("{:<8} {:>15.1f} ({:>6.1f}) {:>15.1f} ({:>6.1f})\n", to_string(m.all.peaks[i].precision),
               m.single.peaks[i].flops_per_s.max / 1e9, m.single.peaks[i].flops_per_s.median / 1e9,
               m.all.peaks[i].flops_per_s.max / 1e9, m.all.peaks[i].flops_per_s.median / 1e9);
  fmt::print("\n{:<8} {:>24} {:>24} {:>24} {:>24}\n", "GB/s", "read, 1 thread", "read, all threads",
             "triad, 1 thread", "triad, all threads");
  for (std::size_t i = 0; i < m.all.levels.size(); ++i) {
    const auto& one = m.single.levels[i];
    const auto& all = m.all.levels[i];
    fmt::print("{:<8} {:>15.1f} ({:>6.1f}) {:>15.1f} ({:>6.1f}) {:>15.1f} ({:>6.1f}) {:>15.1f} ({:>6.1f})\n",
               all.name, one.read.max / 1e9, one.read.median / 1e9, all.read.max / 1e9, all.read.median / 1e9,
               one.triad.max / 1e9, one.triad.median / 1e9, all.triad.max / 1e9, all.triad.median / 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  if (rounds < 1) {
    std::fputs("usage: bench_measure_host [rounds >= 1]\n", stderr);
    return 2;
  }
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("bench_measure_host: the reference needs AVX-512F, which this CPU lacks; nothing to compare");
    return 0;
  }
  hardware::host::MeasureOptions options;
  const bool terminal = isatty(STDERR_FILENO);
  if (terminal)
    options.on_progress = [](const hardware::host::Progress& p) {
      std::fprintf(stderr, "\r\033[K[%3d/%d] %s", p.step + 1, p.steps, p.what.c_str());
      std::fflush(stderr);
    };
  const auto cpus = hardware::host::detect_cpu().cpus;
  constexpr int kReferenceRepetitions = 20;

  struct Figure {
    const char* what;
    const char* unit;
    double (*measured)(const HostMeasurement&);
    double bench::ReferenceFigures::*reference;
    double best_measured = 0, best_reference = 0;
    std::vector<double> round_ratios;
  };
  Figure figures[] = {
      {"fp32 peak, all cores", "GFLOP/s",
       [](const HostMeasurement& m) { return peak(m.all, hardware::Precision::fp32)->flops_per_s.max; },
       &bench::ReferenceFigures::fp32_flops_per_s, 0, 0, {}},
      {"fp64 peak, all cores", "GFLOP/s",
       [](const HostMeasurement& m) { return peak(m.all, hardware::Precision::fp64)->flops_per_s.max; },
       &bench::ReferenceFigures::fp64_flops_per_s, 0, 0, {}},
      {"DRAM read, all cores", "GB/s", [](const HostMeasurement& m) { return m.all.levels.back().read.max; },
       &bench::ReferenceFigures::dram_read_bytes_per_s, 0, 0, {}},
  };

  for (int round = 1; round <= rounds; ++round) {
    std::fprintf(stderr, "round %d/%d: reference...\n", round, rounds);
    const auto before = bench::measure_reference(cpus, kReferenceRepetitions);
    const HostMeasurement m = hardware::host::measure_host(options);
    if (terminal) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, "round %d/%d: reference...\n", round, rounds);
    const auto after = bench::measure_reference(cpus, kReferenceRepetitions);

    fmt::print("=== round {} of {}\n", round, rounds);
    print_figures(m);
    fmt::print("\n{:<22} {:>10} {:>26} {:>8}\n", "figure", "measured", "reference before / after", "ratio");
    for (Figure& f : figures) {
      const double measured = f.measured(m), a = before.*f.reference, b = after.*f.reference;
      const double ratio = measured / ((a + b) / 2);
      f.round_ratios.push_back(ratio);
      f.best_measured = std::max(f.best_measured, measured);
      f.best_reference = std::max({f.best_reference, a, b});
      fmt::print("{:<22} {:>10.1f} {:>12.1f} / {:>11.1f} {:>8.3f}  {}\n", f.what, measured / 1e9, a / 1e9, b / 1e9,
                 ratio, f.unit);
    }
    fmt::print("\n");
  }

  fmt::print("=== {} round(s): best measured / best reference (target >= 0.90)\n", rounds);
  bool ok = true;
  for (Figure& f : figures) {
    const double ratio = f.best_measured / f.best_reference;
    ok = ok && ratio >= 0.90;
    std::sort(f.round_ratios.begin(), f.round_ratios.end());
    fmt::print("{:<22} {:>10.1f} {:>10.1f} {:>8.3f}  {}  {}   (per-round ratios, median {:.3f}: {:.3f})\n", f.what,
               f.best_measured / 1e9, f.best_reference / 1e9, ratio, f.unit, ratio >= 0.90 ? "ok" : "BELOW",
               f.round_ratios[f.round_ratios.size() / 2], fmt::join(f.round_ratios, " "));
  }
  return ok ? 0 : 1;
}
