// roofline search: the best deployment of a model on N devices for a workload under TTFT and TPOT targets.
#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/text_file.hpp"
#include "reports/output_file.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/present/search_output.hpp"
#include "roofline/search/search.hpp"
#include "roofline/simulate/error.hpp"

namespace roofline::cli {

namespace {

void add_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>(), "model preset (roofline list models) or a Hugging Face config.json");
  add_hardware_options(desc, "hardware preset (roofline list hardware) or a profile JSON file");
  desc.add_options()
      ("gpus", po::value<std::string>()->default_value("8"), "devices to deploy on")
      ("isl", po::value<std::string>()->default_value("lognormal:1024:0.6"),
       "input (prompt) tokens: fixed:N | uniform:A:B | lognormal:MEAN:SIGMA")
      ("osl", po::value<std::string>()->default_value("lognormal:256:0.6"), "output tokens (same forms)")
      ("rate", po::value<std::string>(), "Poisson arrivals, requests/s (default inf: all at t = 0)")
      ("requests", po::value<std::string>()->default_value("2000"), "requests in the workload")
      ("seed", po::value<std::string>()->default_value("1"), "seed of the workload (and of acceptance draws)")
      ("ttft", po::value<std::string>(), "target: 90th percentile time to first token, seconds")
      ("tpot", po::value<std::string>(), "target: 90th percentile time per output token, seconds")
      ("space", po::value<std::string>(), "a JSON file of the knobs to try (see roofline/search/README.md)")
      ("scheduler", po::value<std::string>()->default_value("chunked"), "continuous | chunked (each candidate)")
      ("time-model", po::value<std::string>()->default_value("bound"),
       "op times: bound (the roofline) | calibrated (the profile's efficiency figures or calibration)")
      ("kv-link", po::value<std::string>()->default_value("interconnect"),
       "disaggregated pools' KV link: interconnect | ib-ndr | ib-hdr | eth-400g | eth-200g | eth-100g | GB/s,\n"
       "each with an optional :LATENCY_S")
      ("draft-model", po::value<std::string>(), "speculative decoding's draft (preset, config.json or mtp): tried with "
                                                "and without")
      ("spec-tokens", po::value<std::string>()->default_value("4"), "tokens drafted per target step")
      ("accept-rate", po::value<std::string>()->default_value("0.7"), "probability each draft token is accepted")
      ("threads", po::value<std::string>()->default_value("0"), "simulations in parallel (0: every core)")
      ("exhaustive", po::bool_switch(), "simulate every candidate (no reuse of runs that never filled their batch)");
  add_precision_options(desc);
  desc.add_options()
      ("format", po::value<std::string>()->default_value("table"), "table | json | csv")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("chart", po::value<std::string>(), "the Pareto chart: an image path ending in .png or .svg")
      ("html", po::value<std::string>(), "an HTML report of the search")
      ("top", po::value<std::string>()->default_value("12"), "frontier rows in the table")
      ("help,h", "this help");
}

search::Space read_space(const po::variables_map& vm) {
  if (!vm.count("space")) return {};
  const std::string path = vm["space"].as<std::string>();
  const auto text = common::read_text_file(path);
  if (!text) throw search::SearchError("search space " + path, "", common::unreadable_reason(path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    throw search::SearchError("search space " + path, "", std::string("is not valid JSON: ") + e.what());
  }
  return search::parse_space(j, "search space " + path);
}

}  // namespace

int search(int argc, const char* const* argv) {
  po::options_description desc("roofline search: the best deployment under TTFT and TPOT targets\n\nOptions");
  add_options(desc);
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc
              << "\nExample:\n  roofline search --model llama-3-70b --hw h100-sxm --gpus 8 --isl lognormal:1024:0.6 "
                 "--osl lognormal:256:0.6 --rate 20 --ttft 2 --tpot 0.05 --chart pareto.svg\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json" && format != "csv")
    throw UsageError("format", "expected table, json or csv, got '" + format + "'");
  search::Problem p;
  p.gpus = int(parse_integer("gpus", vm["gpus"].as<std::string>(), 1, 4096));
  p.targets.ttft_p90_s = parse_number("ttft", required(vm, "ttft"), 1e-6, 1e6);
  p.targets.tpot_p90_s = parse_number("tpot", required(vm, "tpot"), 1e-6, 1e6);
  if (p.targets.ttft_p90_s <= 0) throw UsageError("ttft", "must be positive");
  if (p.targets.tpot_p90_s <= 0) throw UsageError("tpot", "must be positive");
  const std::string sched = vm["scheduler"].as<std::string>();
  if (sched == "continuous") p.scheduler = sim::Scheduler::continuous;
  else if (sched != "chunked") throw UsageError("scheduler", "expected continuous or chunked, got '" + sched + "'");
  p.calibrated = calibrated_time_model(vm);
  check_draft_options(vm);
  p.spec_tokens = parse_integer("spec-tokens", vm["spec-tokens"].as<std::string>(), 1, 64);
  p.accept_rate = parse_number("accept-rate", vm["accept-rate"].as<std::string>(), 0, 1);
  const int threads = int(parse_integer("threads", vm["threads"].as<std::string>(), 0, 1024));
  const auto top = std::size_t(parse_integer("top", vm["top"].as<std::string>(), 2, 1 << 20));
  read_precision_options(vm, p.scenario);
  p.workload = generated_workload(vm, "isl", "osl");
  p.seed = std::uint64_t(parse_integer("seed", vm["seed"].as<std::string>(), 0, std::numeric_limits<std::int64_t>::max()));
  const search::Space space = read_space(vm);

  p.model = opmodel::resolve_model(required(vm, "model"));
  p.scenario = with_checkpoint_formats(vm, p.model, p.scenario);
  if (vm.count("draft-model")) {
    const std::string draft = vm["draft-model"].as<std::string>();
    p.draft = draft == "mtp" ? opmodel::mtp_draft(p.model) : opmodel::resolve_model(draft);
  }
  p.hw = hardware_profile(vm);
  p.link = kv_link(vm, p.hw);

  search::SpaceContext ctx;
  ctx.gpus = p.gpus;
  ctx.moe = p.model.is_moe();
  ctx.fp8_compute = p.hw.peak(hardware::Precision::fp8).has_value();
  ctx.act = p.scenario.act_dtype;
  ctx.checkpoint_quantized = opmodel::bytes_of(p.scenario.weight_dtype) < 2 || p.scenario.modules.experts ||
                             p.scenario.modules.attention || p.scenario.modules.mlp;
  ctx.draft = p.draft.has_value();
  const std::vector<search::Deployment> candidates = search::enumerate(space, ctx);
  if (candidates.empty())
    throw UsageError("space", fmt::format("leaves no deployment on {} devices (every tp x pp exceeds them)", p.gpus));

  const auto start = std::chrono::steady_clock::now();
  search::SearchResult result;
  try {
    result = search::run_search(p, candidates, {!vm["exhaustive"].as<bool>(), threads});
  } catch (const sim::OptionError& e) {
    throw UsageError(e.option(), e.problem());
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const SearchRun run{p, result, top};
  std::string text = format == "json" ? to_json(run).dump(2) + "\n" : format == "csv" ? to_csv(run) : render_table(run);
  if (format == "table") text += fmt::format("\nsearched in {:.2f} s\n", elapsed);
  if (vm.count("chart")) {
    const reports::XYChart chart = pareto_chart(run);
    if (chart.series.empty()) throw search::SearchError("search", "", "no deployment could be simulated: no chart to draw");
    reports::render(chart, vm["chart"].as<std::string>());
  }
  if (vm.count("html"))
    reports::write_file_atomically(
        vm["html"].as<std::string>(),
        reports::render_page({fmt::format("roofline search: {} on {} x {}", p.model.name, p.gpus, p.hw.name),
                              search_sections(run)}));
  emit(vm["output"].as<std::string>(), text);
  return 0;
}

}  // namespace roofline::cli
