// Expected op times: the roofline bound (classify.hpp) is what an op cannot beat; the expected time is what
// the kernels that run it attain, from the profile's efficiency figures (hardware/calibration.hpp):
//   expected = overhead_s + max(compute_s / compute_efficiency, memory_s / memory_efficiency)
// under the warm hierarchical cache treatment the figures were fitted with:
//   - weights and KV cache come from the innermost level that holds the whole step's weight and KV reads (a
//     warm step re-reads them one step after it last did: the reuse distance is the step);
//   - activations come from the innermost level that holds the op's own traffic (written by the op before).
// Main memory when nothing smaller holds them; the memory time is the sum of the two streams.
// `analyze` (expect_step) and `simulate` (StepCost) both reach a fit through expected_op_time, so the two
// cannot time the same op differently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hardware/calibration.hpp"
#include "hardware/profile.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"
#include "roofline/core/analysis.hpp"

namespace roofline {

// A linear of at most this many rows is a GEMV (the weights streamed once per row block), a larger one a GEMM.
// The reference engine switches kernels at the same row count (engine::kGemvMaxRows); a test ties the two.
inline constexpr std::int64_t kGemvMaxRows = 8;

// Rows a linear processes in a scenario: lm_head runs on each sequence's last token (or every token with
// all_logits), every other projection on all tokens.
double linear_rows(const opmodel::OpCost& op, const opmodel::Scenario& s);
// The kernel class of an op in a scenario, or of an op whose linear rows are given (a serving step's mix);
// embedding counts as element-wise. A grouped linear (MoE experts, gemm_groups > 1) is classed by its rows per
// group: each expert runs its own GEMV or GEMM over its tokens, as the engine's do.
hardware::KernelClass kernel_class(const opmodel::OpCost& op, const opmodel::Scenario& s);
hardware::KernelClass kernel_class(const opmodel::OpCost& op, double linear_rows);
// The format a fit is keyed by: a linear's own weight format as stored (its module's under per-module formats;
// lm_head and routers dense), attention's KV cache format, the embedding's dense dtype, the scenario's weight dtype
// for the other ops.
std::string kernel_weights(const opmodel::OpCost& op, const opmodel::Scenario& s);

// The level a stream of `bytes` is served from: the innermost cache with a size and a bandwidth that holds
// them, else main memory.
struct LevelRoof {
  std::string_view name;  // the profile's (it outlives the result)
  double bytes_per_s = 0;
};
LevelRoof level_for(const hardware::Profile& p, double bytes);

// One op instance's roof times under the warm hierarchical treatment. step_stream_bytes: the step's weight
// and KV reads over all op instances.
struct HierarchicalTimes {
  double compute_s = 0, memory_s = 0;
  std::string_view stream_level, act_level;  // the profile's level names; "-" where the op has no such bytes
};
HierarchicalTimes hierarchical_times(const opmodel::OpCost& op, double peak_flops_per_s, double step_stream_bytes,
                                     const hardware::Profile& hw);
double step_stream_bytes(const StepResult& step);

// The serving framework's own time per expected step (scheduling, sampling): the profile's
// efficiency.step_overhead_s, 0 when it names none. analyze's expected step and simulate's both add it.
double framework_step_s(const hardware::Profile& hw);

// overhead + max(compute_s / compute efficiency, memory_s / memory efficiency).
double expected_time(const hardware::EfficiencyFit& f, double compute_s, double memory_s);

// Where one op instance runs, as far as choosing its fit and its cache levels goes.
struct OpSetting {
  double linear_rows = 1;     // rows its linear processes (GEMV or GEMM)
  Phase phase = Phase::prefill;
  double stream_bytes = 0;    // the step's weight and KV reads
};
// The query a calibrated profile is asked for this op.
hardware::FitQuery fit_query(const opmodel::OpCost& op, const opmodel::Scenario& s, const OpSetting& at,
                             std::string& weights_storage);
// The factor (0, 1] a prompt's causal attention loses to its kernel's tiles and waves (hardware::attention_quantization
// over the op's prompt geometry), weighted by the prompt's share of the op's pairs; 1 where the profile gives no tile
// or the op no prompt. Shipped figures only: a user's calibration was fitted on the shapes it ran.
double prompt_attention_quantization(const opmodel::OpCost& op, const hardware::Profile& hw);
// The calibrated expectation of one op instance; nullopt when the profile has no calibration or no fit for it.
std::optional<double> expected_op_time(const opmodel::OpCost& op, const opmodel::Scenario& s, const OpSetting& at,
                                       const hardware::Profile& hw, const Roofs& roofs);
// The same with the fit already found (expectations()->find(fit_query(...)), of kernel class `kind`): what a
// caller that meets the same op again and again (the simulator) keeps instead of searching the fits each time.
double expected_op_time(const hardware::EfficiencyFit& fit, hardware::KernelClass kind, const opmodel::OpCost& op,
                        const OpSetting& at, const hardware::Profile& hw, const Roofs& roofs);

// A calibrated profile's expectation of a step (StepExpectation, analysis.hpp). No calibration: every op
// without one.
StepExpectation expect_step(const StepResult& step, const opmodel::Scenario& s, const hardware::Profile& hw,
                            const Roofs& roofs);

}  // namespace roofline
