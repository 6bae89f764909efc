// The search: every deployment of a space simulated on the same seeded workload (in parallel), then the
// Pareto frontier of output tokens/s per GPU against tokens/s per user, the best deployment that meets the
// TTFT and TPOT targets, and why its neighbours lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/search/space.hpp"
#include "roofline/simulate/disaggregated.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/workload.hpp"

namespace roofline::search {

struct Targets {
  double ttft_p90_s = 0;  // 90th percentile time to first token
  double tpot_p90_s = 0;  // 90th percentile time per output token
};

// What is searched: one model on one kind of device, one workload, one set of targets.
struct Problem {
  opmodel::ModelConfig model;
  hardware::Profile hw;
  sim::Workload workload;
  opmodel::Scenario scenario;               // the formats as given (the checkpoint's, or --wdtype's): "checkpoint"
  std::optional<opmodel::ModelConfig> draft;  // speculative decoding's draft, when given
  std::int64_t spec_tokens = 4;
  double accept_rate = 0.7;
  sim::Scheduler scheduler = sim::Scheduler::chunked;
  bool calibrated = false;                  // op times: the profile's expectations, not the bound
  sim::KvLink link;                         // disaggregated pools' KV transfers
  Targets targets;
  int gpus = 8;
  std::uint64_t seed = 1;
};

enum class Status {
  simulated,    // run, metrics below
  reused,       // the same steps as a smaller max_batch's run (it never filled its batch): its metrics
  late,         // stopped early: enough first tokens came later than the TTFT target that its p90 exceeds it
  memory,       // the devices cannot hold it (weights, workspace, a request's KV)
  unsupported,  // the layout or format does not apply (tp not dividing the heads, a format the part lacks)
};
std::string_view to_string(Status s);

struct Candidate {
  Deployment deployment;
  Status status = Status::simulated;
  std::string reason;            // memory and unsupported: why
  std::int64_t same_as = -1;     // reused: the candidate whose run it repeats
  double ttft_p90_s = 0, tpot_p90_s = 0, e2e_p90_s = 0;
  double output_tokens_per_s = 0;
  double tokens_per_s_per_gpu = 0;   // output tokens/s / GPUs
  double tokens_per_s_per_user = 0;  // 1 / TPOT p90 (0 when no request has two output tokens)
  double peak_memory_bytes = 0;      // per device, the fullest pool
  bool meets_ttft = false, meets_tpot = false;
  bool on_frontier = false;
  bool has_metrics() const { return status == Status::simulated || status == Status::reused; }
  bool meets() const { return has_metrics() && meets_ttft && meets_tpot; }
};

// A candidate one knob away from the chosen one, and why it was not chosen.
struct Neighbour {
  std::size_t index = 0;
  std::vector<std::string> knobs;  // differences(chosen, it)
  std::string why;
};

// Throughputs per GPU this close (a fraction of the highest) count as equal when choosing: a fixed request rate
// gives every deployment that keeps up the same throughput, up to when its last requests finish.
inline constexpr double kThroughputTie = 0.01;

struct SearchResult {
  std::vector<Candidate> candidates;   // in enumeration order
  // Pareto-optimal candidates among those meeting the TTFT target (a hard limit; TPOT is the trade-off drawn),
  // by tokens/s per user ascending.
  std::vector<std::size_t> frontier;
  // Among those meeting both targets, the fastest per user of those within kThroughputTie of the most tokens/s per
  // GPU.
  std::optional<std::size_t> best;
  std::optional<std::size_t> closest;  // without a best: the lowest TPOT p90 among those meeting the TTFT target
  std::vector<Neighbour> neighbours;   // of best (or closest)
  std::size_t simulated = 0, reused = 0, late = 0, memory = 0, unsupported = 0, meeting = 0;
  int threads = 1;
};

struct SearchOptions {
  bool prune = true;  // reuse a run for larger max_batch values when the batch never filled, and stop a run once
                      // its TTFT p90 is sure to miss the target
  int threads = 0;    // 0: every core
};

// Simulates the candidates (common::InputError and its kin propagate: a workload or profile at fault fails the
// whole search; a candidate the devices cannot hold, or whose layout does not apply, is marked instead).
SearchResult run_search(const Problem& p, const std::vector<Deployment>& candidates, const SearchOptions& o);

// The simulation configuration of one pool of a deployment (exposed for tests and for `simulate`'s reading).
sim::SimConfig pool_config(const Problem& p, const Deployment& d, const Pool& pool);

}  // namespace roofline::search
