// roofline measure-host: measures this machine's roofs (peak FLOP/s per precision, bandwidth of each memory
// level) and writes them as a hardware profile, usable as `roofline analyze --hw host.json`.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hardware/host/host_profile.hpp"
#include "hardware/host/measure.hpp"
#include "roofline/present/host_output.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace roofline::cli {
namespace {

using hardware::host::HostMeasurement;

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
  (output == "-" ? std::cerr : std::cout) << render_table(m);
  return 0;
}

}  // namespace roofline::cli
