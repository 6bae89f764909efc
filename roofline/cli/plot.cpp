// roofline plot: the charts of an analysis, or the roofline chart of a validation (--measured), as PNG or SVG
// (with its gnuplot script and data beside it).
#include <iostream>
#include <optional>

#include "hardware/presets.hpp"
#include "roofline/present/charts.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"

namespace roofline::cli {

namespace {
enum class ChartKind { roofline, breakdown, batch, context, memory };

ChartKind chart_kind(const std::string& name) {
  if (name == "roofline") return ChartKind::roofline;
  if (name == "breakdown") return ChartKind::breakdown;
  if (name == "batch") return ChartKind::batch;
  if (name == "context") return ChartKind::context;
  if (name == "memory") return ChartKind::memory;
  throw UsageError("chart", "expected roofline, breakdown, batch, context or memory, got '" + name + "'");
}

// The roofline chart of a validate JSON: its ops' predicted and measured points, under --hw's roofs if given.
int plot_measured(const po::variables_map& vm, const std::string& output) {
  reject_given(vm, analysis_option_names(), "not with --measured: the chart is drawn from the validate JSON alone");
  if (chart_kind(vm["chart"].as<std::string>()) != ChartKind::roofline)
    throw UsageError("chart", "--measured draws the roofline chart only");
  const std::optional<hardware::Profile> hw = optional_hardware_profile(vm);
  const ValidationFile v = read_validation_file(vm["measured"].as<std::string>());
  const MeasuredSelection selection = measured_selection(vm, v);
  if (hw && hw->name != v.hardware)
    std::cerr << "note: " << v.origin << " was predicted on '" << v.hardware << "'; the roofs drawn are those of '"
              << hw->name << "'\n";
  const auto files = reports::render(measured_roofline_chart(v, select_ops(v, selection), hw), output);
  std::cerr << "wrote " << files.image << " (" << files.script << ", " << files.data << ")\n";
  return 0;
}

}  // namespace

int plot(int argc, const char* const* argv) {
  po::options_description desc("roofline plot: roofline chart of a model on a device\n\nOptions");
  add_analysis_options(desc);
  add_chart_options(desc);
  desc.add_options()
      ("measured", po::value<std::string>(),
       "a validate JSON (roofline validate --format json): plot its ops' predicted and measured "
       "points (no --model; --hw gives the roofs)");
  add_measured_options(desc);
  desc.add_options()
      ("chart", po::value<std::string>()->default_value("roofline"), "roofline | breakdown | batch | context | memory")
      ("output,o", po::value<std::string>(), "chart file: .png or .svg (script .gp and data .dat written beside)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline plot --model llama-2-7b --hw a100-80g-sxm --prompt 1024 --batch 8 "
                         "-o roofline.png\n         roofline plot --measured validate.json --hw host.json "
                         "-o measured.png\n";
    return 0;
  }
  const std::string output = required(vm, "output");
  if (vm.count("measured")) return plot_measured(vm, output);
  reject_given(vm, {"measured-filter", "measured-points"}, "applies to --measured only");
  const ChartKind kind = chart_kind(vm["chart"].as<std::string>());
  AnalysisRequest request = analysis_request(vm);
  const ExploreSettings settings = chart_settings(vm);
  const auto model = opmodel::resolve_model(required(vm, "model"));
  request.scenario = with_checkpoint_formats(vm, model, request.scenario);
  const auto hw = hardware_profile(vm);
  const Analysis a = roofline::analyze(model, hw, request);
  handle_warnings(vm, a.warnings, "plot");
  const Exploration e = explore(a, settings);
  reports::ChartFiles files;
  switch (kind) {
    case ChartKind::roofline: files = reports::render(roofline_chart(a, e), output); break;
    case ChartKind::breakdown: files = reports::render(breakdown_chart(a), output); break;
    case ChartKind::batch: files = reports::render(batch_chart(a, e), output); break;
    case ChartKind::context: files = reports::render(context_chart(a, e), output); break;
    case ChartKind::memory: files = reports::render(memory_chart(a, e), output); break;
  }
  std::cerr << "wrote " << files.image << " (" << files.script << ", " << files.data << ")\n";
  return 0;
}

}  // namespace roofline::cli
