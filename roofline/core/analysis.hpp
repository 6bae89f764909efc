// The analysis of a model on a device: every step's ops under the roofs, the whole request
// (prefill then decode steps), and the memory it needs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/core/classify.hpp"

namespace roofline {

enum class Phase { prefill, decode };
std::string_view to_string(Phase p);

// One step: its ops classified, and its totals (counts included).
struct StepResult {
  Phase phase = Phase::prefill;
  std::int64_t batch = 0, q_len = 0, kv_len = 0;
  std::array<OpPoint, opmodel::OpList::kCapacity> ops{};
  std::size_t op_count = 0;
  double flops = 0, bytes = 0, time_s = 0;  // sums over ops of count x one instance
  double memory_bound_time_s = 0;           // part of time_s spent in memory-bound ops

  const OpPoint* begin() const { return ops.data(); }
  const OpPoint* end() const { return ops.data() + op_count; }
};

// Classifies every op of one step. The hot path: no allocation. Scenario must be validated.
void analyze_step(const opmodel::ModelConfig& m, const opmodel::Scenario& s, const Roofs& roofs,
                  Phase phase, StepResult& out);

// A calibrated profile's expectation of a step (expected_time.hpp): each op instance's expected time,
// none where the calibration has no fit for the op; the step's total (count x instance) when all have one.
struct StepExpectation {
  std::array<std::optional<double>, opmodel::OpList::kCapacity> op_s{};
  std::array<std::optional<double>, opmodel::OpList::kCapacity> op_flops_per_s{};  // FLOPs / expected time
  std::optional<double> total_s;
};

struct MemoryResult {
  std::int64_t context_tokens = 0;  // tokens per sequence the KV cache holds at its fullest
  double weights_bytes = 0;
  double kv_cache_bytes = 0;
  double activations_bytes = 0;  // residual stream + the largest op's activation inputs and outputs
  std::optional<double> capacity_bytes;
  double total_bytes() const { return weights_bytes + kv_cache_bytes + activations_bytes; }
  std::optional<bool> fits() const {
    if (!capacity_bytes) return std::nullopt;
    return total_bytes() <= *capacity_bytes;
  }
};

struct RequestResult {
  std::int64_t gen_tokens = 0;  // decode steps after the prefill
  double ttft_s = 0;            // the prefill step
  double tpot_s = 0;            // mean decode step
  double total_time_s = 0;      // prefill + every decode step as the cache grows
  double output_tokens_per_s = 0;  // batch x gen / total_time_s
  double decode_tokens_per_s = 0;  // batch / tpot_s
  std::optional<double> expected_ttft_s, expected_tpot_s;  // with a calibrated profile
};

// What the user asked for.
struct AnalysisRequest {
  opmodel::Scenario scenario;          // batch, dtypes, attention, fusion (q_len/kv_len set per phase)
  std::optional<std::int64_t> prompt;  // prefill length
  std::optional<std::int64_t> kv_len;  // context of the decode step shown (default: prompt)
  std::optional<std::int64_t> gen;     // decode steps of the whole request
  bool prefill = true, decode = true;  // phases to show
  // The context of the decode step shown: --kv-len, else the prompt (the step right after the prefill).
  std::int64_t decode_context() const { return kv_len ? *kv_len : prompt.value_or(0); }
};

struct Analysis {
  opmodel::ModelConfig model;
  hardware::Profile hardware;
  AnalysisRequest request;
  double parameters = 0;         // the model's parameter count (opmodel::parameter_count)
  double active_parameters = 0;  // those one token goes through (opmodel::active_parameter_count)
  std::vector<StepResult> steps;  // the phases shown, prefill first
  std::vector<StepExpectation> expected;  // parallel to steps when the profile is calibrated, else empty
  MemoryResult memory;
  std::optional<RequestResult> whole_request;  // with gen
  hardware::Precision linear_precision = hardware::Precision::fp16;  // roof of the projections
  bool mixed_precisions = false;  // some matrix op runs at another precision (block-float weights, per-module formats)
  double ridge_flops_per_byte = 0;               // of that roof against main memory
  std::optional<std::int64_t> decode_compute_bound_batch;  // smallest batch whose decode linears are compute-bound
  // What the model was not built for but was asked anyway (a context beyond max_position_embeddings): shown on
  // stderr, in the table and in the JSON; an error with --strict.
  std::vector<std::string> warnings;
};

// A warning when `tokens` per sequence exceed the model's max_position_embeddings (none when it is not given).
std::optional<std::string> context_warning(const opmodel::ModelConfig& m, std::int64_t tokens, const std::string& what);

// Validates the request (throws opmodel::ModelError, hardware::ProfileError) and analyzes.
Analysis analyze(const opmodel::ModelConfig& m, const hardware::Profile& hw, const AnalysisRequest& req);

// Activation memory a step needs at once: the residual stream (T d a) plus the largest single op's
// activation inputs and outputs.
double peak_activation_bytes(const opmodel::ModelConfig& m, const opmodel::Scenario& s, const StepResult& step);

// Smallest batch at which the decode step's linear ops, taken together, are compute-bound; none if
// no batch up to 2^20 is (the activations' traffic grows as fast as the FLOPs).
std::optional<std::int64_t> decode_compute_bound_batch(const opmodel::ModelConfig& m, opmodel::Scenario s,
                                                       const Roofs& roofs);

}  // namespace roofline
