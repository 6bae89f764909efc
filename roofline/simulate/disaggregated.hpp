// Disaggregated serving: a prefill pool computes each prompt and its first token, the request's KV cache
// crosses a link to a decode pool, which generates the rest. Both pools are ordinary simulated servers
// (simulator.hpp), each with its own layout and scheduler; the link queues transfers per prefill instance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/summary.hpp"

namespace roofline::sim {

// The link KV caches cross, per device: each of min(prefill, decode) instance devices sends its share in
// parallel, bytes / (lanes x bytes_per_s) + latency_s a transfer.
struct KvLink {
  std::string name;
  double bytes_per_s = 0;  // per direction per device
  double latency_s = 0;
};

struct DisaggConfig {
  SimConfig prefill;  // replicas: prefill instances (xP); its requests end with their first token
  SimConfig decode;   // replicas: decode instances (yD)
  KvLink link;
};

struct TransferStats {
  Stats time_s;       // from the end of a request's prefill to its KV's arrival at the decode pool (queueing too)
  double bytes = 0;   // all transfers
  double busy_s = 0;  // link time summed over prefill instances
};

struct DisaggResult {
  SimResult prefill, decode;  // each pool's run (the decode pool's requests arrive with their KV)
  std::vector<RequestOutcome> requests;  // as the client sees them, in workload order
  TransferStats transfer;
  std::vector<std::string> warnings;
};

// Validates (OptionError for a link without bandwidth) and simulates: the prefill pool on the workload with
// every output cut to its first token; then each request's KV (kv_cache_bytes of its prompt, the decode pool's
// KV format) through its prefill instance's link, first come first served; then the decode pool on the
// requests with more than one output token, arriving when their KV does.
DisaggResult simulate_disaggregated(const opmodel::ModelConfig& m, const hardware::Profile& hw, const Workload& w,
                                    const DisaggConfig& c);

}  // namespace roofline::sim
