// roofline measure-host: measures this machine's roofs (peak FLOP/s per precision, bandwidth of each memory
// level) and writes them as a hardware profile, usable as `roofline analyze --hw host.json`.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/host/host_profile.hpp"
#include "hardware/host/measure.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace roofline::cli {
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

// The figures of both runs side by side, the cache sizes the system reports beside the measured knees.
std::string summary(const HostMeasurement& m) {
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

// One self-overwriting status line on the terminal.
void show_progress(const hardware::host::Progress& p) {
  std::fprintf(stderr, "\r\033[K[%3d/%d] %s", p.step + 1, p.steps, p.what.c_str());
  std::fflush(stderr);
}

}  // namespace

int measure_host(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline measure-host: measure this machine's roofs (peak FLOP/s per precision, bandwidth of each memory "
      "level) into a hardware profile for --hw\n\nOptions");
  desc.add_options()
      ("output,o", po::value<std::string>()->default_value("-"), "profile JSON file (written whole or not at all)")
      ("quick", po::bool_switch(), "one point per level, short repetitions (under 5 s): for tests and CI")
      ("threads", po::value<std::string>(), "threads of the all-cores run (default: every CPU this process may use)")
      ("name", po::value<std::string>()->default_value("host"), "profile name")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline measure-host -o host.json && roofline analyze --hw host.json "
                         "--model llama-2-7b --prompt 512 --wdtype fp32 --adtype fp32 --kvdtype fp32\n";
    return 0;
  }
  hardware::host::MeasureOptions options;
  options.quick = vm["quick"].as<bool>();
  if (vm.count("threads")) {
    const auto cpus = static_cast<std::int64_t>(hardware::host::detect_cpu().cpus.size());
    options.threads = static_cast<int>(parse_integer("threads", vm["threads"].as<std::string>(), 1, cpus));
  }
  const std::string name = vm["name"].as<std::string>();
  if (name.empty()) throw UsageError("name", "must not be empty");
  const bool terminal = isatty(STDERR_FILENO);
  if (terminal) options.on_progress = show_progress;

  const HostMeasurement m = hardware::host::measure_host(options);
  if (terminal) std::fputs("\r\033[K", stderr);
  const std::string output = vm["output"].as<std::string>();
  emit(output, hardware::to_json(hardware::host::to_profile(m, name)).dump(2) + "\n");
  // The JSON owns stdout when it goes there; the human summary then goes to stderr.
  (output == "-" ? std::cerr : std::cout) << summary(m);
  return 0;
}

}  // namespace roofline::cli
