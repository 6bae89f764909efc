// The registry of probe kernels: every kernel compiled into this build, which of them this CPU can run,
// and the counting twin of each (what its loop really does, for the tests).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "hardware/host/cpu_info.hpp"
#include "hardware/host/probe_kernel.hpp"

namespace hardware::host {

std::string_view to_string(ProbeKind kind);

// The kernels written for one ISA (empty for an ISA this build has no code for).
std::span<const ProbeKernel> kernels_for(Isa isa);
// Every kernel of every ISA in this build, runnable here or not.
std::vector<const ProbeKernel*> all_kernels();
// The kernels of `isa` this CPU can run: the ISA is supported and so is each kernel's extra feature.
std::vector<const ProbeKernel*> runnable_kernels(const CpuInfo& cpu, Isa isa);
// The kernel of that kind (and, for peaks, precision) among `kernels`; nullptr if none.
const ProbeKernel* find_kernel(std::span<const ProbeKernel* const> kernels, ProbeKind kind,
                               Precision precision = Precision::fp32);

struct OpCounts {
  double flops = 0, bytes = 0;
};
// What kernel k's loop does on n elements (one repeat), tallied by running the same loop template with a
// counting policy (kernels_count.cpp). nullopt if n is not a positive multiple of k.granule or k has no twin.
std::optional<OpCounts> count_kernel(const ProbeKernel& k, std::int64_t n);

}  // namespace hardware::host
