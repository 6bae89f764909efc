#include "roofline/simulate/summary.hpp"

#include <algorithm>

#include "common/quantile.hpp"

namespace roofline::sim {

Stats stats_of(std::vector<double> v) {
  Stats s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(v.size());
  s.p50 = common::quantile_of_sorted(v, 0.50);
  s.p90 = common::quantile_of_sorted(v, 0.90);
  s.p99 = common::quantile_of_sorted(v, 0.99);
  return s;
}

Summary summarize_requests(const std::vector<RequestOutcome>& requests) {
  Summary s;
  s.requests = requests.size();
  std::vector<double> ttft, tpot, e2e;
  s.start_s = requests.empty() ? 0 : requests.front().arrival_s;
  for (const RequestOutcome& o : requests) {
    s.start_s = std::min(s.start_s, o.arrival_s);
    s.end_s = std::max(s.end_s, o.finish_s);
    ttft.push_back(o.first_token_s - o.arrival_s);
    e2e.push_back(o.finish_s - o.arrival_s);
    if (o.output_tokens > 1) tpot.push_back((o.finish_s - o.first_token_s) / double(o.output_tokens - 1));
    s.prompt_tokens += o.prompt_tokens;
    s.output_tokens += o.output_tokens;
    s.preemptions += o.preemptions;
    s.cached_tokens += o.cached_tokens;
  }
  s.ttft_s = stats_of(std::move(ttft));
  s.tpot_s = stats_of(std::move(tpot));
  s.e2e_s = stats_of(std::move(e2e));
  s.duration_s = s.end_s - s.start_s;
  if (s.duration_s > 0) {
    s.requests_per_s = double(s.requests) / s.duration_s;
    s.output_tokens_per_s = double(s.output_tokens) / s.duration_s;
    s.total_tokens_per_s = double(s.prompt_tokens + s.output_tokens) / s.duration_s;
  }
  s.cached_prompt_share = s.prompt_tokens > 0 ? double(s.cached_tokens) / double(s.prompt_tokens) : 0;
  return s;
}

Summary summarize(const SimResult& r) {
  Summary s = summarize_requests(r.requests);
  s.mean_step_s = r.step_count > 0 ? r.busy_s / double(r.step_count) : 0;
  if (r.prefix_lookups > 0) s.prefix_hit_rate = double(r.prefix_hits) / double(r.prefix_lookups);

  const double blocks = double(r.memory.kv_blocks);
  s.peak_kv_blocks = r.peak_kv_blocks;
  s.peak_kv_use = double(s.peak_kv_blocks) / blocks;
  s.mean_kv_use = r.busy_s > 0 ? r.kv_block_s / r.busy_s / blocks : 0;  // over the time steps run
  s.peak_memory_bytes = r.memory.device_bytes(s.peak_kv_blocks);
  s.mean_in_system = s.duration_s > 0 ? r.request_s / s.duration_s : 0;
  const double stage_time = double(r.layout.pp) * r.busy_s;
  s.bubble_share = stage_time > 0 ? r.bubble_s / stage_time : 0;
  if (r.spec_steps > 0) s.spec_tokens_per_step = double(r.spec_tokens) / double(r.spec_steps);
  if (r.baseline) {
    const Summary b = summarize(*r.baseline);
    if (s.tpot_s.mean > 0) s.spec_tpot_speedup = b.tpot_s.mean / s.tpot_s.mean;
    if (b.output_tokens_per_s > 0) s.spec_throughput_speedup = s.output_tokens_per_s / b.output_tokens_per_s;
  }
  return s;
}

}  // namespace roofline::sim
