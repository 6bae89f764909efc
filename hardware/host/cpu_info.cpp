#include "hardware/host/cpu_info.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "common/strict_number.hpp"

namespace hardware::host {
namespace {

std::optional<std::string> read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

std::optional<int> read_int(const std::string& path) {
  const auto line = read_line(path);
  if (!line) return std::nullopt;
  const auto v = common::parse_int64(*line);
  if (!v.ok() || v.value < INT32_MIN || v.value > INT32_MAX) return std::nullopt;
  return int(v.value);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("model name")) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) break;
    auto first = line.find_first_not_of(" \t", colon + 1);
    return first == std::string::npos ? std::string("unknown CPU") : line.substr(first);
  }
  return "unknown CPU";
}

std::vector<std::string> detect_features() {
  std::vector<std::string> out;
#if defined(__x86_64__)
  // libgcc's cpu model also checks XCR0, so AVX / AVX-512 are reported only where the OS saves their state.
  __builtin_cpu_init();
#define ROOFLINE_FEATURE(name) \
  if (__builtin_cpu_supports(name)) out.emplace_back(name)
  ROOFLINE_FEATURE("avx2");
  ROOFLINE_FEATURE("fma");
  ROOFLINE_FEATURE("avx512f");
  ROOFLINE_FEATURE("avx512bw");
  ROOFLINE_FEATURE("avx512vl");
  ROOFLINE_FEATURE("avx512dq");
  ROOFLINE_FEATURE("avx512vnni");
  ROOFLINE_FEATURE("avx512bf16");
#undef ROOFLINE_FEATURE
#endif
  return out;
}

// The CPUs in this process's affinity mask, one per physical core first (so N < all threads spreads over
// cores before it doubles up on SMT siblings).
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) {
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (int c = 0; c < std::max(1L, n); ++c) cpus.push_back(c);
  }
  std::set<std::pair<int, int>> cores_seen;
  std::vector<int> first, siblings;
  for (int c : cpus) {
    const std::string topo = fmt::format("/sys/devices/system/cpu/cpu{}/topology/", c);
    const auto core = read_int(topo + "core_id"), package = read_int(topo + "physical_package_id");
    const bool new_core = !core || !package || cores_seen.insert({*package, *core}).second;
    (new_core ? first : siblings).push_back(c);
  }
  first.insert(first.end(), siblings.begin(), siblings.end());
  return first;
}

std::vector<CacheLevel> sysfs_caches(const std::vector<int>& cpus) {
  std::map<int, CacheLevel> by_level;
  for (int c : cpus) {
    for (int index = 0;; ++index) {
      const std::string dir = fmt::format("/sys/devices/system/cpu/cpu{}/cache/index{}/", c, index);
      const auto type = read_line(dir + "type");
      if (!type) break;
      if (*type == "Instruction") continue;
      const auto level = read_int(dir + "level");
      const auto size_text = read_line(dir + "size");
      const auto size = size_text ? parse_cache_size(*size_text) : std::nullopt;
      if (!level || !size) continue;
      auto& l = by_level[*level];
      if (l.level == 0) {
        l.level = *level;
        l.name = fmt::format("L{}{}", *level, *type == "Data" ? "d" : "");
        l.size_bytes = *size;
        l.source = fmt::format("sysfs {}size = {}", dir, *size_text);
      }
      l.instance_of_cpu[c] = read_line(dir + "shared_cpu_list").value_or(fmt::format("cpu{}", c));
    }
  }
  std::vector<CacheLevel> out;
  for (auto& [level, l] : by_level) out.push_back(std::move(l));
  return out;
}

// Where sysfs has no cache directory (some containers): glibc's view, then a labelled assumption.
std::vector<CacheLevel> fallback_caches() {
  std::vector<CacheLevel> out;
  const std::pair<int, long> from_sysconf[] = {{1, sysconf(_SC_LEVEL1_DCACHE_SIZE)},
                                               {2, sysconf(_SC_LEVEL2_CACHE_SIZE)},
                                               {3, sysconf(_SC_LEVEL3_CACHE_SIZE)}};
  for (auto [level, size] : from_sysconf) {
    if (size <= 0) continue;
    out.push_back({level, level == 1 ? "L1d" : fmt::format("L{}", level), size,
                   fmt::format("sysconf(_SC_LEVEL{}_{}CACHE_SIZE)", level, level == 1 ? "D" : ""), {}});
  }
  if (!out.empty()) return out;
  const char* why = "assumed: no cache size found in sysfs or sysconf";
  return {{1, "L1d", 32 << 10, why, {}}, {2, "L2", 1 << 20, why, {}}, {3, "L3", 8 << 20, why, {}}};
}

}  // namespace

std::string_view to_string(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

int CacheLevel::instances_among(std::span<const int> cpus) const {
  std::set<std::string> instances;
  for (int c : cpus) {
    auto it = instance_of_cpu.find(c);
    instances.insert(it != instance_of_cpu.end() ? it->second : level <= 2 ? fmt::format("cpu{}", c) : "shared");
  }
  return static_cast<int>(instances.size());
}

bool CpuInfo::has(std::string_view feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

bool CpuInfo::supports(Isa i) const {
  switch (i) {
    case Isa::scalar: return true;
    case Isa::avx2: return has("avx2") && has("fma");
    case Isa::avx512: return has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq");
  }
  return false;
}

std::optional<std::int64_t> parse_cache_size(std::string_view text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v <= 0) return std::nullopt;
  const std::string_view suffix(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
  if (suffix.empty()) return v;
  if (suffix == "K") return v << 10;
  if (suffix == "M") return v << 20;
  if (suffix == "G") return v << 30;
  return std::nullopt;
}

CpuInfo detect_cpu() {
  CpuInfo info;
  info.model = cpu_model();
  info.features = detect_features();
  for (Isa i : {Isa::avx2, Isa::avx512})
    if (info.supports(i)) info.isa = i;
  info.cpus = allowed_cpus();
  info.caches = sysfs_caches(info.cpus);
  if (info.caches.empty()) info.caches = fallback_caches();
  const long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_bytes > 0) info.memory_bytes = std::int64_t{pages} * page_bytes;
  return info;
}

}  // namespace hardware::host
