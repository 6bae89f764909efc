#include "roofline/core/expected_time.hpp"

#include <algorithm>

#include "opmodel/step_ops.hpp"
#include "opmodel/op_names.hpp"

namespace roofline {

double linear_rows(const opmodel::OpCost& op, const opmodel::Scenario& s) {
  return op.name == opmodel::op::lm_head && !s.all_logits ? double(s.batch) : double(s.tokens());
}

hardware::KernelClass kernel_class(const opmodel::OpCost& op, double rows) {
  using hardware::KernelClass;
  switch (op.kind) {
    case opmodel::OpKind::linear: {
      const double per_call = op.gemm_groups > 1 ? op.gemm_m : rows;  // MoE: the rows of each expert's call
      return per_call <= double(kGemvMaxRows) ? KernelClass::gemv : KernelClass::gemm;
    }
    case opmodel::OpKind::attention: return KernelClass::attention;
    case opmodel::OpKind::elementwise:
    case opmodel::OpKind::embedding: return KernelClass::elementwise;
  }
  return KernelClass::elementwise;
}

hardware::KernelClass kernel_class(const opmodel::OpCost& op, const opmodel::Scenario& s) {
  return kernel_class(op, linear_rows(op, s));
}

std::string kernel_weights(const opmodel::OpCost& op, const opmodel::Scenario& s) {
  // A linear's own format (its module's); attention's KV cache format, which its decode kernel streams.
  if (op.kind == opmodel::OpKind::linear || op.kind == opmodel::OpKind::attention)
    return std::string(opmodel::to_string(op.weights));
  const bool dense = op.kind == opmodel::OpKind::embedding;
  return std::string(opmodel::to_string(dense ? opmodel::dense_weight_dtype(s) : s.weight_dtype));
}

LevelRoof level_for(const hardware::Profile& p, double bytes) {
  for (const auto& c : p.caches)
    if (c.size_bytes && c.bytes_per_s && bytes <= c.size_bytes->value) return {c.name, c.bytes_per_s->value};
  return {p.memory.name.empty() ? std::string_view("memory") : std::string_view(p.memory.name), p.memory_bytes_per_s()};
}

HierarchicalTimes hierarchical_times(const opmodel::OpCost& op, double peak_flops_per_s, double step_stream_bytes,
                                     const hardware::Profile& hw) {
  const opmodel::Traffic& t = op.bytes;
  const double bytes = t.total(), stream = t.weight_read + t.kv_read, act = bytes - stream;
  const LevelRoof stream_level = level_for(hw, step_stream_bytes), act_level = level_for(hw, bytes);
  HierarchicalTimes h;
  h.stream_level = stream > 0 ? stream_level.name : "-";
  h.act_level = act > 0 ? act_level.name : "-";
  h.memory_s = stream / stream_level.bytes_per_s + act / act_level.bytes_per_s;
  h.compute_s = op.flops / peak_flops_per_s;
  return h;
}

double step_stream_bytes(const StepResult& step) {
  double bytes = 0;  // what lies between two uses of a weight: the step's weights and KV reads
  for (const OpPoint& p : step) bytes += double(p.cost.count) * (p.cost.bytes.weight_read + p.cost.bytes.kv_read);
  return bytes;
}

double framework_step_s(const hardware::Profile& hw) {
  return hw.efficiency && hw.efficiency->step_overhead_s ? hw.efficiency->step_overhead_s->value : 0.0;
}

double expected_time(const hardware::EfficiencyFit& f, double compute_s, double memory_s) {
  return f.overhead_s + std::max(compute_s / f.compute_efficiency, memory_s / f.memory_efficiency);
}

hardware::FitQuery fit_query(const opmodel::OpCost& op, const opmodel::Scenario& s, const OpSetting& at,
                             std::string& weights_storage) {
  weights_storage = kernel_weights(op, s);
  return {kernel_class(op, at.linear_rows), op.name, weights_storage, to_string(at.phase)};
}

std::optional<double> expected_op_time(const opmodel::OpCost& op, const opmodel::Scenario& s, const OpSetting& at,
                                       const hardware::Profile& hw, const Roofs& roofs) {
  const hardware::Calibration* expectations = hw.expectations();
  if (!expectations) return std::nullopt;
  std::string weights;
  const hardware::FitQuery q = fit_query(op, s, at, weights);
  const hardware::EfficiencyFit* f = expectations->find(q);
  if (!f) return std::nullopt;
  return expected_op_time(*f, q.kind, op, at, hw, roofs);
}

double prompt_attention_quantization(const opmodel::OpCost& op, const hardware::Profile& hw) {
  const opmodel::OpCost::PromptGeometry& g = op.prompt;
  if (g.sequences <= 0 || !hw.efficiency || !hw.efficiency->sm_count) return 1;
  const auto tile = hardware::attention_tile_for(*hw.efficiency, g.head_dim);
  if (!tile) return 1;
  const double slots = hw.efficiency->sm_count->value * tile->ctas_per_sm;
  const double q = hardware::attention_quantization(g.sequences * g.heads, g.q, g.cached, tile->rows, tile->cols, slots);
  return 1 / (g.share / q + (1 - g.share));  // only the prompt's share of the pairs runs in those tiles
}

double expected_op_time(const hardware::EfficiencyFit& fit, hardware::KernelClass kind, const opmodel::OpCost& op,
                        const OpSetting& at, const hardware::Profile& hw, const Roofs& roofs) {
  const HierarchicalTimes t = hierarchical_times(op, roofs.peak(roofs.precision_for(op)), at.stream_bytes, hw);
  // The shipped figures are large-shape fractions: a GEMM's own shape, or a prompt's attention tiles, lower them by
  // wave and tile quantization over the SMs (a user's calibration was fitted on the shapes it ran, quantization
  // included).
  double quantization = 1;
  if (!hw.calibration && kind == hardware::KernelClass::gemm && hw.efficiency && hw.efficiency->sm_count)
    quantization = hardware::gemm_quantization(op.gemm_m, op.gemm_n, op.gemm_groups, hw.efficiency->sm_count->value,
                                               hardware::gemm_split_k_max(*hw.efficiency));
  if (!hw.calibration && kind == hardware::KernelClass::attention && at.phase == Phase::prefill)
    quantization = prompt_attention_quantization(op, hw);
  return fit.overhead_s +
         std::max(t.compute_s / (fit.compute_efficiency * quantization), t.memory_s / fit.memory_efficiency);
}

StepExpectation expect_step(const StepResult& step, const opmodel::Scenario& s, const hardware::Profile& hw,
                            const Roofs& roofs) {
  StepExpectation e;
  if (!hw.expectations()) return e;
  const double stream = step_stream_bytes(step);
  double total = 0;
  bool complete = true;
  for (std::size_t i = 0; i < step.op_count; ++i) {
    const OpPoint& p = step.ops[i];
    e.op_s[i] = expected_op_time(p.cost, s, {linear_rows(p.cost, s), step.phase, stream}, hw, roofs);
    if (!e.op_s[i]) complete = false;
    else total += double(p.cost.count) * *e.op_s[i];
    if (e.op_s[i] && *e.op_s[i] > 0) e.op_flops_per_s[i] = p.cost.flops / *e.op_s[i];
  }
  if (complete) e.total_s = total + framework_step_s(hw);
  return e;
}

}  // namespace roofline
