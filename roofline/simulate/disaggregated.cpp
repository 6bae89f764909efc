#include "roofline/simulate/disaggregated.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "opmodel/footprint.hpp"
#include "roofline/simulate/error.hpp"

namespace roofline::sim {

namespace {

void check_link(const KvLink& link) {
  if (!(std::isfinite(link.bytes_per_s) && link.bytes_per_s > 0))
    throw OptionError("kv-link", fmt::format("needs a bandwidth above 0 B/s, got {}", link.bytes_per_s));
  if (!(std::isfinite(link.latency_s) && link.latency_s >= 0))
    throw OptionError("kv-link", fmt::format("latency must be >= 0 s, got {}", link.latency_s));
}

}  // namespace

DisaggResult simulate_disaggregated(const opmodel::ModelConfig& m, const hardware::Profile& hw, const Workload& w,
                                    const DisaggConfig& c) {
  check_link(c.link);
  if (c.prefill.speculation)
    throw OptionError("draft-model", "speculative decoding runs in the decode pool only");
  if (w.requests.empty()) throw SimError("workload", "", "has no requests");
  DisaggResult out;

  // 1. The prefill pool: every request ends with its first token.
  Workload prompts = w;
  for (Request& r : prompts.requests) r.output_tokens = 1;
  SimConfig pc = c.prefill;
  pc.keep_steps = false;
  out.prefill = simulate(m, hw, prompts, pc);
  out.warnings = out.prefill.warnings;

  // 2. Each request's KV through its prefill instance's link, in the order prefills finish.
  const std::size_t n = w.requests.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return out.prefill.requests[a].finish_s < out.prefill.requests[b].finish_s;
  });
  const double lanes = double(std::min(c.prefill.tp * c.prefill.pp, c.decode.tp * c.decode.pp));
  opmodel::Scenario kv = c.decode.scenario;
  kv.batch = 1;
  std::vector<double> link_free(std::size_t(c.prefill.replicas), 0.0), arrives(n, 0.0);
  std::vector<double> transfer;
  for (std::size_t i : order) {
    const Request& r = w.requests[i];
    const RequestOutcome& p = out.prefill.requests[i];
    if (r.output_tokens <= 1) continue;
    const double bytes = opmodel::kv_cache_bytes(m, kv, r.prompt_tokens);
    double& free = link_free[std::size_t(p.replica)];
    const double start = std::max(free, p.finish_s);
    const double time = bytes / (lanes * c.link.bytes_per_s) + c.link.latency_s;
    free = start + time;
    arrives[i] = free;
    transfer.push_back(free - p.finish_s);
    out.transfer.bytes += bytes;
    out.transfer.busy_s += time;
  }
  out.transfer.time_s = stats_of(std::move(transfer));

  // 3. The decode pool: the requests with tokens left, arriving with their KV, in arrival order.
  std::vector<std::size_t> decoding;
  for (std::size_t i = 0; i < n; ++i)
    if (w.requests[i].output_tokens > 1) decoding.push_back(i);
  std::stable_sort(decoding.begin(), decoding.end(), [&](std::size_t a, std::size_t b) { return arrives[a] < arrives[b]; });
  out.requests = out.prefill.requests;
  for (std::size_t i = 0; i < n; ++i) {  // the client's view: its own output length, first token from the prefill
    out.requests[i].output_tokens = w.requests[i].output_tokens;
    out.requests[i].arrival_s = w.requests[i].arrival_s;
  }
  if (decoding.empty()) return out;
  Workload decodes;
  decodes.description = w.description;
  decodes.origin = w.origin;
  for (std::size_t i : decoding) {
    Request r = w.requests[i];
    r.arrival_s = arrives[i];
    r.prefilled = true;
    r.prefix = -1;
    r.prefix_tokens = 0;
    decodes.requests.push_back(r);
  }
  SimConfig dc = c.decode;
  dc.prefix_caching = false;  // the prefix arrives inside each transferred cache
  dc.keep_steps = false;
  out.decode = simulate(m, hw, decodes, dc);
  for (std::size_t j = 0; j < decoding.size(); ++j) {
    const RequestOutcome& d = out.decode.requests[j];
    RequestOutcome& o = out.requests[decoding[j]];
    o.finish_s = d.finish_s;
    o.preemptions += d.preemptions;
    o.replica = d.replica;
  }
  return out;
}

}  // namespace roofline::sim
