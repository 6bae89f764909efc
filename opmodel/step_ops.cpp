// The formulas. Notation, per step: B sequences, q new tokens each, k cached; T = B*q tokens (a mixed
// step sums tokens, attention pairs and keys read over its sequences: BatchShape);
// d hidden, h query heads, g KV heads, hd head_dim, f intermediate, V vocabulary, E experts (k_e per token).
// Byte sizes: a = activation dtype, c = KV dtype, w = projection weight dtype, w0 = dense weight dtype.
// Conventions are stated once in op_cost.hpp (2 FLOP per multiply-add; compulsory traffic).
#include "opmodel/step_ops.hpp"

#include <algorithm>
#include <cmath>

#include "opmodel/op_names.hpp"

namespace opmodel {

AttentionSpan attention_span(std::int64_t q_len, std::int64_t kv_len, std::optional<std::int64_t> window) {
  const double q = double(q_len), k = double(kv_len);
  AttentionSpan s;
  // Keys seen by query at position p are min(p+1, W); p+1 runs over a = k+1 .. b = k+q.
  const double a = k + 1, b = k + q;
  if (!window || double(*window) >= b) {
    s.pairs = (a + b) * q / 2;  // arithmetic series
    s.keys_read = k + q;
    s.cache_len = k + q;
    return s;
  }
  const double w = double(*window);
  if (w <= a) {
    s.pairs = w * q;  // every query sees a full window
  } else {
    s.pairs = (a + w) * (w - a + 1) / 2 + (b - w) * w;  // series up to W, then W each
  }
  s.keys_read = k + q - std::max(0.0, k + 1 - w);
  s.cache_len = std::min(k + q, w);
  return s;
}

double matrix_bytes(std::int64_t n, std::int64_t k, DType dtype, std::int64_t group_size) {
  double bytes = double(n) * double(k) * bytes_of(dtype);
  if (has_group_scales(dtype)) {
    const double groups_per_row = std::ceil(double(k) / double(group_size));
    bytes += double(n) * groups_per_row * 2.0;  // fp16 scale per group
  }
  return bytes;
}

DType dense_weight_dtype(const Scenario& s) {
  if (!is_quantized(s.weight_dtype)) return s.weight_dtype;
  if (!is_quantized(s.act_dtype)) return s.act_dtype;
  return DType::fp16;
}

double expected_distinct_experts(double tokens, std::int64_t experts, std::int64_t per_token) {
  const double e = double(experts), p_miss = 1.0 - double(per_token) / e;  // one token misses an expert
  return e * (1.0 - std::pow(p_miss, tokens));
}

void BatchShape::add(const SequenceShape& seq, std::optional<std::int64_t> window) {
  const AttentionSpan span = attention_span(seq.q_len, seq.kv_len, window);
  const double n = double(seq.count);
  sequences += n;
  tokens += n * double(seq.q_len);
  rope_positions += double(seq.q_len);  // sequences of one shape sit at the same positions
  pairs += n * span.pairs;
  keys_read += n * span.keys_read;
  logit_rows += n * double(seq.logit_rows);
}

BatchShape uniform_batch(const ModelConfig& m, const Scenario& s) {
  BatchShape b;
  b.add({s.batch, s.q_len, s.kv_len, s.all_logits ? s.q_len : 1}, m.sliding_window);
  return b;
}

namespace {

// Everything a formula needs, computed once per step.
struct Shape {
  double T, d, h, g, hd, f, V;
  double fe, fs;  // a routed expert's and the shared expert's widths (MoE)
  double positions, pairs, keys_read, logit_rows;  // from BatchShape
  double a, c;              // activation and KV bytes per element
  double a_float;           // bytes of the float dtype scores and dense-weight outputs use
  DType w, w0, act, act_float;
  std::int64_t group;
};

Shape shape_of(const ModelConfig& m, const Scenario& s, const BatchShape& b) {
  Shape x{};
  x.T = b.tokens;
  x.positions = b.rope_positions;
  x.pairs = b.pairs;
  x.keys_read = b.keys_read;
  x.logit_rows = b.logit_rows;
  x.d = double(m.hidden_size);
  x.h = double(m.num_heads);
  x.g = double(m.num_kv_heads);
  x.hd = double(m.head_dim);
  x.f = double(m.intermediate_size);
  x.fe = double(m.moe_intermediate_size);
  x.fs = double(m.shared_expert_intermediate_size);
  x.V = double(m.vocab_size);
  x.a = bytes_of(s.act_dtype);
  x.c = bytes_of(s.kv_dtype);
  x.w = s.weight_dtype;
  x.w0 = dense_weight_dtype(s);
  x.act = s.act_dtype;
  // Integer activations feed integer GEMMs only; attention and dense-weight GEMMs run in fp16.
  x.act_float = is_integer(s.act_dtype) ? DType::fp16 : s.act_dtype;
  x.a_float = bytes_of(x.act_float);
  x.group = s.group_size;
  return x;
}

// y[rows, n] = x[rows, k] W^T (+ bias): 2*rows*n*k FLOP (+ rows*n for the bias);
// reads W once and x once, writes y once.
OpCost linear(std::string_view name, double rows, double n, double k, DType wdtype, DType compute,
              bool bias, const Shape& x, std::int64_t count) {
  OpCost op;
  op.name = name;
  op.kind = OpKind::linear;
  op.unit = Unit::matrix;
  op.compute = compute;
  op.count = count;
  op.flops = 2 * rows * n * k + (bias ? rows * n : 0);
  op.bytes.weight_read = matrix_bytes(std::int64_t(n), std::int64_t(k), wdtype, x.group) +
                         (bias ? n * bytes_of(x.w0) : 0);
  op.bytes.act_read = rows * k * x.a;
  op.bytes.act_write = rows * n * x.a;
  return op;
}

OpCost vector_op(std::string_view name, double flops, std::int64_t count) {
  OpCost op;
  op.name = name;
  op.kind = OpKind::elementwise;
  op.unit = Unit::vector;
  op.compute = DType::fp32;
  op.count = count;
  op.flops = flops;
  return op;
}

// RMSNorm of `rows` vectors of `width`: per row width squares + width adds, 3 for mean, +eps and rsqrt,
// then width multiplies by 1/rms and width by gamma: 4*width + 3 FLOP. Reads x and gamma, writes y.
OpCost rms_norm(std::string_view name, double rows, double width, const Shape& x, std::int64_t count) {
  OpCost op = vector_op(name, rows * (4 * width + 3), count);
  op.bytes.weight_read = width * bytes_of(x.w0);
  op.bytes.act_read = rows * width * x.a;
  op.bytes.act_write = rows * width * x.a;
  return op;
}

// Residual add of two [T, d] tensors into a third: T*d FLOP, reads two, writes one.
OpCost residual_add(std::string_view name, const Shape& x, std::int64_t count) {
  OpCost op = vector_op(name, x.T * x.d, count);
  op.bytes.act_read = 2 * x.T * x.d * x.a;
  op.bytes.act_write = x.T * x.d * x.a;
  return op;
}

// Residual add fused into the next RMSNorm (in place, as vLLM's fused_add_rms_norm): reads the
// residual and the block output, writes the new residual and the normalised copy. Saves the add's
// write-then-re-read of the sum: one T*d read fewer than attn_add + mlp_norm.
OpCost add_rms_norm(const Shape& x, std::int64_t count) {
  OpCost op = vector_op(op::add_norm, x.T * x.d + x.T * (4 * x.d + 3), count);
  op.bytes.weight_read = x.d * bytes_of(x.w0);
  op.bytes.act_read = 2 * x.T * x.d * x.a;
  op.bytes.act_write = 2 * x.T * x.d * x.a;
  return op;
}

// SiLU(gate) * up on `elements`: SiLU = x / (1 + exp(-x)) is exp, add, reciprocal, multiply (4),
// the gating multiply 1: 5 FLOP per element. Reads gate and up, writes one.
OpCost silu_mul(std::string_view name, double elements, const Shape& x, std::int64_t count) {
  OpCost op = vector_op(name, 5 * elements, count);
  op.bytes.act_read = 2 * elements * x.a;
  op.bytes.act_write = elements * x.a;
  return op;
}

// Attention over every sequence of the step in one kernel (as varlen/paged attention kernels run a mixed
// batch): each sequence contributes its own pairs and keys read (BatchShape), summed before classification.
void attention_ops(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.num_layers;
  const double pairs = x.h * x.pairs;                    // (query, key) pairs over all heads and sequences
  const double q_bytes = x.T * x.h * x.hd * x.a;         // Q in
  const double o_bytes = x.T * x.h * x.hd * x.a;         // attention output
  const double k_bytes = x.g * x.keys_read * x.hd * x.c;  // each cached K element once (GQA: per KV head)
  const double v_bytes = k_bytes;
  const double qk_flops = 2 * pairs * x.hd;              // one hd-long dot product per pair
  const double sv_flops = 2 * pairs * x.hd;              // one hd-long axpy per pair
  // Softmax per score: scale, max, subtract, exp, sum, multiply by 1/sum = 6; one reciprocal per row (T h rows).
  const double softmax_flops = 6 * pairs + x.T * x.h;

  auto matmul = [&](std::string_view name, double flops) {
    OpCost op;
    op.name = name;
    op.kind = OpKind::attention;
    op.unit = Unit::matrix;
    op.compute = x.act_float;
    op.count = L;
    op.flops = flops;
    return op;
  };

  if (s.attention == AttentionImpl::flash) {
    OpCost op = matmul(op::attention, qk_flops + softmax_flops + sv_flops);
    op.bytes.act_read = q_bytes;
    op.bytes.kv_read = k_bytes + v_bytes;
    op.bytes.act_write = o_bytes;
    out.push(op);
    return;
  }
  const double score_bytes = pairs * x.a_float;  // the causal (unmasked) scores, in the float act dtype
  OpCost qk = matmul(op::qk_matmul, qk_flops);
  qk.bytes.act_read = q_bytes;
  qk.bytes.kv_read = k_bytes;
  qk.bytes.act_write = score_bytes;
  out.push(qk);

  OpCost sm = vector_op(op::softmax, softmax_flops, L);
  sm.bytes.act_read = score_bytes;
  sm.bytes.act_write = score_bytes;
  out.push(sm);

  OpCost sv = matmul(op::sv_matmul, sv_flops);
  sv.bytes.act_read = score_bytes;
  sv.bytes.kv_read = v_bytes;
  sv.bytes.act_write = o_bytes;
  out.push(sv);
}

// A SwiGLU MLP of width f over `rows` tokens: gate and up projections, SiLU(gate)*up, down projection.
// names: {gate, up, act, fused gate/up/act, down}. The down projection is returned, not pushed, so the caller
// can add its epilogue.
struct SwigluNames {
  std::string_view gate, up, act, fused, down;
};
OpCost swiglu(const SwigluNames& n, double rows, double f, bool bias, const Scenario& s, const Shape& x,
              std::int64_t count, OpList& out) {
  if (s.fusion.swiglu) {
    OpCost op = linear(n.fused, rows, 2 * f, x.d, x.w, x.act, bias, x, count);
    op.flops += 5 * rows * f;           // SiLU*up in the epilogue
    op.bytes.act_write = rows * f * x.a;  // only the product leaves the chip
    out.push(op);
  } else {
    out.push(linear(n.gate, rows, f, x.d, x.w, x.act, bias, x, count));
    out.push(linear(n.up, rows, f, x.d, x.w, x.act, bias, x, count));
    out.push(silu_mul(n.act, rows * f, x, count));
  }
  return linear(n.down, rows, x.d, f, x.w, x.act, bias, x, count);
}

// The routed experts of the MoE layers: each token goes to k_e of E experts; routed rows R = T*k_e. Expert
// weights are read for the expected number of distinct experts the step touches (uniform routing assumed).
void routed_experts(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.moe_layers;
  const bool bias = m.mlp_bias;
  const double E = double(m.num_experts), ke = double(m.experts_per_token), R = x.T * ke, fe = x.fe;
  const double touched = expected_distinct_experts(x.T, m.num_experts, m.experts_per_token);

  OpCost router = linear(op::router, x.T, E, x.d, x.w0, x.act_float, false, x, L);
  router.flops += x.T * (5 * E + 1);  // softmax over E logits (max, sub, exp, sum, scale; 1 reciprocal)
  router.bytes.act_write = x.T * E * x.a_float;
  out.push(router);

  auto expert = [&](OpCost op, double n, double k) {
    // Per routed row: 2*n*k FLOP; x rows gathered per (token, expert), weights per touched expert.
    op.bytes.weight_read = touched * (matrix_bytes(std::int64_t(n), std::int64_t(k), x.w, x.group) +
                                      (bias ? n * bytes_of(x.w0) : 0));
    return op;
  };
  OpList routed;
  OpCost down = swiglu({op::expert_gate_proj, op::expert_up_proj, op::expert_act_mul, op::expert_gate_up_act,
                        op::expert_down_proj},
                       R, fe, bias, s, x, L, routed);
  for (const OpCost& op : routed)
    out.push(op.kind == OpKind::linear ? expert(op, op.name == op::expert_gate_up_act ? 2 * fe : fe, x.d) : op);
  down = expert(down, x.d, fe);
  down.flops += 2 * R * x.d;              // scale each expert's output by its routing weight and accumulate
  down.bytes.act_write = x.T * x.d * x.a;  // combined in the epilogue: one row per token
  out.push(down);
}

// The shared expert every token also goes through (Qwen2-MoE), added to the routed experts' output; with
// Qwen2-MoE's gate, sigmoid(x . w_g) scales it first.
void shared_expert(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.moe_layers;
  if (m.shared_expert_gate) {
    OpCost gate = linear(op::shared_gate, x.T, 1, x.d, x.w0, x.act_float, false, x, L);
    gate.flops += 4 * x.T;  // sigmoid: negate, exp, add, reciprocal
    out.push(gate);
  }
  OpCost down = swiglu({op::shared_gate_proj, op::shared_up_proj, op::shared_act_mul, op::shared_gate_up_act,
                        op::shared_down_proj},
                       x.T, x.fs, m.mlp_bias, s, x, L, out);
  // Epilogue: scale by the gate (when gated) and add the routed experts' output: T*d each.
  down.flops += (m.shared_expert_gate ? 2 : 1) * x.T * x.d;
  down.bytes.act_read += x.T * x.d * x.a + (m.shared_expert_gate ? x.T * x.a_float : 0);
  out.push(down);
}

// The MLPs of every layer: dense ones (intermediate_size) in the layers that have them, then the MoE layers'
// router, routed experts and shared expert.
void mlp_ops(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  if (const auto dense = m.is_moe() ? m.dense_layers() : m.num_layers; dense > 0)
    out.push(swiglu({op::gate_proj, op::up_proj, op::act_mul, op::gate_up_act, op::down_proj}, x.T, x.f, m.mlp_bias,
                    s, x, dense, out));
  if (!m.is_moe() || m.moe_layers == 0) return;
  routed_experts(m, s, x, out);
  if (m.shared_expert_intermediate_size > 0) shared_expert(m, s, x, out);
}

}  // namespace

void step_ops(const ModelConfig& m, const Scenario& s, OpList& out) {
  step_ops(m, s, uniform_batch(m, s), out);
}

void step_ops(const ModelConfig& m, const Scenario& s, const BatchShape& b, OpList& out) {
  out.clear();
  const Shape x = shape_of(m, s, b);
  const auto L = m.num_layers;
  const bool fuse_add = s.fusion.add_norm;

  // embed: gather T rows of the [V, d] table: no FLOPs. At most V distinct rows exist, so the table's compulsory
  // traffic is min(T, V) rows (a step of more tokens than the vocabulary re-reads rows it already has).
  OpCost embed = vector_op(op::embed, 0, 1);
  embed.kind = OpKind::embedding;
  embed.bytes.weight_read = std::min(x.T, x.V) * x.d * bytes_of(x.w0);
  embed.bytes.act_write = x.T * x.d * x.a;
  out.push(embed);

  // With add_norm fused, only the first layer's attn_norm stands alone (its input is the embedding);
  // the other L-1 attn_norms, the L mlp_norms and final_norm each absorb the residual add before them.
  out.push(rms_norm(op::attn_norm, x.T, x.d, x, fuse_add ? 1 : L));

  // Projections. K and V widths use the KV heads (GQA). V goes straight into the KV cache; K goes there
  // after RoPE.
  const double qd = x.h * x.hd, kvd = x.g * x.hd;
  if (s.fusion.qkv) {
    OpCost op = linear(op::qkv_proj, x.T, qd + 2 * kvd, x.d, x.w, x.act, m.qkv_bias, x, L);
    op.bytes.act_write = x.T * (qd + kvd) * x.a;
    op.bytes.kv_write = x.T * kvd * x.c;
    out.push(op);
  } else {
    out.push(linear(op::q_proj, x.T, qd, x.d, x.w, x.act, m.qkv_bias, x, L));
    out.push(linear(op::k_proj, x.T, kvd, x.d, x.w, x.act, m.qkv_bias, x, L));
    OpCost v = linear(op::v_proj, x.T, kvd, x.d, x.w, x.act, m.qkv_bias, x, L);
    v.bytes.act_write = 0;
    v.bytes.kv_write = x.T * kvd * x.c;
    out.push(v);
  }
  if (m.qk_norm) {
    out.push(rms_norm(op::q_norm, x.T * x.h, x.hd, x, L));
    out.push(rms_norm(op::k_norm, x.T * x.g, x.hd, x, L));
  }

  // RoPE (rotate-half): out = x*cos + rotate(x)*sin, 3 FLOP per element of q and k. Reads q, k and the
  // cos/sin rows of the q positions (hd/2 each, shared by the batch); writes q, and k into the cache.
  OpCost rope = vector_op(op::rope, 3 * x.T * (qd + kvd), L);
  rope.bytes.act_read = x.T * (qd + kvd) * x.a + x.positions * x.hd * x.a;
  rope.bytes.act_write = x.T * qd * x.a;
  rope.bytes.kv_write = x.T * kvd * x.c;
  out.push(rope);

  attention_ops(m, s, x, out);
  out.push(linear(op::o_proj, x.T, x.d, qd, x.w, x.act, m.o_bias, x, L));

  if (fuse_add) {
    out.push(add_rms_norm(x, 2 * L));  // L before the MLPs, L-1 before attention, 1 as final_norm
  } else {
    out.push(residual_add(op::attn_add, x, L));
    out.push(rms_norm(op::mlp_norm, x.T, x.d, x, L));
  }
  mlp_ops(m, s, x, out);
  if (!fuse_add) {
    out.push(residual_add(op::mlp_add, x, L));
    out.push(rms_norm(op::final_norm, x.T, x.d, x, 1));
  }

  // lm_head on each sequence's last token (what generation needs), or every token with all_logits; a
  // step of prefill chunks that end no prompt computes no logits: the op stays, at zero cost.
  const double rows = x.logit_rows;
  OpCost head = linear(op::lm_head, rows, x.V, x.d, x.w0, x.act_float, false, x, 1);
  head.bytes.act_write = rows * x.V * x.a_float;
  if (rows == 0) head.bytes = {};
  out.push(head);
}

}  // namespace opmodel
