// What a simulation says, computed once from its result: latency percentiles, throughput, memory and KV use,
// preemptions, prefix-cache hits, the pipeline bubble and speculative decoding's gain. Writers
// (present/simulation_output.hpp) render it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "roofline/simulate/simulator.hpp"

namespace roofline::sim {

struct Stats {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
  std::size_t count = 0;
};
// Percentiles interpolate linearly between order statistics (numpy's default); all 0 when empty.
Stats stats_of(std::vector<double> values);

struct Summary {
  std::size_t requests = 0;
  std::int64_t prompt_tokens = 0, output_tokens = 0, preemptions = 0, cached_tokens = 0;
  Stats ttft_s, tpot_s, e2e_s;  // TPOT: (finish - first token) / (output - 1), requests with output > 1
  double start_s = 0, end_s = 0, duration_s = 0;  // first arrival to last finish
  double requests_per_s = 0, output_tokens_per_s = 0, total_tokens_per_s = 0;
  double mean_step_s = 0;
  std::optional<double> prefix_hit_rate;  // hits / lookups, when any request had a prefix of a whole block
  double cached_prompt_share = 0;         // prompt tokens the prefix cache supplied / prompt tokens
  std::int64_t peak_kv_blocks = 0;        // the most a replica held
  double peak_kv_use = 0, mean_kv_use = 0;  // of a replica's blocks; the mean weights steps by their time
  double peak_memory_bytes = 0;           // per device: weights + workspace + peak KV
  double mean_in_system = 0;              // requests admitted or waiting, averaged over [start, end] (Little's L)
  double bubble_share = 0;                // pipeline stage time idle within steps / all stage time
  double spec_tokens_per_step = 0;        // measured tokens per speculative decode
  std::optional<double> spec_tpot_speedup, spec_throughput_speedup;  // against the run without speculation
};
Summary summarize(const SimResult& r);
// The request part of summarize: counts, latencies and throughput of requests as the client saw them (a
// disaggregated server's, whose steps run on two pools).
Summary summarize_requests(const std::vector<RequestOutcome>& requests);

}  // namespace roofline::sim
