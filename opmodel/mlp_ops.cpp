// The MLP blocks: gated MLPs (SwiGLU, GeGLU, GPT-OSS's clamped SwiGLU) of width f over the step's tokens, and
// MoE layers: router, routed experts (E of width f_e, k_e a token), shared experts (f_s).
#include <cmath>

#include "opmodel/op_names.hpp"
#include "opmodel/step_parts.hpp"

namespace opmodel::detail {
namespace {

// A gated MLP of width f over `rows` tokens: gate and up projections, act(gate)*up, down projection.
// names: {gate, up, act, fused gate/up/act, down}. The down projection is returned, not pushed, so the caller
// can add its epilogue.
struct GatedNames {
  std::string_view gate, up, act, fused, down;
};
OpCost gated_mlp(const GatedNames& n, double rows, double f, DType w, bool bias, const ModelConfig& m,
                 const Scenario& s, const Shape& x, std::int64_t count, OpList& out) {
  const double act_flops = activation_flops(m.activation);
  if (s.fusion.swiglu) {
    OpCost op = linear(n.fused, rows, 2 * f, x.d, w, x.gemm_in, bias, x, count);
    op.flops += act_flops * rows * f;     // act(gate)*up in the epilogue
    op.bytes.act_write = rows * f * x.a;  // only the product leaves the chip
    out.push(op);
  } else {
    out.push(linear(n.gate, rows, f, x.d, w, x.gemm_in, bias, x, count));
    out.push(linear(n.up, rows, f, x.d, w, x.gemm_in, bias, x, count));
    OpCost op = vector_op(n.act, act_flops * rows * f, count);  // reads gate and up, writes one
    op.bytes.act_read = 2 * rows * f * x.a;
    op.bytes.act_write = rows * f * x.a;
    out.push(op);
  }
  return linear(n.down, rows, x.d, f, w, x.gemm_in, bias, x, count);
}

// The routed experts of the MoE layers: each token goes to k_e of E experts; routed rows R = T*k_e. Expert
// weights are read for the expected number of distinct experts the step touches (uniform routing assumed).
void routed_experts(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.moe_layers;
  const bool bias = m.mlp_bias;
  const double E = double(m.num_experts), ke = double(m.experts_per_token), R = x.T * ke;
  const double fe = double(m.moe_intermediate_size);
  const double touched = expected_distinct_experts(x.T, m.num_experts, m.experts_per_token);

  // Router: logits, then softmax or sigmoid scores over E (about 5 FLOP a logit: max/sub/exp/sum/scale, or
  // negate/exp/add/reciprocal and a bias add) and one reciprocal per token.
  OpCost router = linear(op::router, x.T, E, x.d, x.w0, x.act_float, m.router_bias, x, L);
  router.flops += x.T * (5 * E + 1);
  router.bytes.act_write = x.T * E * x.a_float;
  out.push(router);

  auto expert = [&](OpCost op, double n, double k) {
    // Per routed row: 2*n*k FLOP; x rows gathered per (token, expert), weights per touched expert; one grouped
    // GEMM of R / touched rows per touched expert.
    op.gemm_m = R / touched;
    op.gemm_groups = touched;
    op.bytes.weight_read = touched * (matrix_bytes(std::int64_t(n), std::int64_t(k), x.w_exp, x.group) +
                                      (bias ? n * bytes_of(x.w0) : 0));
    return op;
  };
  OpList routed;
  OpCost down = gated_mlp({op::expert_gate_proj, op::expert_up_proj, op::expert_act_mul, op::expert_gate_up_act,
                           op::expert_down_proj},
                          R, fe, x.w_exp, bias, m, s, x, L, routed);
  for (const OpCost& op : routed)
    out.push(op.kind == OpKind::linear ? expert(op, op.name == op::expert_gate_up_act ? 2 * fe : fe, x.d) : op);
  down = expert(down, x.d, fe);
  down.flops += 2 * R * x.d;              // scale each expert's output by its routing weight and accumulate
  down.bytes.act_write = x.T * x.d * x.a;  // combined in the epilogue: one row per token
  out.push(down);
}

// The shared experts every token also goes through (Qwen2-MoE, DeepSeek, Llama 4, Qwen3-Next), added to the
// routed experts' output; with a shared-expert gate (Qwen2-MoE, Qwen3-Next), sigmoid(x . w_g) scales it first.
void shared_expert(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.moe_layers;
  if (m.shared_expert_gate) {
    OpCost gate = linear(op::shared_gate, x.T, 1, x.d, x.w0, x.act_float, false, x, L);
    gate.flops += 4 * x.T;  // sigmoid: negate, exp, add, reciprocal
    out.push(gate);
  }
  OpCost down = gated_mlp({op::shared_gate_proj, op::shared_up_proj, op::shared_act_mul, op::shared_gate_up_act,
                           op::shared_down_proj},
                          x.T, double(m.shared_expert_intermediate_size), x.w_mlp, m.mlp_bias, m, s, x, L, out);
  // Epilogue: scale by the gate (when gated) and add the routed experts' output: T*d each.
  down.flops += (m.shared_expert_gate ? 2 : 1) * x.T * x.d;
  down.bytes.act_read += x.T * x.d * x.a + (m.shared_expert_gate ? x.T * x.a_float : 0);
  out.push(down);
}

}  // namespace

void mlp_block(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  if (const auto dense = m.is_moe() ? m.dense_layers() : m.num_layers; dense > 0)
    out.push(gated_mlp({op::gate_proj, op::up_proj, op::act_mul, op::gate_up_act, op::down_proj}, x.T,
                       double(m.intermediate_size), x.w_mlp, m.mlp_bias, m, s, x, dense, out));
  if (!m.is_moe() || m.moe_layers == 0) return;
  routed_experts(m, s, x, out);
  if (m.shared_expert_intermediate_size > 0) shared_expert(m, s, x, out);
}

}  // namespace opmodel::detail
