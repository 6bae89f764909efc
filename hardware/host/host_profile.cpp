#include "hardware/host/host_profile.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/host/probes.hpp"

namespace hardware::host {
namespace {

using nlohmann::json;

std::string giga(double v, const char* unit) { return fmt::format("{:.4g} G{}", v / 1e9, unit); }

std::string threads_text(const ThreadRun& r) {
  return r.threads() == 1 ? "1 thread" : fmt::format("{} threads", r.threads());
}

Figure figure(const Stats& s, std::string source, std::string note) {
  return {s.max, std::move(source), std::move(note), s.min, s.median, s.max, s.repetitions};
}

json stats_json(const Stats& s) {
  return {{"min", s.min}, {"median", s.median}, {"max", s.max}, {"repetitions", s.repetitions}};
}

json run_json(const ThreadRun& r) {
  json peaks = json::object(), read = json::object(), triad = json::object(), sweep = json::array();
  for (const auto& p : r.peaks) peaks[std::string(to_string(p.precision))] = stats_json(p.flops_per_s);
  for (const auto& l : r.levels) {
    read[l.name] = stats_json(l.read);
    read[l.name]["bytes_per_thread"] = l.read_at_bytes_per_thread;
    triad[l.name] = stats_json(l.triad);
    triad[l.name]["bytes_per_thread"] = l.triad_at_bytes_per_thread;
  }
  for (const auto& p : r.sweep)
    sweep.push_back({{"bytes_per_thread", p.bytes_per_thread},
                     {"read_bytes_per_s", stats_json(p.read)},
                     {"triad_bytes_per_s", stats_json(p.triad)}});
  json levels = json::array();
  for (const auto& l : r.levels) {
    json level = {{"name", l.name}};
    if (l.capacity_bytes_per_thread > 0) level["capacity_bytes_per_thread"] = l.capacity_bytes_per_thread;
    if (l.knee_bytes_per_thread) level["knee_bytes_per_thread"] = *l.knee_bytes_per_thread;
    levels.push_back(level);
  }
  return {{"threads", r.threads()}, {"cpus", r.cpus}, {"pinned", r.pinned},
          {"dram_bytes_per_thread", r.dram_bytes_per_thread}, {"peak_flops_per_s", peaks},
          {"read_bytes_per_s", read}, {"triad_bytes_per_s", triad}, {"levels", levels}, {"sweep", sweep}};
}

const PeakResult* peak_of(const ThreadRun& r, Precision p) {
  for (const auto& x : r.peaks)
    if (x.precision == p) return &x;
  return nullptr;
}

}  // namespace

json provenance_json(const HostMeasurement& m) {
  json probes = json::array();
  for (const ProbeKernel* k : m.kernels)
    probes.push_back({{"name", k->name}, {"isa", to_string(k->isa)}, {"kind", to_string(k->kind)},
                      {"precision", to_string(k->precision)}, {"flops_per_element", k->flops_per_element},
                      {"bytes_per_element", k->bytes_per_element}});
  json caches = json::array();
  for (const auto& c : m.cpu.caches)
    caches.push_back({{"name", c.name}, {"size_bytes_per_instance", c.size_bytes},
                      {"instances", c.instances_among(m.all.cpus)}, {"source", c.source}});
  json j = {
      {"tool", "roofline measure-host"},
      {"method",
       "each probe kernel declares its FLOPs and bytes per element; rate = count x elements x repeats x "
       "threads / time of the slowest thread; threads pinned, barrier before each timed region; figure value = "
       "best repetition, min/median/max over repetitions"},
      {"date", m.date_utc},
      {"mode", m.quick ? "quick" : "default"},
      {"seconds", m.seconds},
      {"cpu_model", m.cpu.model},
      {"isa", to_string(m.isa)},
      {"cpu_features", m.cpu.features},
      {"threads", m.all.threads()},
      {"repetitions", m.repetitions},
      {"repetition_target_s", m.repetition_target_s},
      {"probes", probes},
      {"caches", caches},
      {"one_thread", run_json(m.single)},
      {"all_threads", run_json(m.all)},
  };
  if (m.cpu.memory_bytes) j["memory_bytes"] = *m.cpu.memory_bytes;
  return j;
}

Profile to_profile(const HostMeasurement& m, const std::string& name) {
  Profile p;
  p.name = name;
  p.kind = "cpu";
  p.origin = "measured on this host";
  p.description = fmt::format("{} (measured: {}, {})", m.cpu.model, to_string(m.isa), threads_text(m.all));
  const std::string by = fmt::format("measured {} by roofline measure-host ({}, {}, best of {} repetitions)",
                                     m.date_utc, to_string(m.isa), threads_text(m.all), m.repetitions);

  for (const auto& peak : m.all.peaks) {
    std::string note = fmt::format("{} kernel, {} FLOP per element", peak.kernel->name, peak.kernel->flops_per_element);
    if (const auto* one = peak_of(m.single, peak.precision); one && m.all.threads() > 1)
      note += fmt::format("; 1 thread: {} (median {})", giga(one->flops_per_s.max, "FLOP/s"),
                          giga(one->flops_per_s.median, "FLOP/s"));
    p.peak_flops_per_s[static_cast<std::size_t>(peak.precision)] = figure(peak.flops_per_s, by, note);
  }

  // Levels: caches innermost first, DRAM last (measure.cpp builds them from cpu.caches in that order).
  auto level_note = [&](std::size_t i) {
    const auto& l = m.all.levels[i];
    std::string note = fmt::format("read-only kernel at {} KiB per thread; triad {}", l.read_at_bytes_per_thread / 1024,
                                   giga(l.triad.max, "B/s"));
    if (m.all.threads() > 1)
      note += fmt::format("; 1 thread: read {}, triad {}", giga(m.single.levels[i].read.max, "B/s"),
                          giga(m.single.levels[i].triad.max, "B/s"));
    return note;
  };
  for (std::size_t i = 0; i < m.cpu.caches.size(); ++i) {
    const auto& c = m.cpu.caches[i];
    const int instances = c.instances_among(m.all.cpus);
    MemoryLevel level;
    level.name = c.name;
    level.size_bytes = Figure{double(c.size_bytes) * instances,
                              fmt::format("{} per instance x {} instances", c.source, instances), "", {}, {}, {}, {}};
    level.bytes_per_s = figure(m.all.levels[i].read, by, level_note(i));
    p.caches.push_back(level);
  }
  p.memory.name = "DRAM";
  p.memory.bytes_per_s = figure(m.all.levels.back().read, by, level_note(m.all.levels.size() - 1));
  if (m.cpu.memory_bytes)
    p.memory.size_bytes = Figure{double(*m.cpu.memory_bytes), "sysconf(_SC_PHYS_PAGES) x sysconf(_SC_PAGESIZE)",
                                 "physical memory of the host; a container's memory limit may be lower", {}, {}, {}, {}};
  p.provenance = std::make_shared<const json>(provenance_json(m));
  return p;
}

}  // namespace hardware::host
