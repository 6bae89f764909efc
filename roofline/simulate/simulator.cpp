// Setting a run up: validation, the parallel layout, the memory plan (weights, workspace, KV blocks per
// device), then each replica on its share of the requests.
#include "roofline/simulate/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "opmodel/footprint.hpp"
#include "reports/units.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/replica.hpp"

namespace roofline::sim {

std::string_view to_string(Scheduler s) {
  switch (s) {
    case Scheduler::static_batch: return "static";
    case Scheduler::continuous: return "continuous";
    case Scheduler::chunked: return "chunked";
  }
  return "?";
}

std::int64_t late_requests_for_p90(std::int64_t n) {
  // p90 interpolates from sorted[floor(0.9 (n - 1))] upwards: above the limit once that many values from the top are.
  return n - std::int64_t(std::floor(0.9 * double(n - 1)));
}

std::int64_t default_max_tokens(Scheduler s) {
  switch (s) {
    case Scheduler::static_batch: return 8192;
    case Scheduler::continuous: return 8192;
    case Scheduler::chunked: return 2048;
  }
  return 0;
}

namespace {

void check(const char* option, bool ok, const std::string& problem) {
  if (!ok) throw OptionError(option, problem);
}

void validate(const opmodel::ModelConfig& m, const SimConfig& c, std::int64_t max_tokens) {
  constexpr int kMaxDevices = 4096;
  check("max-batch", c.max_batch >= 1 && c.max_batch <= (1 << 20),
        fmt::format("must be in [1, 2^20], got {}", c.max_batch));
  check("max-tokens", max_tokens >= 0 && max_tokens <= kMaxTokens,
        fmt::format("must be in [1, 2^24], got {}", max_tokens));
  check("block-size", c.block_size >= 1 && c.block_size <= 4096,
        fmt::format("must be in [1, 4096], got {}", c.block_size));
  if (c.kv_blocks)
    check("kv-blocks", *c.kv_blocks >= 1 && *c.kv_blocks <= (std::int64_t{1} << 40), "must be in [1, 2^40]");
  check("mem-util", c.memory_utilization > 0 && c.memory_utilization <= 1,
        fmt::format("must be in (0, 1], got {}", c.memory_utilization));
  for (auto [name, v] : {std::pair{"tp", c.tp}, std::pair{"pp", c.pp}, std::pair{"replicas", c.replicas}})
    check(name, v >= 1 && v <= kMaxDevices, fmt::format("must be in [1, {}], got {}", kMaxDevices, v));
  check("microbatches", c.microbatches >= 0 && c.microbatches <= 1024, "must be in [1, 1024]");
  if (c.link_latency_s)
    check("link-latency", std::isfinite(*c.link_latency_s) && *c.link_latency_s >= 0, "must be >= 0");
  if (const auto& sp = c.speculation) {
    check("spec-tokens", sp->tokens >= 1 && sp->tokens <= 64, fmt::format("must be in [1, 64], got {}", sp->tokens));
    check("accept-rate", sp->accept_rate >= 0 && sp->accept_rate <= 1,
          fmt::format("must be in [0, 1], got {}", sp->accept_rate));
    check("draft-model", c.pp == 1, "speculative decoding with --pp > 1 is not modelled");
    check("draft-model", sp->draft.vocab_size == m.vocab_size,
          fmt::format("the draft's vocabulary ({}) differs from {}'s ({})", sp->draft.vocab_size, m.name,
                      m.vocab_size));
    if (c.scheduler == Scheduler::chunked)
      check("max-tokens", max_tokens >= sp->tokens + 1, "must hold one speculative decode (spec-tokens + 1)");
  }
}

// Tokens of the largest step the scheduler forms; the workspace holds its activations. Static and chunked:
// the budget; continuous: the budget, or one longer prompt alone. (A recomputation after preemption is
// taken as fitting the same workspace.)
std::int64_t largest_step_tokens(const SimConfig& c, const Workload& w, std::int64_t max_tokens) {
  if (c.scheduler != Scheduler::continuous) return max_tokens;
  std::int64_t longest = 0;
  for (const Request& r : w.requests) longest = std::max(longest, r.prompt_tokens);
  return std::max(max_tokens, longest);
}

MemoryPlan plan_memory(const Layout& layout, const Layout* draft, const SimConfig& c, const hardware::Profile& hw,
                       std::int64_t workspace_tokens) {
  MemoryPlan mp;
  mp.capacity_bytes = hw.capacity_bytes();
  mp.workspace_tokens = workspace_tokens;
  opmodel::Scenario s = c.scenario;
  s.batch = 1;
  s.q_len = workspace_tokens;
  s.kv_len = 0;
  StepResult step;
  analyze_step(layout.shard, s, Roofs::of(hw), Phase::prefill, step);
  mp.workspace_bytes = peak_activation_bytes(layout.shard, s, step);

  const double draft_weights = draft ? opmodel::weight_bytes(draft->shard, s) : 0;
  const double draft_kv = draft ? opmodel::kv_bytes_per_token(draft->shard, s.kv_dtype) : 0;
  const auto stages = stage_memory(layout, s);
  // Linear-attention layers keep a fixed state per sequence: reserved for max_batch sequences, as engines do,
  // shared out over the stages by layers.
  const double state_total = double(c.max_batch) * opmodel::state_bytes_per_sequence(layout.shard, s.kv_dtype);
  std::int64_t blocks = std::numeric_limits<std::int64_t>::max();
  double fullest = -1;  // with --kv-blocks: the most a stage holds
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const double weights = stages[i].weights_bytes + (i == 0 ? draft_weights : 0);  // the draft: pp = 1
    const double state =  // DP attention: each device holds the state of its own 1/tp of the sequences
        state_total * double(layout.stage_layers[i]) / double(layout.layers) / double(layout.attention_ranks());
    const double block = double(c.block_size) * (stages[i].kv_bytes_per_token + (i == 0 ? draft_kv : 0));
    std::int64_t stage_blocks = 0;
    if (!c.kv_blocks && mp.capacity_bytes) {
      mp.usable_bytes = *mp.capacity_bytes * c.memory_utilization;
      const double left = mp.usable_bytes - weights - mp.workspace_bytes - state;
      stage_blocks = left > 0 ? std::int64_t(std::floor(left / block)) : 0;  // whole blocks in what is left
    }
    // The fullest stage sets the cache size (or, with --kv-blocks, the memory reported).
    const double held =
        c.kv_blocks ? weights + state + block * double(*c.kv_blocks) / double(layout.attention_ranks()) : 0;
    if (c.kv_blocks ? held > fullest : stage_blocks < blocks) {
      fullest = held;
      blocks = stage_blocks;
      mp.weights_bytes = weights;
      mp.state_bytes = state;
      mp.block_bytes = block;
    }
  }
  mp.kv_ranks = layout.attention_ranks();
  if (c.kv_blocks) {
    mp.kv_blocks = *c.kv_blocks;
    mp.blocks_given = true;
    return mp;
  }
  if (!mp.capacity_bytes)
    throw SimError("hardware profile " + (hw.origin.empty() ? hw.name : hw.origin), "field 'memory.capacity_bytes'",
                   "is needed to size the KV cache (or give --kv-blocks)");
  if (blocks < 1)
    throw MemoryError("memory", "",
                   fmt::format("weights {} + workspace {} per device leave no room for the KV cache in {} usable "
                               "(--mem-util {}); use more --tp or --pp, a smaller --max-tokens, or --kv-blocks",
                               reports::si(mp.weights_bytes, "B"), reports::si(mp.workspace_bytes, "B"),
                               reports::si(mp.usable_bytes, "B"), c.memory_utilization));
  mp.kv_blocks = blocks * mp.kv_ranks;
  return mp;
}

}  // namespace

SimResult simulate(const opmodel::ModelConfig& m, const hardware::Profile& hw, const Workload& w, const SimConfig& c) {
  const std::int64_t max_tokens = c.max_tokens ? *c.max_tokens : default_max_tokens(c.scheduler);
  validate(m, c, max_tokens);
  if (w.requests.empty()) throw SimError("workload", "", "has no requests");
  opmodel::Scenario s = c.scenario;
  s.batch = s.q_len = 1;
  s.kv_len = 0;
  opmodel::validate(s);

  SimResult out;
  if (m.max_position_embeddings > 0) {
    std::int64_t over = 0, longest = 0;
    for (const Request& r : w.requests) {
      longest = std::max(longest, r.prompt_tokens + r.output_tokens);
      over += r.prompt_tokens + r.output_tokens > m.max_position_embeddings ? 1 : 0;
    }
    if (over > 0)
      out.warnings.push_back(fmt::format("{} of {} requests run past {}'s max_position_embeddings of {} (the longest "
                                         "to {} tokens): positions the model was not trained for",
                                         over, w.requests.size(), m.name, m.max_position_embeddings, longest));
  }
  out.layout = make_layout(m, hw, c.tp, c.pp, c.link_latency_s, c.expert);
  out.max_tokens = max_tokens;
  const StepCost target(out.layout, s, hw, c.calibrated);
  std::optional<Layout> draft_layout;
  std::unique_ptr<StepCost> draft;
  if (c.speculation) {
    draft_layout = make_layout(c.speculation->draft, hw, c.tp, 1, c.link_latency_s);
    draft = std::make_unique<StepCost>(*draft_layout, s, hw, c.calibrated);
    const double a = c.speculation->accept_rate, k = double(c.speculation->tokens);
    // Expected tokens per verification: sum over i = 0..k of alpha^i (the i-th draft is reached when all before
    // it were accepted; the last term is the target's own token) = (1 - alpha^(k+1)) / (1 - alpha).
    out.spec_expected_tokens = a < 1 ? (1 - std::pow(a, k + 1)) / (1 - a) : k + 1;
  }
  out.memory = plan_memory(out.layout, draft_layout ? &*draft_layout : nullptr, c, hw,
                           largest_step_tokens(c, w, max_tokens));

  // Every request must fit the cache alone, or it could never run.
  KvCache sizing(out.memory.kv_blocks, c.block_size, 0);
  for (std::size_t i = 0; i < w.requests.size(); ++i) {
    const Request& r = w.requests[i];
    const std::int64_t need = sizing.blocks_for(r.prompt_tokens + r.output_tokens - 1);
    if (need > out.memory.kv_blocks)
      throw MemoryError(r.line > 0 ? fmt::format("trace {}:{}", w.origin, r.line) : fmt::format("request {}", i + 1), "",
                     fmt::format("{} prompt + {} output tokens need {} KV blocks of {} tokens; a replica holds {}",
                                 r.prompt_tokens, r.output_tokens, need, c.block_size, out.memory.kv_blocks));
  }

  out.requests.resize(w.requests.size());
  const std::int64_t late_to_stop = c.stop_when_ttft_p90_above_s
                                         ? late_requests_for_p90(std::int64_t(w.requests.size()))
                                         : std::numeric_limits<std::int64_t>::max();
  const Shared shared{c, w, target, draft.get(), out.memory.kv_blocks, out.max_tokens, out, late_to_stop};
  for (int rep = 0; rep < c.replicas; ++rep) {
    std::vector<std::int32_t> ids;  // round robin in arrival order
    for (std::size_t i = std::size_t(rep); i < w.requests.size(); i += std::size_t(c.replicas))
      ids.push_back(std::int32_t(i));
    if (ids.empty()) continue;
    Replica replica(shared, rep, std::move(ids));
    replica.run();
    if (out.stopped) return out;
  }

  if (c.speculation) {
    SimConfig base = c;
    base.speculation.reset();
    base.keep_steps = false;
    out.baseline = std::make_shared<const SimResult>(simulate(m, hw, w, base));
  }
  return out;
}

}  // namespace roofline::sim
