// roofline measure-host: the host's own roofs, measured the Empirical Roofline Toolkit / likwid-bench way.
// Each probe kernel declares its FLOPs and bytes per element (probe_kernel.hpp); a repetition's rate is
//   rate = per_element_count x elements x repeats x threads / time of the slowest thread,
// every figure is repeated, and its ceiling is the best repetition (interference only ever slows a kernel,
// so the fastest repetition is the one closest to what the machine can do); min and median are kept.
//
// Two runs: 1 thread, and one thread per CPU (or --threads N), pinned. Each run measures the peak of every
// precision the CPU has a kernel for, then sweeps the working set per thread from 4 KiB to well past the
// last-level cache with the read-only and triad kernels; each cache level's ceiling is the best point inside
// that level's share of the cache, DRAM's the best of the largest working sets (16x the last-level cache).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hardware/host/cpu_info.hpp"
#include "hardware/host/probe_kernel.hpp"

namespace hardware::host {

class MeasureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Progress {
  int step = 0, steps = 0;  // steps done, of steps
  std::string what;         // the step now under way: "read, 2 threads, 256 KiB per thread"
};

struct MeasureOptions {
  bool quick = false;  // one point per level, 5 short repetitions: under 5 s, for tests and CI
  int threads = 0;     // threads of the all-cores run; 0 = every CPU this process may run on
  std::optional<Isa> isa;  // default: the widest this CPU supports
  std::function<void(const Progress&)> on_progress;
};

// One figure over its repetitions, each a rate (FLOP/s or B/s) of all threads together.
struct Stats {
  double min = 0, median = 0, max = 0;
  int repetitions = 0;
};

struct SweepPoint {
  std::int64_t bytes_per_thread = 0;  // working set of each thread
  Stats read, triad;
};

struct LevelResult {
  std::string name;                            // "L1d", "L2", "L3", "DRAM"
  std::int64_t capacity_bytes_per_thread = 0;  // each thread's share of the level (0 for DRAM)
  Stats read, triad;                           // ceilings: the best points in the level's range
  std::int64_t read_at_bytes_per_thread = 0, triad_at_bytes_per_thread = 0;  // where they were found
  std::optional<double> knee_bytes_per_thread;  // where read bandwidth falls to the next level (sweep only)
};

struct PeakResult {
  Precision precision = Precision::fp32;
  const ProbeKernel* kernel = nullptr;
  Stats flops_per_s;
};

struct ThreadRun {
  std::vector<int> cpus;  // one pinned thread on each
  bool pinned = false;    // every thread got its CPU
  std::int64_t dram_bytes_per_thread = 0;  // largest working set, well past the last-level cache
  std::vector<PeakResult> peaks;
  std::vector<SweepPoint> sweep;    // ascending working set (quick: one point per level)
  std::vector<LevelResult> levels;  // caches innermost first, then DRAM
  int threads() const { return static_cast<int>(cpus.size()); }
};

struct HostMeasurement {
  CpuInfo cpu;
  Isa isa = Isa::scalar;                    // the kernels' ISA
  std::vector<const ProbeKernel*> kernels;  // those that ran
  bool quick = false;
  int repetitions = 0;
  double repetition_target_s = 0;  // each repetition's duration, set by calibration
  std::string date_utc;            // start, ISO 8601
  double seconds = 0;              // the whole measurement
  ThreadRun single;                // 1 thread
  ThreadRun all;                   // every thread (the same CPUs as `single` on a 1-CPU host)
};

// Throws MeasureError (bad thread count or ISA, out of memory).
HostMeasurement measure_host(const MeasureOptions& options = {});

}  // namespace hardware::host
