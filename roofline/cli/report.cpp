// roofline report: one self-contained HTML page of an analysis (context, summary, per-op tables, inline SVG
// charts), of a validation (--validation: statistics, per-op table, roofline with measured points), or of both,
// written whole or not at all.
#include <ctime>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/present/html_report.hpp"
#include "roofline/present/validation_report.hpp"

namespace roofline::cli {

namespace {

// The command line as a shell would take it back: words with anything but safe characters single-quoted.
std::string command_line(int argc, const char* const* argv) {
  std::string line = "roofline";
  for (int i = 0; i < argc; ++i) {
    const std::string word = argv[i];
    line += ' ';
    if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                "-_=.,/:@+") == std::string::npos) {
      line += word;
      continue;
    }
    line += '\'';
    for (char c : word) {
      if (c == '\'') line += "'\\''";
      else line += c;
    }
    line += '\'';
  }
  return line;
}

}  // namespace

int report(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline report: one self-contained HTML page of an analysis or a validation (tables and inline SVG "
      "charts)\n\nOptions");
  add_analysis_options(desc);
  add_chart_options(desc);
  desc.add_options()
      ("validation", po::value<std::string>(),
       "a validate JSON (roofline validate --format json): its statistics, per-op table and roofline "
       "with measured points (alone, or after --model's analysis; --hw is optional then)");
  add_measured_options(desc);
  desc.add_options()
      ("output,o", po::value<std::string>(), "the HTML file (written whole or not at all; - for stdout)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExamples: roofline report --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 "
                         "--gen 128 -o report.html\n          roofline report --validation validate.json --hw host.json "
                         "-o validation.html\n";
    return 0;
  }
  const std::string output = required(vm, "output");
  const bool with_analysis = vm.count("model") > 0, with_validation = vm.count("validation") > 0;
  if (!with_analysis && !with_validation) throw UsageError("model", "is required (or --validation FILE)");
  if (!with_analysis) reject_given(vm, analysis_option_names(), "applies to an analysis: give --model too");
  if (!with_validation) reject_given(vm, {"measured-filter", "measured-points"}, "applies to --validation only");
  const ReportInfo info{ROOFLINE_VERSION, utc_now(), command_line(argc, argv)};

  const std::optional<hardware::Profile> hw =
      with_analysis ? std::optional(hardware_profile(vm)) : optional_hardware_profile(vm);
  std::string title;
  std::vector<reports::HtmlSection> sections;
  if (with_analysis) {
    AnalysisRequest request = analysis_request(vm);
    const ExploreSettings settings = chart_settings(vm);
    const auto model = opmodel::resolve_model(required(vm, "model"));
    request.scenario = with_checkpoint_formats(vm, model, request.scenario);
    const Analysis a = roofline::analyze(model, *hw, request);
    handle_warnings(vm, a.warnings, "report");
    title = analysis_title(a);
    sections = analysis_sections(a, explore(a, settings), info);
  }
  if (with_validation) {
    const ValidationFile v = read_validation_file(vm["validation"].as<std::string>());
    const MeasuredSelection selection = measured_selection(vm, v);
    title = title.empty() ? validation_title(v) : fmt::format("{}; {}", title, validation_title(v));
    for (auto& s : validation_sections(v, hw, selection, info)) sections.push_back(std::move(s));
  }
  emit(output, reports::render_page({fmt::format("roofline report: {}", title), sections}));
  if (output != "-") std::cerr << "wrote " << output << "\n";
  return 0;
}

}  // namespace roofline::cli
