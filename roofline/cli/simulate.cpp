// roofline simulate: serve a workload on replicas of a model over devices, step by step, and report
// latency percentiles, throughput, memory and KV use; optionally a Perfetto trace of the timeline.
#include <cmath>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "reports/output_file.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/present/simulation_output.hpp"

namespace roofline::cli {

namespace {

constexpr std::int64_t kMaxTokens = sim::kMaxTokens;

void add_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>(), "model preset (roofline list models) or a Hugging Face config.json");
  add_hardware_options(desc, "hardware preset (roofline list hardware) or a profile JSON file");
  desc.add_options()
      ("batch", po::value<std::string>(), "workload: a fixed batch of this many requests at t = 0 (with --prompt,\n"
                                          "--gen)")
      ("prompt", po::value<std::string>(), "prompt tokens of each request of the fixed batch")
      ("gen", po::value<std::string>(), "output tokens of each request of the fixed batch (the first from the prefill)")
      ("trace", po::value<std::string>(),
       "workload: a CSV of arrival_s, prompt_tokens, output_tokens\n[, prefix_id, prefix_tokens]")
      ("rate", po::value<std::string>(),
       "workload: generated, Poisson arrivals at this many requests/s\n('inf': all at t = 0)")
      ("requests", po::value<std::string>()->default_value("1000"), "generated requests")
      ("prompt-dist", po::value<std::string>()->default_value("lognormal:512:0.8"),
       "generated prompt tokens: fixed:N | uniform:A:B | lognormal:MEAN:SIGMA")
      ("output-dist", po::value<std::string>()->default_value("lognormal:128:0.8"),
       "generated output tokens (same forms)")
      ("prefix-tokens", po::value<std::string>()->default_value("0"),
       "generated: each prompt starts with a shared prefix of N tokens")
      ("prefixes", po::value<std::string>()->default_value("1"),
       "generated: distinct shared prefixes, picked uniformly")
      ("seed", po::value<std::string>()->default_value("1"), "seed of the generator and of acceptance draws")
      ("strict", po::bool_switch(), "a request beyond the model's max_position_embeddings is an error, not a warning")
      ("scheduler", po::value<std::string>()->default_value("continuous"), "static | continuous | chunked")
      ("max-batch", po::value<std::string>()->default_value("256"), "sequences per step")
      ("max-tokens", po::value<std::string>(), "tokens per step (default 8192 static and continuous, 2048 chunked)")
      ("block-size", po::value<std::string>()->default_value("16"), "tokens per KV block")
      ("kv-blocks", po::value<std::string>(), "KV blocks per replica (default: what the memory leaves)")
      ("mem-util", po::value<std::string>()->default_value("0.9"), "share of device memory the server may use")
      ("no-prefix-cache", po::bool_switch(), "do not reuse the blocks of shared prefixes")
      ("tp", po::value<std::string>()->default_value("1"), "tensor-parallel devices per stage")
      ("pp", po::value<std::string>()->default_value("1"), "pipeline stages")
      ("replicas", po::value<std::string>()->default_value("1"), "replicas sharing the requests round robin")
      ("microbatches", po::value<std::string>(), "micro-batches per step with --pp > 1 (default: pp)")
      ("link-latency", po::value<std::string>(), "interconnect latency in seconds (overrides the profile's)")
      ("time-model", po::value<std::string>()->default_value("bound"),
       "op times: bound (the roofline) | calibrated (the profile's fits from validate --sweep --save-profile)")
      ("draft-model", po::value<std::string>(), "speculative decoding: the draft model (preset or config.json), or mtp: the model's own\n"
       "multi-token-prediction layers (DeepSeek-V3's num_nextn_predict_layers)")
      ("spec-tokens", po::value<std::string>()->default_value("4"), "tokens drafted per target step")
      ("accept-rate", po::value<std::string>()->default_value("0.7"), "probability each draft token is accepted");
  add_precision_options(desc);
  desc.add_options()
      ("format", po::value<std::string>()->default_value("table"), "table | json")
      ("output,o", po::value<std::string>()->default_value("-"), "output file (written whole or not at all)")
      ("trace-out", po::value<std::string>(), "write the timeline as a Chrome/Perfetto trace (JSON) to this file")
      ("workload-out", po::value<std::string>(), "write the workload as a trace CSV (replay or edit it with --trace)")
      ("help,h", "this help");
}

std::int64_t integer(const po::variables_map& vm, const char* option, std::int64_t lo, std::int64_t hi) {
  return parse_integer(option, vm[option].as<std::string>(), lo, hi);
}

sim::Distribution distribution(const po::variables_map& vm, const char* option) {
  try {
    return sim::parse_distribution(vm[option].as<std::string>(), option);
  } catch (const sim::OptionError& e) {
    throw UsageError(e.option(), e.problem());
  }
}

sim::Workload workload(const po::variables_map& vm) {
  const bool fixed = vm.count("batch") || vm.count("prompt") || vm.count("gen");
  const bool trace = vm.count("trace") > 0;
  const bool generated = vm.count("rate") > 0;
  if (int(fixed) + int(trace) + int(generated) != 1)
    throw UsageError("give one workload: --batch/--prompt/--gen, --trace FILE, or --rate R (generated)");
  if (!generated)
    for (const char* option : {"requests", "prompt-dist", "output-dist", "prefix-tokens", "prefixes"})
      if (!vm[option].defaulted()) throw UsageError(option, "applies to a generated workload (--rate) only");
  if (fixed) {
    const std::int64_t batch = vm.count("batch") ? integer(vm, "batch", 1, sim::kMaxRequests) : 1;
    const std::int64_t prompt = parse_integer("prompt", required(vm, "prompt"), 1, kMaxTokens);
    const std::int64_t gen = parse_integer("gen", required(vm, "gen"), 1, kMaxTokens - prompt);
    return sim::fixed_batch(batch, prompt, gen);
  }
  if (trace) return sim::load_trace(vm["trace"].as<std::string>());
  sim::Generator g;
  const std::string rate = vm["rate"].as<std::string>();
  g.rate_per_s = rate == "inf" ? std::numeric_limits<double>::infinity() : parse_number("rate", rate, 1e-9, 1e9);
  if (g.rate_per_s <= 0) throw UsageError("rate", "must be positive");
  g.requests = integer(vm, "requests", 1, sim::kMaxRequests);
  g.prompt = distribution(vm, "prompt-dist");
  g.output = distribution(vm, "output-dist");
  g.prefix_tokens = integer(vm, "prefix-tokens", 0, kMaxTokens / 2);
  g.prefixes = integer(vm, "prefixes", 1, 1 << 20);
  g.seed = std::uint64_t(integer(vm, "seed", 0, std::numeric_limits<std::int64_t>::max()));
  return sim::generate(g);
}

sim::SimConfig config(const po::variables_map& vm) {
  sim::SimConfig c;
  read_precision_options(vm, c.scenario);
  const std::string sched = vm["scheduler"].as<std::string>();
  if (sched == "static") c.scheduler = sim::Scheduler::static_batch;
  else if (sched == "continuous") c.scheduler = sim::Scheduler::continuous;
  else if (sched == "chunked") c.scheduler = sim::Scheduler::chunked;
  else throw UsageError("scheduler", "expected static, continuous or chunked, got '" + sched + "'");
  c.max_batch = integer(vm, "max-batch", 1, 1 << 20);
  if (vm.count("max-tokens")) c.max_tokens = integer(vm, "max-tokens", 1, kMaxTokens);
  c.block_size = integer(vm, "block-size", 1, 4096);
  if (vm.count("kv-blocks")) c.kv_blocks = integer(vm, "kv-blocks", 1, std::int64_t{1} << 40);
  c.memory_utilization = parse_number("mem-util", vm["mem-util"].as<std::string>(), 1e-6, 1);
  c.prefix_caching = !vm["no-prefix-cache"].as<bool>();
  c.tp = int(integer(vm, "tp", 1, 4096));
  c.pp = int(integer(vm, "pp", 1, 4096));
  c.replicas = int(integer(vm, "replicas", 1, 4096));
  if (vm.count("microbatches")) c.microbatches = int(integer(vm, "microbatches", 1, 1024));
  const std::string time_model = vm["time-model"].as<std::string>();
  if (time_model != "bound" && time_model != "calibrated")
    throw UsageError("time-model", fmt::format("expected bound or calibrated, got '{}'", time_model));
  c.calibrated = time_model == "calibrated";
  if (vm.count("link-latency"))
    c.link_latency_s = parse_number("link-latency", vm["link-latency"].as<std::string>(), 0, 1);
  c.seed = std::uint64_t(integer(vm, "seed", 0, std::numeric_limits<std::int64_t>::max()));
  if (!vm.count("draft-model"))
    for (const char* option : {"spec-tokens", "accept-rate"})
      if (!vm[option].defaulted()) throw UsageError(option, "needs --draft-model");
  if (vm.count("draft-model")) {
    sim::Speculation sp;
    // "mtp": the model's own multi-token-prediction module (DeepSeek-V3), set once the model is read.
    if (vm["draft-model"].as<std::string>() != "mtp") sp.draft = opmodel::resolve_model(vm["draft-model"].as<std::string>());
    sp.tokens = integer(vm, "spec-tokens", 1, 64);
    sp.accept_rate = parse_number("accept-rate", vm["accept-rate"].as<std::string>(), 0, 1);
    c.speculation = sp;
  }
  return c;
}

// A layout the options ask for that the model cannot take (--tp 3 on 32 heads, --pp beyond the layers) is a bad
// command line, not bad input.
sim::SimResult run_simulation(const opmodel::ModelConfig& model, const hardware::Profile& hw, const sim::Workload& w,
                              const sim::SimConfig& c) {
  try {
    return sim::simulate(model, hw, w, c);
  } catch (const sim::OptionError& e) {
    throw UsageError(e.option(), e.problem());
  }
}

}  // namespace

int simulate(int argc, const char* const* argv) {
  po::options_description desc("roofline simulate: serve a workload, step by step, on the op model\n\nOptions");
  add_options(desc);
  const po::variables_map vm = parse(argc, argv, desc);
  if (vm.count("help")) {
    std::cout << desc
              << "\nExamples:\n"
                 "  roofline simulate --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 --gen 128\n"
                 "  roofline simulate --model llama-2-7b --hw a100-80g-sxm --trace requests.csv --scheduler chunked "
                 "--trace-out timeline.json\n"
                 "  roofline simulate --model llama-2-70b --hw h100-sxm --tp 4 --rate 5 --requests 2000 "
                 "--prompt-dist uniform:128:2048 --output-dist lognormal:256:0.5\n";
    return 0;
  }
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json") throw UsageError("format", "expected table or json, got '" + format + "'");
  sim::SimConfig c = config(vm);
  c.keep_steps = vm.count("trace-out") > 0;  // every step only for the trace; the timeline samples them
  const sim::Workload w = workload(vm);
  const auto model = opmodel::resolve_model(required(vm, "model"));
  c.scenario = with_checkpoint_formats(vm, model, c.scenario);
  if (c.speculation && vm["draft-model"].as<std::string>() == "mtp") c.speculation->draft = opmodel::mtp_draft(model);
  const auto hw = hardware_profile(vm);

  const sim::SimResult result = run_simulation(model, hw, w, c);
  handle_warnings(vm, result.warnings, "simulate");
  const sim::Summary summary = sim::summarize(result);
  const sim::RunInfo run{model, hw, w, c};
  const std::string text = format == "json" ? sim::to_json(run, result, summary).dump(2) + "\n"
                                            : sim::render_table(run, result, summary);
  if (vm.count("workload-out")) reports::write_file_atomically(vm["workload-out"].as<std::string>(), sim::to_csv(w));
  if (vm.count("trace-out"))
    reports::write_file_atomically(vm["trace-out"].as<std::string>(), sim::perfetto_trace(run, result));
  emit(vm["output"].as<std::string>(), text);
  return 0;
}

}  // namespace roofline::cli
