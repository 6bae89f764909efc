// roofline simulate: serve a workload on replicas of a model over devices, step by step, and report
// latency percentiles, throughput, memory and KV use; optionally a Perfetto trace of the timeline.
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "reports/output_file.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/cli/commands.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/present/disaggregated_output.hpp"
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
      ("ep", po::value<std::string>()->default_value("1"),
       "MoE: expert-parallel devices, 1 or --tp (each holds E/ep whole experts)")
      ("dp-attention", po::bool_switch(),
       "MoE: attention data-parallel over the --tp devices (whole heads, each its own sequences' KV)")
      ("ep-skew", po::value<std::string>(),
       "MoE with --ep > 1: routed rows on the busiest device over the mean (default: the expected maximum\n"
       "under uniform random routing)")
      ("link-latency", po::value<std::string>(), "interconnect latency in seconds (overrides the profile's)")
      ("prefill-pool", po::value<std::string>(),
       "disaggregated serving: the prefill pool, N:tpT[:ppP][:epE][:dp] (N instances of tp x pp devices;\n"
       "ep and DP attention for MoE), with --decode-pool")
      ("decode-pool", po::value<std::string>(), "disaggregated serving: the decode pool (same form)")
      ("kv-link", po::value<std::string>()->default_value("interconnect"),
       "disaggregated: where KV caches travel: interconnect | ib-ndr | ib-hdr | eth-400g | eth-200g |\n"
       "eth-100g | GB/s per device, each with an optional :LATENCY_S")
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
  return generated_workload(vm, "prompt-dist", "output-dist");
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
  c.expert.ep = int(integer(vm, "ep", 1, 4096));
  c.expert.dp_attention = vm["dp-attention"].as<bool>();
  if (vm.count("ep-skew")) c.expert.skew = parse_number("ep-skew", vm["ep-skew"].as<std::string>(), 1, 4096);
  c.calibrated = calibrated_time_model(vm);
  if (vm.count("link-latency"))
    c.link_latency_s = parse_number("link-latency", vm["link-latency"].as<std::string>(), 0, 1);
  c.seed = std::uint64_t(integer(vm, "seed", 0, std::numeric_limits<std::int64_t>::max()));
  check_draft_options(vm);
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

// "N:tpT[:ppP][:epE][:dp]" into the pool's replicas, tp, pp and expert layout.
void read_pool(const std::string& option, const std::string& text, sim::SimConfig& c) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  if (parts.empty() || text.back() == ':')
    throw UsageError(option, fmt::format("expected N:tpT[:ppP][:epE][:dp], got '{}'", text));
  c.replicas = int(parse_integer(option, parts[0], 1, 4096));
  bool tp = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    auto value = [&](std::size_t prefix) { return int(parse_integer(option, p.substr(prefix), 1, 4096)); };
    if (p.rfind("tp", 0) == 0) c.tp = value(2), tp = true;
    else if (p.rfind("pp", 0) == 0) c.pp = value(2);
    else if (p.rfind("ep", 0) == 0) c.expert.ep = value(2);
    else if (p == "dp") c.expert.dp_attention = true;
    else throw UsageError(option, fmt::format("'{}' in '{}' is none of tpT, ppP, epE, dp", p, text));
  }
  if (!tp) throw UsageError(option, fmt::format("'{}' gives no tpT", text));
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

  if (vm.count("prefill-pool") || vm.count("decode-pool")) {
    if (!vm.count("prefill-pool") || !vm.count("decode-pool"))
      throw UsageError(vm.count("prefill-pool") ? "decode-pool" : "prefill-pool",
                       "is needed too: disaggregated serving has a prefill and a decode pool");
    reject_given(vm, {"tp", "pp", "replicas", "ep", "dp-attention", "microbatches", "trace-out"},
                 "does not apply to disaggregated pools (give each pool's layout in --prefill-pool, --decode-pool)");
    sim::DisaggConfig dc{c, c, kv_link(vm, hw)};
    read_pool("prefill-pool", vm["prefill-pool"].as<std::string>(), dc.prefill);
    read_pool("decode-pool", vm["decode-pool"].as<std::string>(), dc.decode);
    dc.prefill.speculation.reset();  // the draft runs where tokens are decoded
    dc.decode.prefix_caching = false;  // the prefix arrives inside each transferred cache
    sim::DisaggResult result;
    try {
      result = sim::simulate_disaggregated(model, hw, w, dc);
    } catch (const sim::OptionError& e) {
      throw UsageError(e.option(), e.problem());
    }
    handle_warnings(vm, result.warnings, "simulate");
    const sim::DisaggRun run{model, hw, w, dc};
    if (vm.count("workload-out")) reports::write_file_atomically(vm["workload-out"].as<std::string>(), sim::to_csv(w));
    emit(vm["output"].as<std::string>(),
         format == "json" ? sim::to_json(run, result).dump(2) + "\n" : sim::render_table(run, result));
    return 0;
  }
  if (!vm["kv-link"].defaulted()) throw UsageError("kv-link", "applies to disaggregated serving (--prefill-pool)");
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
