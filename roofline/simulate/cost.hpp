// The time of one serving step, from the op model: the step's actual mix of sequences (prefill chunks and
// decodes at their own contexts) becomes an opmodel::BatchShape, its ops are timed one by one, and the
// parallel layout adds its communication. Every step's time is a sum of op times, so it traces back to them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"
#include "opmodel/step_ops.hpp"
#include "roofline/core/classify.hpp"

namespace roofline::sim {

// How a MoE replica spreads its experts and attention over its tp devices (pp = 1).
struct ExpertParallel {
  int ep = 1;                  // devices holding whole experts, E/ep each: 1 (each expert sharded over tp) or tp
  bool dp_attention = false;   // attention data-parallel: each device runs whole heads for its own 1/tp of the
                               // sequences (and holds their KV), as MLA models are served
  std::optional<double> skew;  // routed rows on the most loaded device over the mean; absent: the expected
                               // maximum under uniform random routing (max_load_factor)
};

// How one replica lays the model on its devices: tensor parallelism shards the heads, the MLP and the
// vocabulary over tp devices; pipeline parallelism gives each of pp stages a run of consecutive layers; expert
// parallelism (ExpertParallel) keeps experts whole on ep devices, and DP attention gives each device whole
// heads for a share of the sequences.
struct Layout {
  opmodel::ModelConfig shard;              // what one device computes: h/tp, g/tp, f/tp, ceil(V/tp) (whole heads,
                                           // MLPs and vocabulary with DP attention; whole experts with ep > 1)
  int tp = 1, pp = 1;
  ExpertParallel expert;
  double max_normal = 0;                   // E[max of ep standard normals], for the random-routing load
  // Steps run through split_step_s: experts or attention are not simply tensor-parallel.
  bool split() const { return expert.ep > 1 || expert.dp_attention; }
  int attention_ranks() const { return expert.dp_attention ? tp : 1; }
  std::int64_t layers = 0;                 // L of the whole model
  std::vector<std::int64_t> stage_layers;  // per stage; the first L mod pp stages take one more
  bool tied_embeddings = false;
  double link_bytes_per_s = 0;             // interconnect, per direction (0 on one device)
  double link_latency_s = 0;
  bool latency_given = false;              // false: neither the profile nor --link-latency gives one: 0 taken
  std::string link_name;
  // Expected all-reduces (the profile's nccl-tests figures): the attained fraction of the link, and the small-
  // message time; absent: the ring formula on the bare link.
  std::optional<double> allreduce_bus_efficiency, allreduce_small_s;
  // Expected all-to-alls (MoE dispatch and combine): the same two figures for the bytes leaving a device.
  std::optional<double> alltoall_bus_efficiency, alltoall_small_s;
};

// Throws SimError when tp does not divide the heads, KV heads or MLP width, when pp exceeds the layers,
// or when tp or pp > 1 and the profile has no interconnect bandwidth; OptionError for expert parallelism on a
// dense model, with pp > 1, or with ep other than 1 or tp.
Layout make_layout(const opmodel::ModelConfig& m, const hardware::Profile& hw, int tp, int pp,
                   std::optional<double> link_latency_s, const ExpertParallel& expert = {});

// E[max of n independent standard normals] = integral of x n phi(x) Phi(x)^(n-1) dx (0 for n = 1).
double expected_max_standard_normal(int n);
// Routed rows on the most loaded of ep devices over the mean, for `rows` = tokens x k routed rows: the given
// skew, or under uniform random routing each device's load ~ Binomial(rows, 1/ep) (mean mu = rows/ep, sigma =
// sqrt(rows (1/ep)(1 - 1/ep))), so E[max] / mu = 1 + E[max of ep normals] sqrt((ep - 1) / rows); at least
// ceil(mu) / mu (the busiest device's whole rows), at most ep.
double max_load_factor(const Layout& l, double rows);
// Devices besides its own that one token's k routed rows reach: each of the ep - 1 others holds one of the
// token's experts with probability 1 - (1 - 1/ep)^k (the k picks taken as independent).
double remote_devices_per_token(int ep, double k);

// Ring all-reduce of `bytes` over n devices: a reduce-scatter then an all-gather, each n - 1 steps in
// which every device sends bytes / n to its neighbour: 2 (n-1)/n bytes / bandwidth + 2 (n-1) latency.
double ring_allreduce_s(double bytes, int n, double bytes_per_s, double latency_s);

// Memory one device of a stage holds besides the workspace: its weights, and KV cache per token.
struct StageMemory {
  double weights_bytes = 0;
  double kv_bytes_per_token = 0;
};
std::vector<StageMemory> stage_memory(const Layout& layout, const opmodel::Scenario& s);

// Where a run's device time went: each op (summed over stages and steps), and the communication.
struct TimeByOp {
  std::array<std::string_view, opmodel::OpList::kCapacity> names{};
  std::array<double, opmodel::OpList::kCapacity> op_s{};
  std::size_t size = 0;
  double allreduce_s = 0;  // tensor-parallel all-reduces (with DP attention: the MoE layers' all-gather and
                           // reduce-scatter of tokens)
  double alltoall_s = 0;   // expert parallelism's dispatch and combine
  double send_s = 0;       // pipeline sends between stages
  double draft_s = 0;      // speculative decoding's draft model (its own ops are not split out)
  // The slot of the op called name, added at the end when new (the vocabulary is fixed: at most kCapacity names a
  // run; an op past that throws std::length_error). `hint`: where it usually is (its index in the step's op list,
  // the same from step to step), checked first so that the usual lookup is one comparison.
  std::size_t slot(std::string_view name, std::size_t hint = 0) {
    if (hint < size && names[hint] == name) return hint;
    for (std::size_t i = 0; i < size; ++i)
      if (names[i] == name) return i;
    if (size == names.size()) throw std::length_error("TimeByOp: more op names than slots");
    names[size] = name;
    return size++;
  }
};

class StepCost {
 public:
  // Throws hardware::ProfileError when the profile lacks the fp32 peak or the precisions the ops need.
  // calibrated: op times are the profile's calibrated expectations (roofline/core/expected_time.hpp) instead of
  // the bound; SimError when the profile has no calibration, or (at the step that needs it) no fit for an op.
  StepCost(const Layout& layout, const opmodel::Scenario& s, const hardware::Profile& hw, bool calibrated = false);
  StepCost(const StepCost&) = delete;
  StepCost& operator=(const StepCost&) = delete;

  const Layout& layout() const { return layout_; }
  // The time of one op instance on one device in a step of shape b whose weights and KV reads total
  // stream_bytes: the one place op times come from. The roofline bound, or with `calibrated` the
  // expectation under the same warm hierarchical cache treatment the calibration was fitted with; a step
  // with more tokens than sequences counts as prefill.
  // `index`: the op's place in the step's op list, where its fit is kept between steps.
  double op_time_s(const opmodel::OpCost& op, const opmodel::BatchShape& b, double stream_bytes,
                   std::size_t index = 0) const;
  // Fills stage_s[0 .. pp) with each stage's time for a micro-batch of shape b: its ops over the stage's
  // layers (embed on the first stage, final_norm and lm_head on the last) and, with tp > 1, two all-reduces
  // of the micro-batch's activations per layer. Adds the op and all-reduce times into `tally` when given.
  // With pp = 1 and tp = 1 the time is analyze_step's, summed the same way.
  void stage_times(const opmodel::BatchShape& b, double* stage_s, TimeByOp* tally) const;
  // A step with expert parallelism or DP attention (layout().split(), pp = 1): ranks[r] is DP rank r's share of
  // the batch (one rank, the whole batch, without DP attention) and global the whole step. The time is the
  // slowest rank's attention and dense ops, the routed experts on the most loaded device (the global step's
  // expert ops x max_load_factor / ep, weights / ep), and per MoE layer the all-to-all dispatch and combine
  // (DP attention, ep = tp), the all-gather and reduce-scatter of tokens (DP attention, ep = 1), or, without DP
  // attention, the usual two all-reduces per layer (they also sum the experts' partial outputs).
  double split_step_s(std::span<const opmodel::BatchShape> ranks, const opmodel::BatchShape& global,
                      TimeByOp* tally) const;
  // One dispatch (or combine) of `tokens` tokens of one DP rank: tokens x d x a_float x remote_devices_per_token
  // bytes out of the device over its link, plus the link's latency; expected (calibrated, with the profile's
  // all-to-all figures): the small-call time plus those bytes at the attained fraction of the link.
  double alltoall_s(double tokens) const;
  // The two all-reduces of one layer for `tokens` tokens: 2 ring_allreduce_s(tokens d a_float).
  double allreduce_per_layer_s(double tokens) const;
  // A micro-batch's activations (tokens x d x a_float) sent from one stage to the next: bytes / bw + latency.
  double send_s(double tokens) const;

 private:
  Layout layout_;
  opmodel::Scenario scenario_;
  hardware::Profile hw_;
  Roofs roofs_;
  bool calibrated_ = false;
  double act_bytes_ = 2;  // bytes per element of the activations that cross devices
  // The fit each op found, per its place in the op list, kernel class and phase: looked up once, not every step
  // (a slot is trusted only while the op there has the same name and weights).
  struct FitSlot {
    const char* name = nullptr;
    opmodel::DType weights = opmodel::DType::fp32;
    const hardware::EfficiencyFit* fit = nullptr;
  };
  mutable std::array<std::array<FitSlot, 8>, opmodel::OpList::kCapacity> fits_{};
};

}  // namespace roofline::sim
