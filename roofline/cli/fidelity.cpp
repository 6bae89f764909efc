// roofline fidelity: published end-to-end measurements against analyze's bound and expected figures.
#include <iostream>

#include "common/text_file.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/present/fidelity_output.hpp"

namespace roofline::cli {

int fidelity(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline fidelity: published end-to-end measurements against the expected and bound figures\n\nOptions");
  desc.add_options()
      ("table", po::value<std::string>()->default_value("docs/fidelity/measurements.csv"),
       "the measurements (CSV: id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source)")
      ("kernels", po::value<std::string>(),
       "judge GEMM kernels instead: measured kernel times against the presets' GEMM figures (CSV: "
       "hw,dtype,b,m,n,k,flops_per_s; docs/fidelity/gemm-kernels.csv)")
      ("format", po::value<std::string>()->default_value("table"), "table | markdown | json")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExample: roofline fidelity --format markdown -o docs/fidelity/fidelity.md\n"
                 "         roofline fidelity --kernels docs/fidelity/gemm-kernels.csv\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "markdown" && format != "json")
    throw UsageError("format", "expected table, markdown or json, got '" + format + "'");
  if (vm.count("kernels")) {
    const std::string path = vm["kernels"].as<std::string>();
    const auto text = common::read_text_file(path);
    if (!text) throw GemmTableError(path, "", common::unreadable_reason(path));
    const GemmFidelity f = judge_gemm_kernels(parse_gemm_csv(*text, path), path);
    emit(vm["output"].as<std::string>(), format == "json"       ? to_json(f).dump(2) + "\n"
                                         : format == "markdown" ? render_markdown(f)
                                                                : render_table(f));
    return 0;
  }
  const std::string path = vm["table"].as<std::string>();
  const auto text = common::read_text_file(path);
  if (!text) throw FidelityError(path, "", common::unreadable_reason(path));
  const Fidelity f = judge_fidelity(parse_fidelity_csv(*text, path));
  emit(vm["output"].as<std::string>(), format == "json"       ? to_json(f).dump(2) + "\n"
                                       : format == "markdown" ? render_markdown(f)
                                                              : render_table(f));
  return 0;
}

}  // namespace roofline::cli
