// Speed of the analyzer: one full analysis (every op of Llama-2-7B, prefill and decode, classified on
// the A100-80GB roofs) in-process, and the whole `roofline analyze` process.
// Reports the median of repeated runs with min and max; run: build/bench/bench_analyzer [path/to/roofline]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>


#include <fmt/format.h>

#include "bench/bench_common.hpp"
#include "hardware/presets.hpp"
#include "roofline/core/analysis.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using bench::Spread;
using bench::spread;

// One analysis = both phases of one request shape: the unit the 1 us target is stated in.
double time_in_process(int repetitions, int iterations) {
  const auto model = opmodel::resolve_model("llama-2-7b");
  const auto& hw = hardware::preset("a100-80g-sxm");
  const roofline::Roofs roofs = roofline::Roofs::of(hw);
  opmodel::Scenario prefill, decode;
  prefill.batch = decode.batch = 8;
  prefill.q_len = 1024;
  decode.q_len = 1;
  decode.kv_len = 1024;
  roofline::StepResult a, b;
  std::vector<double> per_analysis_ns;
  volatile double sink = 0;
  for (int r = 0; r < repetitions; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      decode.kv_len = 1024 + (i & 1);  // defeat hoisting: each iteration is a fresh analysis
      roofline::analyze_step(model, prefill, roofs, roofline::Phase::prefill, a);
      roofline::analyze_step(model, decode, roofs, roofline::Phase::decode, b);
      sink = sink + a.time_s + b.time_s;
    }
    const std::chrono::duration<double, std::nano> dt = Clock::now() - t0;
    per_analysis_ns.push_back(dt.count() / iterations);
  }
  const Spread s = spread(per_analysis_ns);
  fmt::print("in-process analysis (llama-2-7b, a100-80g-sxm, prefill 1024 + decode, batch 8, {} ops):\n",
             a.op_count + b.op_count);
  fmt::print("  median {:.0f} ns  (min {:.0f}, max {:.0f}; {} runs of {} analyses)  target < 1000 ns: {}\n",
             s.median, s.min, s.max, repetitions, iterations, s.median < 1000 ? "met" : "MISSED");
  return s.median;
}

void time_process(const std::string& binary, int repetitions) {
  std::vector<std::string> args = {binary, "analyze", "--model", "llama-2-7b", "--hw", "a100-80g-sxm",
                                   "--batch", "8", "--prompt", "1024", "--gen", "128", "-o", "/dev/null"};
  const std::vector<double> ms = bench::process_ms(args, repetitions);
  if (ms.empty()) return;
  const Spread s = spread(ms);
  fmt::print("whole process `roofline analyze --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 --gen 128`:\n");
  fmt::print("  median {:.2f} ms  (min {:.2f}, max {:.2f}; {} runs)  target < 20 ms: {}\n", s.median, s.min, s.max,
             repetitions, s.median < 20 ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  time_in_process(21, 20000);
  time_process(argc > 1 ? argv[1] : ROOFLINE_BIN, 51);
  return 0;
}
