// A hand-written reference for bench_measure_host: plain AVX-512 microbenchmarks, independent of the
// hardware/host code, of what a careful person would measure by hand on all cores.
#pragma once

#include <vector>

namespace bench {

struct ReferenceFigures {
  double fp32_flops_per_s = 0, fp64_flops_per_s = 0;  // all cores, register-only FMA loops
  double dram_read_bytes_per_s = 0;                   // all cores, multi-stream sum over 1 GiB
};

// The CPUs to run on (one pinned thread each); best of `repetitions` per figure, slowest thread per repetition.
// Needs AVX-512F (the caller checks).
ReferenceFigures measure_reference(const std::vector<int>& cpus, int repetitions);

}  // namespace bench
