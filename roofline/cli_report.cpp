// roofline report: one self-contained HTML page of an analysis (context, summary, per-op tables, inline SVG
// charts), written whole or not at all.
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "roofline/cli_common.hpp"
#include "roofline/commands.hpp"
#include "roofline/html_report.hpp"

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
      "roofline report: one self-contained HTML page of an analysis (tables and inline SVG charts)\n\nOptions");
  add_analysis_options(desc);
  add_chart_options(desc);
  desc.add_options()
      ("output,o", po::value<std::string>(), "the HTML file (written whole or not at all; - for stdout)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline report --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 "
                         "--gen 128 -o report.html\n";
    return 0;
  }
  const std::string output = required(vm, "output");
  const AnalysisRequest request = analysis_request(vm);
  const ChartSettings settings = chart_settings(vm);
  const auto model = opmodel::resolve_model(required(vm, "model"));
  const auto hw = hardware::resolve_profile(required(vm, "hw"));
  const Analysis a = roofline::analyze(model, hw, request);

  const ReportInfo info{ROOFLINE_VERSION, utc_now(), command_line(argc, argv)};
  const reports::HtmlPage page{"roofline report: " + analysis_title(a), analysis_sections(a, settings, info)};
  emit(output, reports::render_page(page));
  if (output != "-") std::cerr << "wrote " << output << "\n";
  return 0;
}

}  // namespace roofline::cli
