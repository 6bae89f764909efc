// Speed of the simulator (issue 7: 10,000 requests in under one second on one core): in-process runs of
// simulate() and summarize() for 10,000 generated requests with each scheduler, near saturation and all at
// once, and of the example trace (docs/examples/requests.csv, Llama-2-7B on an A100-80GB SXM); then the whole
// `roofline simulate` process on that trace. Pinned to one core; median of repeated runs, with min and max.
// Run: build/bench/bench_simulate [path/to/roofline]
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_common.hpp"
#include "hardware/presets.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/present/simulation_output.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace roofline::sim;

using bench::Spread;
using bench::spread;

void pin_to_one_core() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) fmt::print("(could not pin to one core)\n");
}

void time_run(const std::string& label, const Workload& w, Scheduler s, int repetitions) {
  const auto model = opmodel::resolve_model("llama-2-7b");
  const auto& hw = hardware::preset("a100-80g-sxm");
  SimConfig c;
  c.scheduler = s;
  std::vector<double> seconds;
  SimResult last;
  for (int i = 0; i < repetitions; ++i) {
    const auto t0 = Clock::now();
    last = simulate(model, hw, w, c);
    const Summary sum = summarize(last);
    const std::chrono::duration<double> dt = Clock::now() - t0;
    if (sum.requests != w.requests.size()) fmt::print("  lost requests!\n");
    seconds.push_back(dt.count());
  }
  const Spread sp = spread(seconds);
  fmt::print("  {:<34} {:<10} {:>8.1f} ms  (min {:.1f}, max {:.1f})  {:>9.0f} requests/s  {:>7} steps  {}\n", label,
             to_string(s), sp.median * 1e3, sp.min * 1e3, sp.max * 1e3, double(w.requests.size()) / sp.median,
             last.step_count,
             w.requests.size() >= 10000 ? (sp.median < 1 ? "target < 1 s: met" : "target < 1 s: MISSED") : "");
}

void time_process(const std::string& binary, const std::string& trace, int repetitions) {
  std::vector<std::string> args = {binary,    "simulate", "--model",     "llama-2-7b", "--hw", "a100-80g-sxm",
                                   "--trace", trace,      "--scheduler", "chunked",    "-o",   "/dev/null"};
  const std::vector<double> ms = bench::process_ms(args, repetitions);
  if (ms.empty()) return;
  const Spread s = spread(ms);
  fmt::print("whole process `roofline simulate --model llama-2-7b --hw a100-80g-sxm --trace {} --scheduler chunked`:\n",
             trace);
  fmt::print("  median {:.1f} ms  (min {:.1f}, max {:.1f}; {} runs)\n", s.median, s.min, s.max, repetitions);
}

Workload generated(double rate) {
  Generator g;
  g.requests = 10000;
  g.rate_per_s = rate;
  g.prompt = parse_distribution("lognormal:512:0.8", "prompt-dist");
  g.output = parse_distribution("lognormal:128:0.8", "output-dist");
  g.seed = 1;
  return generate(g);
}

}  // namespace

int main(int argc, char** argv) {
  pin_to_one_core();
  constexpr int kRepetitions = 7;
  fmt::print("simulate() + summarize(), llama-2-7b on a100-80g-sxm, one core, median of {} runs:\n", kRepetitions);
  const Workload near = generated(9.0);
  const Workload offline = generated(std::numeric_limits<double>::infinity());
  const std::string trace = std::string(ROOFLINE_SOURCE_DIR) + "/docs/examples/requests.csv";
  const Workload example = load_trace(trace);
  for (Scheduler s : {Scheduler::static_batch, Scheduler::continuous, Scheduler::chunked})
    time_run("10,000 requests, Poisson 9/s", near, s, kRepetitions);
  for (Scheduler s : {Scheduler::static_batch, Scheduler::continuous, Scheduler::chunked})
    time_run("10,000 requests, all at t = 0", offline, s, kRepetitions);
  for (Scheduler s : {Scheduler::static_batch, Scheduler::continuous, Scheduler::chunked})
    time_run(fmt::format("docs/examples/requests.csv ({})", example.requests.size()), example, s, kRepetitions);
  time_process(argc > 1 ? argv[1] : ROOFLINE_BIN, trace, 11);
  return 0;
}
