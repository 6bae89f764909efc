// roofline validate: the reference engine's measured kernel times (or times measured elsewhere, --measured)
// against opmodel's roofline predictions on a profile, op by op, with accuracy statistics.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/linear.hpp"
#include "engine/op_names.hpp"
#include "hardware/host/host_profile.hpp"
#include "hardware/host/measure.hpp"
#include "hardware/presets.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/validate/calibration_fit.hpp"
#include "roofline/validate/engine_setup.hpp"
#include "common/text_file.hpp"
#include "roofline/validate/validation.hpp"
#include "roofline/present/validation_output.hpp"
#include "roofline/validate/run.hpp"
#include "roofline/validate/sweep.hpp"

namespace roofline::cli {
namespace {

std::string read_file(const std::string& path) {
  auto text = common::read_text_file(path);
  if (!text) throw ValidationError(fmt::format("{}: cannot read the file", path));
  return std::move(*text);
}

hardware::Profile profile_of(const po::variables_map& vm) {
  if (vm.count("hw")) return hardware_profile(vm);
  reject_given(vm, {"hw-patch", "hw-set"}, "applies to --hw's profile: give --hw too");
  // No profile given: measure this host quickly (as `measure-host --quick`), the roofs the engine runs under.
  hardware::host::MeasureOptions o;
  o.quick = true;
  return hardware::host::to_profile(hardware::host::measure_host(o), "host (measured, quick)");
}

// The engine at one weight format: builds the weights, times the points, joins them to the predictions.
struct EngineRun {
  const ConfigText& text;
  const opmodel::ModelConfig& model;
  std::string checkpoint;
  std::uint64_t seed = 0;
  bool tiled = true;
  EngineTiming timing;
  const hardware::Profile& hw;

  std::vector<ValidationRow> rows(const opmodel::Scenario& base, const std::vector<EnginePoint>& points) const {
    engine::WeightOptions wo;
    switch (base.weight_dtype) {
      case opmodel::DType::fp32: wo.format = engine::WeightFormat::f32; break;
      case opmodel::DType::bf16: wo.format = engine::WeightFormat::bf16; break;
      case opmodel::DType::int8: wo.format = engine::WeightFormat::int8; break;
      default: throw UsageError("wdtype", "the engine stores weights as fp32, bf16 or int8");
    }
    wo.group_size = base.group_size;
    const engine::Config config = engine::parse_config(text.text, text.origin);
    const engine::Weights weights = engine_weights(config, checkpoint, seed, wo);
    engine::Model engine_model(weights, tiled ? engine::AttentionKind::tiled : engine::AttentionKind::naive);
    engine::Probe probe;
    time_engine(engine_model, points, timing, probe);
    const std::vector<Measurement> measured = measurements_from_records(probe.records);
    return validate_ops(model, base, hw, measured);
  }
};

// Marks each row's half, fits the calibration on the fit half, applies it to every row, and judges it on the
// held-out half. command: what measured the rows, for the calibration's source.
void calibrate(std::vector<ValidationRow>& rows, const std::function<bool(const StepKey&)>& held_out,
               const std::string& command, ValidationReport& report) {
  std::vector<ValidationRow> fit, held;
  for (auto& r : rows) {
    r.half = held_out(r.step) ? "held-out" : "fit";
    if (r.half == "fit") fit.push_back(r);
  }
  report.calibration = fit_calibration(fit, fmt::format("{} on {}, {}: {} of {} measured ops (the fit half), {}", command,
                                                        report.model, utc_now(), fit.size(), rows.size(), report.source));
  apply_calibration(*report.calibration, rows);
  for (const auto& r : rows)
    if (r.half == "held-out") held.push_back(r);
  report.held_out = statistics(held);
  const auto unfitted = std::count_if(held.begin(), held.end(), [](const ValidationRow& r) { return !r.expected_s; });
  if (unfitted > 0)
    report.notes.push_back(fmt::format("{} held-out ops have no fit: no op of their kernel, weights and phase was in "
                                       "the fit half",
                                       unfitted));
}

void save_profile(const po::variables_map& vm, const hardware::Profile& hw, const ValidationReport& report) {
  if (!vm.count("save-profile")) return;
  hardware::Profile calibrated = hw;
  calibrated.calibration = report.calibration;
  emit(vm["save-profile"].as<std::string>(), hardware::to_json(calibrated).dump(2) + "\n");
}

// Issue 5's sweep (roofline/validation_sweep.hpp) at each weight format: the weights are built once per
// format and every shape timed on them; the calibration is fitted on one half of the shapes and judged on the
// other.
void sweep(const EngineRun& er, opmodel::Scenario base, double kv_budget_gib, ValidationReport& report) {
  const engine::Config config = engine::parse_config(er.text.text, er.text.origin);
  // The int8 pass comes last, minutes in: a group size its layers cannot take is an error before the first.
  const std::int64_t g = base.group_size;
  for (const std::int64_t width : {config.dim, config.q_dim(), config.hidden_dim})  // q/k/v/gate/up, o, down
    if (g > 0 && !engine::group_fits(g, width))
      throw UsageError("group-size", fmt::format("{} does not fit the int8 pass: it must divide every linear layer's "
                                                 "input width ({} here) and be a multiple of 16; 0 = per channel",
                                                 g, width));
  // K and V rows of every layer, fp32 (the engine's KV cache).
  const double kv_bytes_per_token = 2.0 * double(config.n_layers) * double(config.kv_dim()) * 4;
  const SweepPlan plan = sweep_plan(kv_bytes_per_token, kv_budget_gib * double(1ull << 30));
  std::vector<ValidationRow> rows;
  // Progress on stderr: a sweep of 7B layers takes minutes, and the report comes only at the end.
  const auto start = std::chrono::steady_clock::now();
  for (opmodel::DType w : {opmodel::DType::fp32, opmodel::DType::bf16, opmodel::DType::int8}) {
    base.weight_dtype = w;
    std::cerr << fmt::format("validate --sweep: {} weights, {} shapes...", to_string(w), plan.points.size())
              << std::flush;
    for (auto& r : er.rows(base, plan.points)) rows.push_back(std::move(r));
    std::cerr << fmt::format(" done ({:.0f} s elapsed)\n",
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  calibrate(rows, [&](const StepKey& k) { return plan.is_held_out(k); }, "roofline validate --sweep", report);
  report.scenario = fmt::format("weights fp32, bf16 and int8 (group {}), activations and KV fp32, {} attention, unfused",
                                base.group_size, er.tiled ? "flash" : "naive");
  for (const EnginePoint& p : plan.skipped)
    report.notes.push_back(fmt::format("skipped decode batch {} context {}: its KV cache exceeds {:g} GiB (--sweep-kv-gib)",
                                       p.batch, p.length, kv_budget_gib));
  report.rows = std::move(rows);
  report.stats = statistics(report.rows);
}

void emit_report(const po::variables_map& vm, const std::string& format, const ValidationReport& report) {
  std::string out;
  if (format == "json")
    out = validation_json(report).dump(2) + "\n";
  else if (format == "csv")
    out = validation_csv(report);
  else
    out = validation_table(report);
  emit(vm["output"].as<std::string>(), out);
}

}  // namespace

int validate(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline validate: measured kernel times against the roofline predictions, op by op\n\nOptions");
  desc.add_options()
      ("model", po::value<std::string>(), "model preset or config.json")
      ("layers", po::value<std::string>(), "override the config's layer count")
      ("weights", po::value<std::string>()->default_value(""), "safetensors checkpoint (default: seeded random)")
      ;
  add_hardware_options(desc, "hardware preset or profile JSON (default: measure this host, quick)");
  desc.add_options()
      ("measured", po::value<std::string>(),
       "CSV of times measured elsewhere (op,phase,batch,q_len,kv_len,seconds per op instance) instead of the engine")
      ("wdtype", po::value<std::string>()->default_value("fp32"), "weight dtype (engine: fp32, bf16 or int8)")
      ("adtype", po::value<std::string>()->default_value("fp32"), "activation dtype (engine: fp32)")
      ("kvdtype", po::value<std::string>()->default_value("fp32"), "KV cache dtype (engine: fp32)")
      ("group-size", po::value<std::string>()->default_value("128"), "int8: inputs per scale")
      ("attn", po::value<std::string>()->default_value("flash"), "flash (engine: tiled) | naive")
      ("batch", po::value<std::string>()->default_value("1"), "sequences per step")
      ("prompt", po::value<std::string>()->default_value("128"), "prefill tokens per sequence")
      ("kv-len", po::value<std::string>()->default_value("512"), "tokens cached before the decode step")
      ("repetitions", po::value<std::string>()->default_value("5"), "timed runs of each step after the warm-up")
      ("warmup", po::value<std::string>()->default_value("1"), "untimed runs of each step first")
      ("threads", po::value<std::string>(), "engine threads (default: every CPU)")
      ("seed", po::value<std::string>()->default_value("0"), "seed of the random weights")
      ("sweep", po::bool_switch(), "engine: prefill 16..2048, decode contexts 128..8192, batch 1..64, weights fp32, "
                                   "bf16 and int8; fit the efficiencies on half the shapes, report the other half")
      ("sweep-kv-gib", po::value<std::string>()->default_value("2"),
       "--sweep: skip decode points whose KV cache exceeds this many GiB")
      ("point-seconds", po::value<std::string>()->default_value("1"),
       "--sweep: stop repeating a shape once its timed runs took this long (at least 3 runs)")
      ("save-profile", po::value<std::string>(),
       "--sweep or --measured: fit the calibration on half the step shapes, judge it on the other half, and write "
       "the profile (--hw's, or the measured one) with it to this file; `roofline analyze --hw FILE` then shows "
       "expected times")
      ("format", po::value<std::string>()->default_value("table"), "table | json | csv")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("help,h", "this help");
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc << "\nExamples:\n  roofline validate --model tiny --prompt 64 --kv-len 256\n"
                         "  roofline validate --model llama-2-7b --hw h100-sxm --wdtype fp16 --adtype fp16 "
                         "--kvdtype fp16 --measured times.csv\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json" && format != "csv")
    throw UsageError("format", fmt::format("expected table, json or csv, got '{}'", format));
  if (vm.count("save-profile") && !vm["sweep"].as<bool>() && !vm.count("measured"))
    throw UsageError("save-profile", "stores the calibration that --sweep or --measured fits: add one of them");
  const std::string attn = vm["attn"].as<std::string>();
  if (attn != "flash" && attn != "naive") throw UsageError("attn", fmt::format("expected flash or naive, got '{}'", attn));

  EngineModelSource src{required(vm, "model"), std::nullopt};
  if (vm.count("layers")) src.layers = parse_integer("layers", vm["layers"].as<std::string>(), 1, 1 << 16);
  const ConfigText text = engine_config_text(src);
  const opmodel::ModelConfig model = opmodel::parse_model_config(nlohmann::json::parse(text.text), src.model, text.origin);

  opmodel::Scenario base;
  base.weight_dtype = dtype_option(vm, "wdtype");
  base.act_dtype = dtype_option(vm, "adtype");
  base.kv_dtype = dtype_option(vm, "kvdtype");
  base.group_size = parse_integer("group-size", vm["group-size"].as<std::string>(), 0, 1 << 20);
  base.attention = attn == "flash" ? opmodel::AttentionImpl::flash : opmodel::AttentionImpl::naive;

  ValidationReport report;
  report.model = fmt::format("{} ({} layer{})", text.origin, model.num_layers, model.num_layers == 1 ? "" : "s");
  report.scenario = fmt::format("weights {}, activations {}, KV {}, {} attention, unfused", to_string(base.weight_dtype),
                                to_string(base.act_dtype), to_string(base.kv_dtype), attn);
  std::vector<Measurement> measured;
  std::vector<StepKey> shapes;  // of the measurements, sorted and distinct
  std::optional<hardware::Profile> hw;
  if (vm.count("measured")) {
    if (vm["sweep"].as<bool>()) throw UsageError("sweep", "runs the engine: not with --measured");
    const std::string path = vm["measured"].as<std::string>();
    measured = parse_measured_csv(read_file(path), path);
    // Times measured elsewhere calibrate their profile too: the halves alternate over the distinct step
    // shapes in order, as the sweep's do.
    for (const auto& m : measured) shapes.push_back(m.step);
    std::sort(shapes.begin(), shapes.end());
    shapes.erase(std::unique(shapes.begin(), shapes.end()), shapes.end());
    if (vm.count("save-profile") && shapes.size() < 2)
      throw UsageError("save-profile", "needs measurements at two or more step shapes: half of them are held out");
    report.source = fmt::format("measured: {}", path);
    hw = profile_of(vm);
  } else {
    if (base.act_dtype != opmodel::DType::fp32 || base.kv_dtype != opmodel::DType::fp32)
      throw UsageError("the engine runs fp32 activations and KV cache: --adtype and --kvdtype must be fp32");
    if (vm.count("threads")) omp_set_num_threads(int(parse_integer("threads", vm["threads"].as<std::string>(), 1, 1024)));
    EngineTiming timing;
    timing.repetitions = int(parse_integer("repetitions", vm["repetitions"].as<std::string>(), 1, 10000));
    timing.warmup = int(parse_integer("warmup", vm["warmup"].as<std::string>(), 0, 10000));
    const std::int64_t batch = parse_integer("batch", vm["batch"].as<std::string>(), 1, 4096);
    const std::vector<EnginePoint> points = {
        {engine::Phase::prefill, batch, parse_integer("prompt", vm["prompt"].as<std::string>(), 1, 1 << 20)},
        {engine::Phase::decode, batch, parse_integer("kv-len", vm["kv-len"].as<std::string>(), 0, 1 << 20)}};
    const auto seed = std::uint64_t(parse_integer("seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
    const bool sweeping = vm["sweep"].as<bool>();
    const double kv_gib = parse_number("sweep-kv-gib", vm["sweep-kv-gib"].as<std::string>(), 1e-3, 1e6);
    // A sweep repeats cheap shapes more (their medians steady the fit) and stops a shape after about
    // --point-seconds of timed runs (a 2048-token prefill of 7B layers takes seconds).
    if (sweeping && vm["repetitions"].defaulted()) timing.repetitions = 9;
    if (sweeping) timing.point_seconds = parse_number("point-seconds", vm["point-seconds"].as<std::string>(), 0, 1e6);
    report.source =
        timing.point_seconds > 0
            ? fmt::format("engine, {} threads, {} warm-up + {} to {} timed runs per step (until {:g} s), steps visited "
                          "in turn, median over layers x runs",
                          omp_get_max_threads(), timing.warmup, std::min(timing.min_repetitions, timing.repetitions),
                          timing.repetitions, timing.point_seconds)
            : fmt::format("engine, {} threads, {} warm-up + {} timed runs per step, steps visited in turn, median over "
                          "layers x runs",
                          omp_get_max_threads(), timing.warmup, timing.repetitions);
    hw = profile_of(vm);  // before the weights exist: the measurement wants an idle machine
    const EngineRun er{text, model, vm["weights"].as<std::string>(), seed, attn == "flash", timing, *hw};
    report.hardware = hw->name;
    if (sweeping) {
      sweep(er, base, kv_gib, report);
      save_profile(vm, *hw, report);
    } else {
      report.rows = er.rows(base, points);
      report.stats = statistics(report.rows);
    }
    emit_report(vm, format, report);
    return 0;
  }
  report.hardware = hw->name;
  report.rows = validate_ops(model, base, *hw, measured);
  if (vm.count("save-profile")) {
    calibrate(report.rows, [&](const StepKey& k) {
      return (std::lower_bound(shapes.begin(), shapes.end(), k) - shapes.begin()) % 2 == 1;
    }, "roofline validate --measured", report);
    save_profile(vm, *hw, report);
  }
  report.stats = statistics(report.rows);
  emit_report(vm, format, report);
  return 0;
}

}  // namespace roofline::cli
