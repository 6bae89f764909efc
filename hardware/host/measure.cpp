#include "hardware/host/measure.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <new>

#include <fmt/format.h>

#include "common/utc_time.hpp"
#include "hardware/host/probes.hpp"
#include "hardware/host/team.hpp"

namespace hardware::host {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

struct Settings {
  int repetitions;
  double target_s;  // duration of one repetition
};
constexpr Settings kDefault{9, 10e-3};
constexpr Settings kQuick{5, 1e-3};

std::string bytes_text(double bytes) {
  if (bytes >= kGiB) return fmt::format("{:.3g} GiB", bytes / double(kGiB));
  if (bytes >= kMiB) return fmt::format("{:.3g} MiB", bytes / double(kMiB));
  return fmt::format("{:.3g} KiB", bytes / double(kKiB));
}

std::string utc_now() { return common::utc_now("%Y-%m-%dT%H:%M:%SZ"); }

Stats stats_of(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  const std::size_t n = rates.size();
  const double median = n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
  return {rates.front(), median, rates.back(), static_cast<int>(n)};
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, FreeDeleter>;

// A thread's working-set buffer, allocated and first touched by that thread so its pages are local to it.
// Transparent huge pages (where the kernel offers them on request) spare the sweep TLB misses.
Buffer local_buffer(std::int64_t bytes) {
  constexpr std::size_t kHuge = 2 * kMiB;
  const std::size_t size = (static_cast<std::size_t>(bytes) + kHuge - 1) / kHuge * kHuge;
  auto* p = static_cast<float*>(std::aligned_alloc(kHuge, size));
  if (!p) throw MeasureError(fmt::format("cannot allocate {} for a thread's working set", bytes_text(double(size))));
  madvise(p, size, MADV_HUGEPAGE);  // a hint; without it the sweep still runs on 4 KiB pages
  std::fill_n(p, size / sizeof(float), 1.0f);
  return Buffer(p);
}

// One run (a fixed set of pinned threads) and the arrays they sweep.
class Runner {
 public:
  Runner(const std::vector<int>& cpus, std::int64_t buffer_bytes, Settings settings)
      : team_(cpus), buffers_(cpus.size()), sink_(cpus.size()), settings_(settings) {
    team_.run([&](int i) { buffers_[static_cast<std::size_t>(i)] = local_buffer(buffer_bytes); });
  }

  Team& team() { return team_; }

  // Rate of kernel k on n elements per thread: calibrated so a repetition lasts the target time, then
  // repeated; each repetition's rate comes only from the kernel's declared counts.
  Stats measure(const ProbeKernel& k, std::int64_t n) {
    const double per_element = k.kind == ProbeKind::peak ? k.flops_per_element : k.bytes_per_element;
    auto timed = [&](std::int64_t repeats) {
      return team_.run([&, repeats](int i) {
        float* base = buffers_[static_cast<std::size_t>(i)].get();
        float* b = k.kind == ProbeKind::triad ? base + n : base;  // triad: a, b, c side by side
        sink_[static_cast<std::size_t>(i)] = k.run(base, b, base + 2 * n, n, repeats);
      });
    };
    // Calibration (also the warm-up): grow the repeat count until a run lasts a quarter of the target.
    std::int64_t repeats = 1;
    for (;;) {
      const double t = timed(repeats);
      if (t >= settings_.target_s / 4) {
        repeats = std::max<std::int64_t>(1, std::llround(double(repeats) * settings_.target_s / t));
        break;
      }
      const double grow = t > 0 ? settings_.target_s / t : 1000;
      repeats *= std::clamp<std::int64_t>(std::llround(grow), 2, 1000);
    }
    std::vector<double> rates;
    for (int r = 0; r < settings_.repetitions; ++r) {
      const double t = timed(repeats);
      // work of one thread = per_element x n x repeats; the threads run in parallel, the slowest sets t
      rates.push_back(per_element * double(n) * double(repeats) * team_.size() / t);
    }
    return stats_of(std::move(rates));
  }

 private:
  Team team_;
  std::vector<Buffer> buffers_;
  std::vector<double> sink_;  // checksums, so no kernel's work is dead
  Settings settings_;
};

// Elements of kernel k whose arrays fill `bytes` per thread, a multiple of its granule.
std::int64_t elements_for(const ProbeKernel& k, std::int64_t bytes) {
  const auto n = static_cast<std::int64_t>(double(bytes) / k.bytes_per_element);
  return std::max(k.granule, n / k.granule * k.granule);
}

// The working-set range whose best point is a level's ceiling, per thread: from 1.5x the level above
// (clear of it) to 3/4 of this level's share (clear of the level below). DRAM: the top factor of 2 of the
// sweep, which ends at 16x the last-level cache or more. Closer to the cache, bandwidth still includes cache
// hits: on a cloud VM with a 32 MiB L3 (a victim cache that keeps part of a stream), one thread reads 12%
// faster at 4x the L3 than at 16x, and two threads up to 40% faster (the vCPUs may sit on two host L3s).
struct LevelRange {
  std::string name;
  std::int64_t capacity_per_thread = 0;  // 0 for DRAM
  double lo = 0, hi = 0;
};

std::vector<LevelRange> level_ranges(const CpuInfo& cpu, const std::vector<int>& cpus,
                                     std::int64_t dram_bytes_per_thread) {
  std::vector<LevelRange> out;
  const double threads = double(cpus.size());
  double below = 0;  // capacity per thread of the level above
  for (const auto& c : cpu.caches) {
    const auto share = static_cast<std::int64_t>(double(c.size_bytes) * c.instances_among(cpus) / threads);
    out.push_back({c.name, share, 1.5 * below, 0.75 * double(share)});
    below = double(share);
  }
  out.push_back({"DRAM", 0, double(dram_bytes_per_thread) / 2, std::numeric_limits<double>::infinity()});
  return out;
}

// Quick mode's one point per level: the geometric middle of its range (not below a quarter of its top).
std::int64_t middle_point(const LevelRange& r, std::int64_t dram_bytes_per_thread) {
  if (r.capacity_per_thread == 0) return dram_bytes_per_thread;
  const double lo = std::max(r.lo, r.hi / 4);
  return static_cast<std::int64_t>(lo < r.hi ? std::sqrt(lo * r.hi) : r.hi);
}

// Working sets 4 KiB x 2^(k/2) up to the DRAM size, the DRAM size last.
std::vector<std::int64_t> sweep_sizes(std::int64_t dram_bytes_per_thread) {
  std::vector<std::int64_t> out;
  for (int k = 0;; ++k) {
    const auto w = static_cast<std::int64_t>(4 * double(kKiB) * std::exp2(k / 2.0)) / kKiB * kKiB;
    if (w >= dram_bytes_per_thread * 9 / 10) break;
    out.push_back(w);
  }
  out.push_back(dram_bytes_per_thread);
  return out;
}

// The best point within [lo, hi] of the chosen figure; the point nearest the range if none is inside.
const SweepPoint& best_in(const std::vector<SweepPoint>& sweep, const LevelRange& r, Stats SweepPoint::*figure) {
  const SweepPoint* best = nullptr;
  for (const auto& p : sweep)
    if (double(p.bytes_per_thread) >= r.lo && double(p.bytes_per_thread) <= r.hi &&
        (!best || (p.*figure).max > (best->*figure).max))
      best = &p;
  if (best) return *best;
  const double centre = std::isinf(r.hi) ? r.lo : std::sqrt(std::max(r.lo, 1.0) * r.hi);
  auto distance = [&](const SweepPoint& p) { return std::abs(std::log(double(p.bytes_per_thread) / centre)); };
  return *std::min_element(sweep.begin(), sweep.end(),
                           [&](const SweepPoint& a, const SweepPoint& b) { return distance(a) < distance(b); });
}

// Where read bandwidth, past level i's ceiling, first drops below the geometric mean of level i's and level
// i+1's ceilings; interpolated in log-log between the two sweep points around the crossing.
std::optional<double> knee(const std::vector<SweepPoint>& sweep, const LevelResult& level, const LevelResult& next) {
  const double threshold = std::sqrt(level.read.max * next.read.max);
  for (std::size_t j = 1; j < sweep.size(); ++j) {
    const auto& p = sweep[j - 1];
    const auto& q = sweep[j];
    if (p.bytes_per_thread < level.read_at_bytes_per_thread || q.read.max >= threshold) continue;
    if (p.read.max < threshold) return double(p.bytes_per_thread);
    const double f = std::log(p.read.max / threshold) / std::log(p.read.max / q.read.max);
    return std::exp(std::log(double(p.bytes_per_thread)) +
                    f * std::log(double(q.bytes_per_thread) / double(p.bytes_per_thread)));
  }
  return std::nullopt;
}

// What one run measures: its threads, its DRAM working set, its levels' ranges and the working sets.
struct RunPlan {
  std::vector<int> cpus;
  std::int64_t dram_bytes_per_thread = 0;
  std::vector<LevelRange> ranges;
  std::vector<std::int64_t> sizes;
};

RunPlan plan_run(const HostMeasurement& m, std::vector<int> cpus, std::int64_t dram_bytes_total) {
  RunPlan p;
  p.dram_bytes_per_thread = dram_bytes_total / std::int64_t(cpus.size()) / kKiB * kKiB;
  p.ranges = level_ranges(m.cpu, cpus, p.dram_bytes_per_thread);
  if (m.quick) {
    for (const auto& range : p.ranges) p.sizes.push_back(middle_point(range, p.dram_bytes_per_thread));
    std::sort(p.sizes.begin(), p.sizes.end());
  } else {
    p.sizes = sweep_sizes(p.dram_bytes_per_thread);
  }
  p.cpus = std::move(cpus);
  return p;
}

class Measurement {
 public:
  Measurement(const MeasureOptions& options, const HostMeasurement& m, int steps)
      : options_(options), m_(m) {
    progress_.steps = steps;
  }

  ThreadRun run(const RunPlan& plan) {
    ThreadRun r;
    r.cpus = plan.cpus;
    r.dram_bytes_per_thread = plan.dram_bytes_per_thread;
    const std::string who = plan.cpus.size() == 1 ? "1 thread" : fmt::format("{} threads", plan.cpus.size());

    Runner runner(plan.cpus, plan.dram_bytes_per_thread + 64 * kKiB, m_.quick ? kQuick : kDefault);
    r.pinned = runner.team().pinned();
    for (const ProbeKernel* k : m_.kernels) {
      if (k->kind != ProbeKind::peak) continue;
      step(fmt::format("peak {}, {}", to_string(k->precision), who));
      r.peaks.push_back({k->precision, k, runner.measure(*k, k->granule * 4096)});
    }
    const ProbeKernel* read = find_kernel(m_.kernels, ProbeKind::read);
    const ProbeKernel* triad = find_kernel(m_.kernels, ProbeKind::triad);
    for (std::int64_t w : plan.sizes) {
      SweepPoint p{w, {}, {}};
      step(fmt::format("read, {}, {} per thread", who, bytes_text(double(w))));
      p.read = runner.measure(*read, elements_for(*read, w));
      step(fmt::format("triad, {}, {} per thread", who, bytes_text(double(w))));
      p.triad = runner.measure(*triad, elements_for(*triad, w));
      r.sweep.push_back(p);
    }
    for (const auto& range : plan.ranges) {
      const auto& best_read = best_in(r.sweep, range, &SweepPoint::read);
      const auto& best_triad = best_in(r.sweep, range, &SweepPoint::triad);
      r.levels.push_back({range.name, range.capacity_per_thread, best_read.read, best_triad.triad,
                          best_read.bytes_per_thread, best_triad.bytes_per_thread, std::nullopt});
    }
    if (!m_.quick)
      for (std::size_t i = 0; i + 1 < r.levels.size(); ++i)
        r.levels[i].knee_bytes_per_thread = knee(r.sweep, r.levels[i], r.levels[i + 1]);
    return r;
  }

  // Progress steps of a run: each peak, and each working set with two kernels.
  static int steps_of(const HostMeasurement& m, const RunPlan& plan) {
    int peaks = 0;
    for (const ProbeKernel* k : m.kernels) peaks += k->kind == ProbeKind::peak;
    return peaks + 2 * static_cast<int>(plan.sizes.size());
  }

 private:
  void step(std::string what) {
    if (!options_.on_progress) return;
    progress_.what = std::move(what);
    options_.on_progress(progress_);
    ++progress_.step;
  }

  const MeasureOptions& options_;
  const HostMeasurement& m_;
  Progress progress_;
};

}  // namespace

HostMeasurement measure_host(const MeasureOptions& options) {
  const auto start = Clock::now();
  HostMeasurement m;
  m.date_utc = utc_now();
  m.cpu = detect_cpu();
  m.isa = options.isa.value_or(m.cpu.isa);
  if (!m.cpu.supports(m.isa)) throw MeasureError(fmt::format("this CPU cannot run {} kernels", to_string(m.isa)));
  m.kernels = runnable_kernels(m.cpu, m.isa);
  if (!find_kernel(m.kernels, ProbeKind::read) || !find_kernel(m.kernels, ProbeKind::triad) ||
      !find_kernel(m.kernels, ProbeKind::peak))
    throw MeasureError(fmt::format("this build has no {} probe kernels", to_string(m.isa)));
  m.quick = options.quick;
  const Settings settings = m.quick ? kQuick : kDefault;
  m.repetitions = settings.repetitions;
  m.repetition_target_s = settings.target_s;

  const int available = static_cast<int>(m.cpu.cpus.size());
  if (options.threads < 0 || options.threads > available)
    throw MeasureError(fmt::format("asked for {} threads; this process may run on {} CPUs", options.threads, available));
  const int threads = options.threads > 0 ? options.threads : available;
  const std::vector<int> all_cpus(m.cpu.cpus.begin(), m.cpu.cpus.begin() + threads);

  // DRAM working set, all threads together: well past the last-level cache (16x, at least 1 GiB; quick: 8x,
  // at least 128 MiB), and at most a quarter of physical memory.
  const auto& llc = m.cpu.caches.back();
  const std::int64_t llc_bytes = llc.size_bytes * llc.instances_among(all_cpus);
  std::int64_t dram_total = m.quick ? std::max(8 * llc_bytes, 128 * kMiB) : std::max(16 * llc_bytes, kGiB);
  if (m.cpu.memory_bytes) dram_total = std::min(dram_total, *m.cpu.memory_bytes / 4);

  std::vector<RunPlan> plans = {plan_run(m, {all_cpus.front()}, dram_total)};
  if (threads > 1) plans.push_back(plan_run(m, all_cpus, dram_total));
  int steps = 0;
  for (const auto& plan : plans) steps += Measurement::steps_of(m, plan);
  Measurement measurement(options, m, steps);
  try {
    m.single = measurement.run(plans.front());
    m.all = threads > 1 ? measurement.run(plans.back()) : m.single;
  } catch (const std::bad_alloc&) {
    throw MeasureError(fmt::format("out of memory for the {} working set", bytes_text(double(dram_total))));
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return m;
}

}  // namespace hardware::host
