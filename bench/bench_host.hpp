// What the benchmarks that time the engine's kernels share about the host: OpenBLAS on its best kernels for this
// ISA, and how much data stays cold when rotated over.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

#include "hardware/host/cpu_info.hpp"

namespace bench {

// Debian's OpenBLAS 0.3.21 picks its kernels by CPU model when it loads and falls back to old ones on CPUs it
// does not know (Prescott's SSE3 on an AVX-512 Xeon of family 6 model 207, Haswell's AVX2 on Zen 5). So that it
// runs at its best for this host's ISA, this sets OPENBLAS_CORETYPE to the kernels the ISA can run (SkylakeX
// with AVX-512 F/BW/VL/DQ, Haswell with AVX2) and executes the program again, since the library reads it only at
// load. A value already set is kept (to compare core types by hand).
inline void run_openblas_at_its_best(const hardware::host::CpuInfo& cpu, char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  const char* best = cpu.supports(hardware::host::Isa::avx512) ? "SkylakeX"
                     : cpu.supports(hardware::host::Isa::avx2)  ? "Haswell"
                                                                : nullptr;
  if (!best) return;
  setenv("OPENBLAS_CORETYPE", best, 1);
  execv("/proc/self/exe", argv);
  fmt::print("(could not re-execute with OPENBLAS_CORETYPE={}: OpenBLAS keeps its own choice)\n", best);
}

// The last level's bytes over the cache instances this process can use.
inline std::int64_t last_level_cache_bytes(const hardware::host::CpuInfo& cpu) {
  if (cpu.caches.empty()) return 0;
  return cpu.caches.back().size_bytes * cpu.caches.back().instances_among(cpu.cpus);
}

// Data rotated over to stay cold: more than 4x the last-level cache this process can reach, and at least 128 MiB
// (hosts seen have 32 to 260 MiB of L3).
inline std::size_t cold_bytes(const hardware::host::CpuInfo& cpu) {
  return std::max<std::size_t>(std::size_t{128} << 20, 4 * std::size_t(last_level_cache_bytes(cpu)) + 1);
}

}  // namespace bench
