// The roofline program: dispatches to a subcommand; the only place that prints errors and picks exit codes
// (0 ok, 1 bad input or failure, 2 bad command line).
#include <cstring>
#include <iostream>
#include <string_view>

#include "common/input_error.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: roofline <command> [options]\n"
    "\n"
    "commands:\n"
    "  analyze       per-operator roofline of a model's prefill and decode steps on a device\n"
    "  plot          charts (PNG or SVG) of the same analysis (roofline, breakdown, batch, context, memory),\n"
    "                or of a validation's measured points (--measured validate.json)\n"
    "  report        one self-contained HTML page of the analysis or of a validation: tables and charts\n"
    "  simulate      serve a workload (batch, trace or generated) over time: latency, throughput, KV use\n"
    "  search        the best deployment (parallelism, pools, batch, formats) under TTFT and TPOT targets\n"
    "  measure-host  measure this machine's roofs into a hardware profile (use it as --hw FILE)\n"
    "  run           generate with the reference engine (random or safetensors weights), timing every kernel\n"
    "  fidelity      published end-to-end measurements against the expected and bound figures\n"
    "  validate      measured kernel times (the engine's, or a CSV) against the roofline predictions, per op\n"
    "  list          list models | hardware | ops\n"
    "\n"
    "`roofline <command> --help` shows a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string_view command = argv[1];
  const char* const* sub_argv = argv + 1;  // the subcommand sees its own name as argv[0]
  const int sub_argc = argc - 1;
  try {
    if (command == "analyze") return roofline::cli::analyze(sub_argc, sub_argv);
    if (command == "fidelity") return roofline::cli::fidelity(sub_argc, sub_argv);
    if (command == "list") return roofline::cli::list(sub_argc, sub_argv);
    if (command == "measure-host") return roofline::cli::measure_host(sub_argc, sub_argv);
    if (command == "plot") return roofline::cli::plot(sub_argc, sub_argv);
    if (command == "report") return roofline::cli::report(sub_argc, sub_argv);
    if (command == "run") return roofline::cli::run(sub_argc, sub_argv);
    if (command == "simulate") return roofline::cli::simulate(sub_argc, sub_argv);
    if (command == "search") return roofline::cli::search(sub_argc, sub_argv);
    if (command == "validate") return roofline::cli::validate(sub_argc, sub_argv);
    std::cerr << "roofline: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const roofline::cli::UsageError& e) {
    std::cerr << "roofline " << command << ": " << e.what() << "\n(see roofline " << command << " --help)\n";
    return 2;
  } catch (const common::InputError& e) {  // a config, profile, trace, weights or CSV file at fault
    std::cerr << "roofline " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // anything else that stopped the command (an unwritable output, ...)
    std::cerr << "roofline " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}
