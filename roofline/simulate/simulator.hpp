// The serving simulator: replays a workload on replicas of a model laid out over devices (tensor and
// pipeline parallelism), step by step. A scheduler picks each step's mix of prefill chunks and decodes under
// the paged KV cache; the step's time comes from the op model for exactly that mix (cost.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/simulate/cost.hpp"
#include "roofline/simulate/workload.hpp"

namespace roofline::sim {

enum class Scheduler {
  static_batch,  // a batch is formed when the server is idle, prefilled (a budget of tokens per step), then
                 // decodes in lockstep until its last request ends; blocks for prompt + output held up front
  continuous,    // vLLM: admit whole prompts when KV blocks are free; a step is all prefills or all decodes
  chunked,       // Sarathi-Serve: a per-step token budget, decodes first, then prefill chunks mixed in
};
std::string_view to_string(Scheduler s);

struct Speculation {
  opmodel::ModelConfig draft;
  std::int64_t tokens = 4;   // k: tokens drafted per target step
  double accept_rate = 0.7;  // alpha: each draft accepted independently, until the first rejection
};

struct SimConfig {
  opmodel::Scenario scenario;  // dtypes, attention, fusions (its batch, q_len, kv_len are not read)
  Scheduler scheduler = Scheduler::continuous;
  std::int64_t max_batch = 256;               // sequences per step
  std::optional<std::int64_t> max_tokens;     // tokens per step; default 8192 (static, continuous), 2048 (chunked)
  std::int64_t block_size = 16;               // tokens per KV block
  std::optional<std::int64_t> kv_blocks;      // blocks per replica, instead of what the memory leaves
  double memory_utilization = 0.9;            // share of device memory the server may use
  bool prefix_caching = true;
  int tp = 1, pp = 1, replicas = 1;
  ExpertParallel expert;                      // MoE: experts whole over ep devices, DP attention
  int microbatches = 0;                       // per step when pp > 1; 0: pp
  std::optional<double> link_latency_s;       // overrides the profile's interconnect latency
  std::optional<Speculation> speculation;
  std::uint64_t seed = 1;                     // for acceptance draws
  bool keep_steps = true;                     // keep every step's record (for the trace; 100 B a step)
  bool calibrated = false;                    // op times: the profile's calibrated expectations, not the bound
  // The search's early stop: end the run once the 90th percentile TTFT is sure to exceed this, i.e. once
  // n - floor(0.9 (n - 1)) requests got their first token later than it after arriving (the order statistic
  // the percentile starts from is then above it). The result is then partial: SimResult::stopped.
  std::optional<double> stop_when_ttft_p90_above_s;
};

// Requests whose TTFT must exceed a limit for the 90th percentile (linear interpolation) to exceed it.
std::int64_t late_requests_for_p90(std::int64_t requests);

// Default token budget per step of a scheduler.
std::int64_t default_max_tokens(Scheduler s);

struct RequestOutcome {
  double arrival_s = 0, first_token_s = 0, finish_s = 0;
  std::int64_t prompt_tokens = 0, output_tokens = 0;
  std::int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache, over all admissions
  std::int32_t preemptions = 0;
  std::int32_t replica = 0;
};

struct StepRecord {
  std::int32_t replica = 0;
  double start_s = 0, time_s = 0;
  std::int32_t prefill_seqs = 0, decode_seqs = 0;
  std::int64_t prefill_tokens = 0;  // prompt tokens computed (chunks)
  std::int64_t decode_tokens = 0;   // tokens through the target model for decodes (k + 1 when speculating)
  std::int64_t context_tokens = 0;  // tokens cached before the step, summed over its sequences
  std::int64_t emitted_tokens = 0;  // output tokens produced
  std::int64_t kv_blocks_used = 0;  // held during the step (requests and cached prefixes)
  std::int32_t running = 0, waiting = 0;  // admitted, and arrived but not admitted, at the step's start
  std::int32_t preemptions = 0;     // while scheduling this step
  std::uint32_t first_slice = 0, slices = 0;  // into SimResult::slices
};

// A busy interval of one pipeline stage (all its tp devices) within a step.
struct Slice {
  double offset_s = 0, time_s = 0;  // from the step's start
  std::int16_t stage = 0, microbatch = 0;
  bool draft = false;               // the draft model's passes (speculative decoding)
};

struct PreemptionEvent {
  double time_s = 0;
  std::int32_t replica = 0, request = 0;
  std::int64_t blocks_needed = 0, blocks_available = 0, blocks_total = 0;
};

// Memory of one device (the fullest stage), and the KV cache it leaves.
struct MemoryPlan {
  std::optional<double> capacity_bytes;  // the profile's
  double usable_bytes = 0;               // capacity x memory_utilization (0 when kv_blocks was given)
  double weights_bytes = 0;              // the model's shard on the fullest stage (with the draft's)
  double workspace_bytes = 0;            // activations of the largest step the scheduler can form
  std::int64_t workspace_tokens = 0;
  double state_bytes = 0;                // linear-attention state of max_batch sequences on that stage
  double block_bytes = 0;                // one block of every layer of the stage (and of the draft)
  std::int64_t kv_blocks = 0;            // per replica
  int kv_ranks = 1;                      // devices the blocks are spread over (DP attention: each holds the KV
                                         // of its own sequences; the replica's blocks are taken as one pool)
  bool blocks_given = false;
  // KV bytes on one device when the replica holds `blocks`.
  double device_kv_bytes(std::int64_t blocks) const { return double(blocks) * block_bytes / double(kv_ranks); }
  double kv_bytes() const { return device_kv_bytes(kv_blocks); }
  // Everything one device holds when the replica holds `blocks`: weights, workspace, state and its KV.
  double device_bytes(std::int64_t blocks) const {
    return weights_bytes + workspace_bytes + state_bytes + device_kv_bytes(blocks);
  }
};

struct SimResult {
  Layout layout;
  MemoryPlan memory;
  std::int64_t max_tokens = 0;  // the token budget used
  std::vector<RequestOutcome> requests;  // in workload order
  std::vector<StepRecord> steps;         // with keep_steps: replica 0's in time order, then replica 1's, ...
  std::vector<StepRecord> timeline;      // every 2^k-th step of each replica, 256 to 511 of them (or all)
  std::vector<Slice> slices;
  std::vector<PreemptionEvent> preemptions;
  TimeByOp time_by_op;                   // device time of one tp rank per stage, summed over stages and replicas
  std::int64_t step_count = 0;
  double busy_s = 0;         // sum of step times over replicas
  std::int64_t peak_kv_blocks = 0;  // the most one replica held in a step
  double kv_block_s = 0;     // sum over steps of blocks held x step time
  double request_s = 0;      // sum over steps of requests in the system (running + waiting) x step time
  double bubble_s = 0;       // stage time idle inside steps (pipeline fill and drain), summed over stages
  std::int64_t computed_tokens = 0;  // tokens through the target model (sum of every step's q)
  std::int64_t cached_tokens = 0;    // prompt tokens the prefix cache supplied
  std::int64_t lost_tokens = 0;      // cached tokens dropped by preemption (computed again)
  std::int64_t prefix_lookups = 0, prefix_hits = 0, prefix_evictions = 0;
  std::int64_t spec_steps = 0, spec_tokens = 0;  // speculative decodes, and the tokens they emitted
  double spec_expected_tokens = 0;               // (1 - alpha^(k+1)) / (1 - alpha)
  std::shared_ptr<const SimResult> baseline;     // the same run without speculation
  std::vector<std::string> warnings;  // requests longer than the model's max_position_embeddings
  // Whether max_batch ever stopped an admission (a request waited while max_batch sequences ran). When it did
  // not, and the memory plan does not depend on max_batch (no linear-attention state), a larger max_batch
  // runs exactly the same steps: what lets the search reuse a run.
  bool batch_capped = false;
  std::int64_t late_first_tokens = 0;  // with stop_when_ttft_p90_above_s: first tokens later than it
  bool stopped = false;                // the run ended early: its TTFT p90 exceeds the limit; nothing else holds
};

// Validates the configuration (SimError, hardware::ProfileError, opmodel::ModelError) and simulates.
SimResult simulate(const opmodel::ModelConfig& m, const hardware::Profile& hw, const Workload& w, const SimConfig& c);

}  // namespace roofline::sim
