// What the measurement needs to know about the host, read from the system at run time: the CPU model, the
// widest vector ISA it can use, the CPUs this process may run on, cache sizes and sharing, physical memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/host/probe_kernel.hpp"

namespace hardware::host {

std::string_view to_string(Isa isa);

struct CacheLevel {
  int level = 0;                // 1, 2, 3
  std::string name;             // "L1d", "L2", "L3"
  std::int64_t size_bytes = 0;  // one instance
  std::string source;           // where the size came from
  // The instance each CPU uses (its sysfs shared_cpu_list); CPUs absent from it count as having a private
  // instance for L1 and L2 and one shared instance for deeper levels.
  std::map<int, std::string> instance_of_cpu;

  int instances_among(std::span<const int> cpus) const;  // distinct instances these CPUs use
};

struct CpuInfo {
  std::string model;                         // "AMD EPYC 9654 96-Core Processor"
  Isa isa = Isa::scalar;                     // widest usable vector ISA (CPU and OS support checked)
  std::vector<std::string> features;         // detected features that matter here: "avx2", "avx512vnni", ...
  std::vector<int> cpus;                     // CPUs this process may run on: one per core first, then siblings
  std::vector<CacheLevel> caches;            // data and unified caches, innermost first
  std::optional<std::int64_t> memory_bytes;  // physical memory

  bool has(std::string_view feature) const;
  bool supports(Isa isa) const;
};

CpuInfo detect_cpu();

// A sysfs cache size, "48K" -> 49152 (K, M, G are binary there); nullopt if malformed.
std::optional<std::int64_t> parse_cache_size(std::string_view text);

}  // namespace hardware::host
