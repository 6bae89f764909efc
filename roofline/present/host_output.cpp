#include "roofline/present/host_output.hpp"

#include <fmt/format.h>

#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {

namespace {

using hardware::host::HostMeasurement;
using hardware::host::ThreadRun;

std::string binary_bytes(double bytes) {
  if (bytes >= 1 << 30) return fmt::format("{:.3g} GiB", bytes / double(1 << 30));
  if (bytes >= 1 << 20) return fmt::format("{:.3g} MiB", bytes / double(1 << 20));
  return fmt::format("{:.3g} KiB", bytes / double(1 << 10));
}

std::string threads_text(const ThreadRun& r) {
  return r.threads() == 1 ? "1 thread" : fmt::format("{} threads", r.threads());
}

}  // namespace

std::string render_table(const HostMeasurement& m) {
  const bool two = m.all.threads() > 1;
  std::string out = fmt::format("{}: {} kernels, {}, {} run in {:.1f} s (best of {} repetitions)\n\n", m.cpu.model,
                                to_string(m.isa), threads_text(m.all), m.quick ? "quick" : "default", m.seconds,
                                m.repetitions);
  std::vector<reports::Table::Column> cols = {{"peak", reports::Align::left}, {"1 thread"}};
  if (two) cols.push_back({threads_text(m.all)});
  reports::Table peaks(cols);
  for (std::size_t i = 0; i < m.all.peaks.size(); ++i) {
    std::vector<std::string> row = {std::string(to_string(m.all.peaks[i].precision)),
                                    reports::si(m.single.peaks[i].flops_per_s.max, "FLOP/s")};
    if (two) row.push_back(reports::si(m.all.peaks[i].flops_per_s.max, "FLOP/s"));
    peaks.add_row(row);
  }
  out += peaks.render() + "\n";

  cols = {{"level", reports::Align::left}, {"size (system)", reports::Align::left}};
  if (!m.quick) {
    cols.push_back({"knee, 1 thread"});
    if (two) cols.push_back({"knee/thread, " + threads_text(m.all)});
  }
  for (const char* kernel : {"read", "triad"}) {
    cols.push_back({fmt::format("{}, 1 thread", kernel)});
    if (two) cols.push_back({fmt::format("{}, {}", kernel, threads_text(m.all))});
  }
  reports::Table levels(cols);
  auto knee = [](const hardware::host::LevelResult& l) {
    if (l.capacity_bytes_per_thread == 0) return std::string("-");
    const std::string share = binary_bytes(double(l.capacity_bytes_per_thread));
    return l.knee_bytes_per_thread ? fmt::format("{} of {}", binary_bytes(*l.knee_bytes_per_thread), share)
                                   : fmt::format("? of {}", share);
  };
  for (std::size_t i = 0; i < m.all.levels.size(); ++i) {
    const auto& one = m.single.levels[i];
    const auto& all = m.all.levels[i];
    std::string size = "-";
    if (i < m.cpu.caches.size())
      size = fmt::format("{} x {}", binary_bytes(double(m.cpu.caches[i].size_bytes)),
                         m.cpu.caches[i].instances_among(m.all.cpus));
    else if (m.cpu.memory_bytes)
      size = reports::si(double(*m.cpu.memory_bytes), "B");
    std::vector<std::string> row = {all.name, size};
    if (!m.quick) {
      row.push_back(knee(one));
      if (two) row.push_back(knee(all));
    }
    row.push_back(reports::si(one.read.max, "B/s"));
    if (two) row.push_back(reports::si(all.read.max, "B/s"));
    row.push_back(reports::si(one.triad.max, "B/s"));
    if (two) row.push_back(reports::si(all.triad.max, "B/s"));
    levels.add_row(row);
  }
  out += levels.render();
  if (!m.quick) out += "knee: working set per thread where read bandwidth falls halfway (log scale) to the next level\n";
  return out;
}

}  // namespace roofline
