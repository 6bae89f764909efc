// roofline analyze: per-op roofline of the prefill and decode steps, the request and the memory.
#include <iostream>
#include <optional>

#include "hardware/presets.hpp"
#include "roofline/present/analysis_output.hpp"
#include "roofline/present/exploration_output.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace roofline::cli {

int analyze(int argc, const char* const* argv) {
  po::options_description desc("roofline analyze: per-operator roofline of a model on a device\n\nOptions");
  add_analysis_options(desc);
  add_chart_options(desc);
  desc.add_options()
      ("explore", po::bool_switch(),
       "add what the charts show: decode step against batch and context, memory against batch (implied by\n"
       "--compare, --batch-sweep and --max-context)")
      ("format", po::value<std::string>()->default_value("table"), "table | json | csv")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline analyze --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 "
                         "--gen 128\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json" && format != "csv")
    throw UsageError("format", "expected table, json or csv, got '" + format + "'");
  AnalysisRequest request = analysis_request(vm);
  const auto model = opmodel::resolve_model(required(vm, "model"));
  request.scenario = with_checkpoint_formats(vm, model, request.scenario);
  const auto hw = hardware_profile(vm);

  const bool exploring = vm["explore"].as<bool>() || vm.count("compare") || vm.count("batch-sweep") ||
                         !vm["max-context"].defaulted();
  if (exploring && format == "csv")
    throw UsageError("format", "csv holds the per-op rows only; the exploration is in json and table");
  const ExploreSettings settings = chart_settings(vm);

  const Analysis a = roofline::analyze(model, hw, request);
  handle_warnings(vm, a.warnings, "analyze");
  const std::optional<Exploration> e = exploring ? std::optional(explore(a, settings)) : std::nullopt;
  std::string text;
  if (format == "json") {
    nlohmann::json j = to_json(a);
    if (e) j["exploration"] = to_json(*e);
    text = j.dump(2) + "\n";
  } else if (format == "csv") {
    text = render_csv(a);
  } else {
    text = render_table(a);
    if (e) text.append("\n").append(render_table(a, *e));
  }
  emit(vm["output"].as<std::string>(), text);
  return 0;
}

}  // namespace roofline::cli
