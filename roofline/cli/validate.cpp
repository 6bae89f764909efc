// roofline validate: the reference engine's measured kernel times (or times measured elsewhere, --measured)
// against opmodel's roofline predictions on a profile, op by op, with accuracy statistics.
#include <omp.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/linear.hpp"
#include "engine/op_names.hpp"
#include "hardware/host/host_profile.hpp"
#include "hardware/host/measure.hpp"
#include "hardware/presets.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/validate/engine_validation.hpp"
#include "common/text_file.hpp"
#include "roofline/validate/validation.hpp"
#include "roofline/present/validation_output.hpp"

namespace roofline::cli {
namespace {

std::string read_file(const std::string& path) {
  auto text = common::read_text_file(path);
  if (!text) throw ValidationError(fmt::format("{}: cannot read the file", path));
  return std::move(*text);
}

hardware::Profile profile_of(const po::variables_map& vm) {
  if (auto hw = optional_hardware_profile(vm)) return std::move(*hw);
  // No profile given: measure this host quickly (as `measure-host --quick`), the roofs the engine runs under.
  hardware::host::MeasureOptions o;
  o.quick = true;
  return hardware::host::to_profile(hardware::host::measure_host(o), "host (measured, quick)");
}

void add_validate_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>(), "model preset or config.json")
      ("layers", po::value<std::string>(), "override the config's layer count")
      ("weights", po::value<std::string>()->default_value(""), "safetensors checkpoint (default: seeded random)");
  add_hardware_options(desc, "hardware preset or profile JSON (default: measure this host, quick)");
  desc.add_options()
      ("measured", po::value<std::string>(),
       "CSV of times measured elsewhere (op,phase,batch,q_len,kv_len,seconds per op instance) instead of the engine")
      ("wdtype", po::value<std::string>()->default_value("fp32"), "weight dtype (engine: fp32, bf16 or int8)")
      ("adtype", po::value<std::string>()->default_value("fp32"), "activation dtype (engine: fp32)")
      ("kvdtype", po::value<std::string>()->default_value("fp32"), "KV cache dtype (engine: fp32)")
      ("group-size", po::value<std::string>()->default_value("128"), "int8: inputs per scale")
      ("attn", po::value<std::string>()->default_value("flash"), "flash (engine: tiled) | naive")
      ("fuse", po::value<std::string>()->default_value("none"),
       "fusions the times ran with: none | add_norm (the engine runs it: each residual add inside the next RMSNorm); "
       "--measured also qkv, swiglu, all")
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
}

// The scenario the predictions are made for: dtypes, group size, attention, fusions.
opmodel::Scenario base_scenario(const po::variables_map& vm) {
  const std::string attn = vm["attn"].as<std::string>();
  if (attn != "flash" && attn != "naive") throw UsageError("attn", fmt::format("expected flash or naive, got '{}'", attn));
  opmodel::Scenario base;
  base.weight_dtype = dtype_option(vm, "wdtype");
  base.act_dtype = dtype_option(vm, "adtype");
  base.kv_dtype = dtype_option(vm, "kvdtype");
  base.group_size = parse_integer("group-size", vm["group-size"].as<std::string>(), 0, 1 << 20);
  base.attention = attn == "flash" ? opmodel::AttentionImpl::flash : opmodel::AttentionImpl::naive;
  try {
    base.fusion = opmodel::parse_fusion(vm["fuse"].as<std::string>());
  } catch (const std::exception& e) {
    throw UsageError("fuse", e.what());
  }
  return base;
}

void save_profile(const po::variables_map& vm, const hardware::Profile& hw, const ValidationReport& report) {
  if (!vm.count("save-profile")) return;
  hardware::Profile calibrated = hw;
  calibrated.calibration = report.calibration;
  emit(vm["save-profile"].as<std::string>(), hardware::to_json(calibrated).dump(2) + "\n");
}

// The profile's name, with the layers over it when there are any (the report's context).
void note_profile(const hardware::Profile& hw, ValidationReport& report) {
  report.hardware = hw.name;
  if (!hw.overrides.empty())
    report.notes.push_back(fmt::format("hardware overrides: {}", fmt::join(hw.overrides, "; ")));
}

// Times measured elsewhere (--measured) against the predictions; with --save-profile, calibrated on
// alternate step shapes.
void validate_measured(const po::variables_map& vm, const opmodel::ModelConfig& model, const opmodel::Scenario& base,
                       ValidationReport& report) {
  if (vm["sweep"].as<bool>()) throw UsageError("sweep", "runs the engine: not with --measured");
  const std::string path = vm["measured"].as<std::string>();
  const std::vector<Measurement> measured = parse_measured_csv(read_file(path), path);
  const std::vector<StepKey> shapes = distinct_shapes(measured);
  if (vm.count("save-profile") && shapes.size() < 2)
    throw UsageError("save-profile", "needs measurements at two or more step shapes: half of them are held out");
  report.source = fmt::format("measured: {}", path);
  const hardware::Profile hw = profile_of(vm);
  note_profile(hw, report);
  report.rows = validate_ops(model, base, hw, measured);
  if (vm.count("save-profile")) {
    calibrate_halves(report.rows, [&](const StepKey& k) {
      return (std::lower_bound(shapes.begin(), shapes.end(), k) - shapes.begin()) % 2 == 1;
    }, fmt::format("roofline validate --measured on {}, {}", report.model, utc_now()), report);
    save_profile(vm, hw, report);
  }
  report.stats = statistics(report.rows);
}

EngineTiming engine_timing(const po::variables_map& vm) {
  EngineTiming timing;
  timing.repetitions = int(parse_integer("repetitions", vm["repetitions"].as<std::string>(), 1, 10000));
  timing.warmup = int(parse_integer("warmup", vm["warmup"].as<std::string>(), 0, 10000));
  // A sweep repeats cheap shapes more (their medians steady the fit) and stops a shape after about
  // --point-seconds of timed runs (a 2048-token prefill of 7B layers takes seconds).
  if (vm["sweep"].as<bool>() && vm["repetitions"].defaulted()) timing.repetitions = 9;
  if (vm["sweep"].as<bool>())
    timing.point_seconds = parse_number("point-seconds", vm["point-seconds"].as<std::string>(), 0, 1e6);
  return timing;
}

std::string engine_source(const EngineTiming& timing) {
  return timing.point_seconds > 0
             ? fmt::format("engine, {} threads, {} warm-up + {} to {} timed runs per step (until {:g} s), steps "
                           "visited in turn, median over layers x runs",
                           omp_get_max_threads(), timing.warmup, std::min(timing.min_repetitions, timing.repetitions),
                           timing.repetitions, timing.point_seconds)
             : fmt::format("engine, {} threads, {} warm-up + {} timed runs per step, steps visited in turn, median "
                           "over layers x runs",
                           omp_get_max_threads(), timing.warmup, timing.repetitions);
}

// The int8 pass of a sweep comes last, minutes in: a group size its layers cannot take is an error up front.
void check_sweep_group_size(const ConfigText& text, std::int64_t g) {
  const engine::Config config = engine::parse_config(text.text, text.origin);
  for (const std::int64_t width : config.linear_input_widths())
    if (g > 0 && !engine::group_fits(g, width))
      throw UsageError("group-size", fmt::format("{} does not fit the int8 pass: it must divide every linear layer's "
                                                 "input width ({} here) and be a multiple of 16; 0 = per channel",
                                                 g, width));
}

// The reference engine's kernels at the two step shapes of the options, or (--sweep) at the sweep's shapes and
// every weight format.
void validate_engine(const po::variables_map& vm, const ConfigText& text, const opmodel::ModelConfig& model,
                     const opmodel::Scenario& base, ValidationReport& report) {
  if (base.act_dtype != opmodel::DType::fp32 || base.kv_dtype != opmodel::DType::fp32)
    throw UsageError("the engine runs fp32 activations and KV cache: --adtype and --kvdtype must be fp32");
  if (base.weight_dtype != opmodel::DType::fp32 && base.weight_dtype != opmodel::DType::bf16 &&
      base.weight_dtype != opmodel::DType::int8)
    throw UsageError("wdtype", "the engine stores weights as fp32, bf16 or int8");
  if (base.fusion.qkv || base.fusion.swiglu)
    throw UsageError("fuse", fmt::format("the engine runs qkv and swiglu unfused: got '{}' (add_norm or none)",
                                         vm["fuse"].as<std::string>()));
  const bool sweeping = vm["sweep"].as<bool>();
  if (vm.count("threads")) omp_set_num_threads(int(parse_integer("threads", vm["threads"].as<std::string>(), 1, 1024)));
  const std::int64_t batch = parse_integer("batch", vm["batch"].as<std::string>(), 1, 4096);
  const std::vector<EnginePoint> points = {
      {engine::Phase::prefill, batch, parse_integer("prompt", vm["prompt"].as<std::string>(), 1, 1 << 20)},
      {engine::Phase::decode, batch, parse_integer("kv-len", vm["kv-len"].as<std::string>(), 0, 1 << 20)}};
  const auto seed = std::uint64_t(parse_integer("seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  const double kv_gib = parse_number("sweep-kv-gib", vm["sweep-kv-gib"].as<std::string>(), 1e-3, 1e6);
  const EngineTiming timing = engine_timing(vm);
  if (sweeping) check_sweep_group_size(text, base.group_size);
  report.source = engine_source(timing);
  const hardware::Profile hw = profile_of(vm);  // before the weights exist: the measurement wants an idle machine
  note_profile(hw, report);
  const EngineValidation ev{text, model, vm["weights"].as<std::string>(), seed, base.attention == opmodel::AttentionImpl::flash,
                            timing, hw};
  if (!sweeping) {
    report.rows = ev.rows(base, points);
    report.stats = statistics(report.rows);
    return;
  }
  sweep_formats(ev, base, kv_gib, fmt::format("roofline validate --sweep on {}, {}", report.model, utc_now()),
                [](const std::string& line) { std::cerr << line << std::flush; }, report);
  save_profile(vm, hw, report);
}

}  // namespace

int validate(int argc, const char* const* argv) {
  po::options_description desc(
      "roofline validate: measured kernel times against the roofline predictions, op by op\n\nOptions");
  add_validate_options(desc);
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
  const opmodel::Scenario base = base_scenario(vm);
  EngineModelSource src{required(vm, "model"), std::nullopt};
  if (vm.count("layers")) src.layers = parse_integer("layers", vm["layers"].as<std::string>(), 1, 1 << 16);
  const ConfigText text = engine_config_text(src);
  const opmodel::ModelConfig model = opmodel::parse_model_config(nlohmann::json::parse(text.text), src.model, text.origin);

  ValidationReport report;
  report.model = fmt::format("{} ({} layer{})", text.origin, model.num_layers, model.num_layers == 1 ? "" : "s");
  report.scenario = fmt::format("weights {}, activations {}, KV {}, {} attention, {}", to_string(base.weight_dtype),
                                to_string(base.act_dtype), to_string(base.kv_dtype),
                                base.attention == opmodel::AttentionImpl::flash ? "flash" : "naive",
                                fusion_text(base.fusion));
  if (vm.count("measured")) validate_measured(vm, model, base, report);
  else validate_engine(vm, text, model, base, report);
  std::string out;
  if (format == "json") out = validation_json(report).dump(2) + "\n";
  else if (format == "csv") out = validation_csv(report);
  else out = validation_table(report);
  emit(vm["output"].as<std::string>(), out);
  return 0;
}

}  // namespace roofline::cli
