// The time of one serving step, from the op model: the step's actual mix of sequences (prefill chunks and
// decodes at their own contexts) becomes an opmodel::BatchShape, its ops are timed one by one, and the
// parallel layout adds its communication. Every step's time is a sum of op times, so it traces back to them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
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

// How one replica lays the model on its devices: tensor parallelism shards the heads, the MLP and the
// vocabulary over tp devices; pipeline parallelism gives each of pp stages a run of consecutive layers.
struct Layout {
  opmodel::ModelConfig shard;              // what one device computes: h/tp, g/tp, f/tp, ceil(V/tp)
  int tp = 1, pp = 1;
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
};

// Throws SimError when tp does not divide the heads, KV heads or MLP width, when pp exceeds the layers,
// or when tp or pp > 1 and the profile has no interconnect bandwidth.
Layout make_layout(const opmodel::ModelConfig& m, const hardware::Profile& hw, int tp, int pp,
                   std::optional<double> link_latency_s);

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
  double allreduce_s = 0;  // tensor-parallel all-reduces
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
  double op_time_s(const opmodel::OpCost& op, const opmodel::BatchShape& b, double stream_bytes) const;
  // Fills stage_s[0 .. pp) with each stage's time for a micro-batch of shape b: its ops over the stage's
  // layers (embed on the first stage, final_norm and lm_head on the last) and, with tp > 1, two all-reduces
  // of the micro-batch's activations per layer. Adds the op and all-reduce times into `tally` when given.
  // With pp = 1 and tp = 1 the time is analyze_step's, summed the same way.
  void stage_times(const opmodel::BatchShape& b, double* stage_s, TimeByOp* tally) const;
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
};

}  // namespace roofline::sim
