// The attention blocks. Notation, per step: T tokens; h query heads, g KV heads, hd head_dim, rd rotary dims;
// a, c activation and KV bytes per element. Spans (pairs of query and key, keys read) come per layer kind: global
// layers over the whole context, local ones over their window or chunk (BatchShape).
// MLA: r kv_lora_rank, r_q q_lora_rank, dn/dr/dv nope/rope/value head widths.
// Linear attention: nk/nv key/value heads of dk/dv, conv kernel K.
#include <algorithm>

#include "opmodel/op_names.hpp"
#include "opmodel/step_parts.hpp"

namespace opmodel::detail {
namespace {

// One attention kernel's work, for either execution (fused, or scores through memory).
struct AttentionWork {
  double pairs = 0;            // (query, key) pairs over all heads and sequences
  double qk_dim = 0, v_dim = 0;  // per-head widths of the score dot product and of the values
  double q_bytes = 0, o_bytes = 0;
  double k_cache = 0, k_act = 0;  // K bytes read from the cache, and from activations (MLA naive)
  double v_cache = 0, v_act = 0;
  double extra_flops = 0;      // sinks, soft-capping
  double rows = 0;             // softmax rows: tokens x heads
  OpCost::PromptGeometry prompt;  // the prompt part (fused kernels only)
};

// The step's prompt-like sequences (all but the decode-like ones) in global layers over `heads` query heads: their
// mean new and cached tokens, the cached ones from their causal pairs, pairs = q cached + q (q + 1) / 2 a sequence.
OpCost::PromptGeometry prompt_geometry(const Shape& x, double heads, double head_dim) {
  OpCost::PromptGeometry g;
  const double sequences = x.sequences - x.decode_sequences, tokens = x.T - x.decode_tokens;
  const double pairs = x.global.pairs - x.decode.pairs;
  if (sequences <= 0 || tokens <= 0 || pairs <= 0) return g;
  const double q = tokens / sequences;
  g.sequences = float(sequences);
  g.q = float(q);
  g.cached = float(std::max(0.0, (pairs / sequences - q * (q + 1) / 2) / q));
  g.heads = float(heads);
  g.head_dim = float(head_dim);
  g.share = float(pairs / x.global.pairs);
  return g;
}

struct AttentionNames {
  std::string_view fused, qk, softmax, sv;
};
constexpr AttentionNames kGlobal{op::attention, op::qk_matmul, op::softmax, op::sv_matmul};
constexpr AttentionNames kLocal{op::local_attention, op::local_qk_matmul, op::local_softmax, op::local_sv_matmul};

// QK^T: one qk_dim-long dot product per pair; SV: one v_dim-long axpy per pair; softmax per score: scale, max,
// subtract, exp, sum, multiply by 1/sum = 6, one reciprocal per row.
void attention_kernel(const AttentionNames& n, const AttentionWork& w, const Scenario& s, const Shape& x,
                      std::int64_t count, OpList& out) {
  const double qk_flops = 2 * w.pairs * w.qk_dim, sv_flops = 2 * w.pairs * w.v_dim;
  const double softmax_flops = 6 * w.pairs + w.rows + w.extra_flops;
  auto matmul = [&](std::string_view name, double flops) {
    OpCost op;
    op.name = name;
    op.kind = OpKind::attention;
    op.unit = Unit::matrix;
    op.compute = x.attn;
    op.weights = x.kv;  // the format of the cache it reads: what a kernel's fit is keyed by
    op.count = count;
    op.flops = flops;
    return op;
  };
  if (s.attention == AttentionImpl::flash) {
    OpCost op = matmul(n.fused, qk_flops + softmax_flops + sv_flops);
    op.bytes.act_read = w.q_bytes + w.k_act + w.v_act;
    op.bytes.kv_read = w.k_cache + w.v_cache;
    op.bytes.act_write = w.o_bytes;
    op.prompt = w.prompt;
    out.push(op);
    return;
  }
  const double score_bytes = w.pairs * x.a_attn;  // the causal (unmasked) scores, in the attention dtype
  OpCost qk = matmul(n.qk, qk_flops);
  qk.bytes.act_read = w.q_bytes + w.k_act;
  qk.bytes.kv_read = w.k_cache;
  qk.bytes.act_write = score_bytes;
  out.push(qk);
  OpCost sm = vector_op(n.softmax, softmax_flops, count);
  sm.bytes.act_read = score_bytes;
  sm.bytes.act_write = score_bytes;
  out.push(sm);
  OpCost sv = matmul(n.sv, sv_flops);
  sv.bytes.act_read = score_bytes + w.v_act;
  sv.bytes.kv_read = w.v_cache;
  sv.bytes.act_write = w.o_bytes;
  out.push(sv);
}

// Extra softmax work: a sink adds one logit per row (exp and add: 2); soft-capping divides, tanh, multiplies (3).
double extra_softmax_flops(const ModelConfig& m, double pairs, double rows) {
  return (m.attention_sinks ? 2 * rows : 0) + (m.attn_softcap ? 3 * pairs : 0);
}

// GQA/MHA attention over the global and the local layers: q and k at h and g heads of hd.
void gqa_attention(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const double h = double(m.num_heads), g = double(m.num_kv_heads), hd = double(m.head_dim);
  auto work = [&](const SpanSum& span) {
    AttentionWork w;
    w.pairs = h * span.pairs;
    w.qk_dim = w.v_dim = hd;
    w.q_bytes = w.o_bytes = x.T * h * hd * x.a;
    w.k_cache = w.v_cache = g * span.keys_read * hd * x.c;  // each cached element once (GQA: per KV head)
    w.rows = x.T * h;
    w.extra_flops = extra_softmax_flops(m, w.pairs, w.rows);
    return w;
  };
  // A model whose every layer slides (Mistral, Phi-3) keeps the plain names: its attention is the one kind.
  if (m.global_layers() > 0) {
    AttentionWork global = work(x.global);
    global.prompt = prompt_geometry(x, h, hd);
    attention_kernel(kGlobal, global, s, x, m.global_layers(), out);
  }
  if (m.local_layers > 0)
    attention_kernel(m.global_layers() > 0 ? kLocal : kGlobal, work(x.local), s, x, m.local_layers, out);
}

// Projections, norms and RoPE of GQA/MHA layers. K and V widths use the KV heads. V goes straight into the KV
// cache; K goes there after RoPE (NoPE layers write it from k_proj: k_proj's cache write is their share).
void gqa_projections(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const auto L = m.softmax_layers();
  const double h = double(m.num_heads), g = double(m.num_kv_heads), hd = double(m.head_dim);
  const double qd = h * hd, kvd = g * hd, gate = m.attention_output_gate ? qd : 0;  // q_proj also yields the gate
  const double nope_share = double(m.nope_layers) / double(L);
  if (s.fusion.qkv) {
    OpCost op = linear(op::qkv_proj, x.T, qd + gate + 2 * kvd, x.d, x.w_attn, x.gemm_in, m.qkv_bias, x, L);
    op.bytes.act_write = x.T * (qd + gate + kvd * (1 - nope_share)) * x.a;
    op.bytes.kv_write = x.T * kvd * (1 + nope_share) * x.c;
    out.push(op);
  } else {
    out.push(linear(op::q_proj, x.T, qd + gate, x.d, x.w_attn, x.gemm_in, m.qkv_bias, x, L));
    OpCost k = linear(op::k_proj, x.T, kvd, x.d, x.w_attn, x.gemm_in, m.qkv_bias, x, L);
    k.bytes.act_write *= 1 - nope_share;
    k.bytes.kv_write = x.T * kvd * nope_share * x.c;
    out.push(k);
    OpCost v = linear(op::v_proj, x.T, kvd, x.d, x.w_attn, x.gemm_in, m.qkv_bias, x, L);
    v.bytes.act_write = 0;
    v.bytes.kv_write = x.T * kvd * x.c;
    out.push(v);
  }
  if (const auto n = m.qk_norm_layers(); n > 0) {
    out.push(rms_norm(op::q_norm, x.T * h, hd, x, n, m.qk_norm_weights));
    out.push(rms_norm(op::k_norm, x.T * g, hd, x, n, m.qk_norm_weights));
  }
  // RoPE (rotate-half): out = x*cos + rotate(x)*sin, 3 FLOP per rotated element of q and k. Reads q, k and the
  // cos/sin rows of the q positions (rd/2 each, shared by the batch); writes q, and k into the KV cache.
  if (const auto n = m.rope_layers(); n > 0) {
    const double rd = double(m.rotary_dim);
    OpCost rope = vector_op(op::rope, 3 * x.T * (h + g) * rd, n);
    rope.bytes.act_read = x.T * (qd + kvd) * x.a + x.positions * rd * x.a;
    rope.bytes.act_write = x.T * qd * x.a;
    rope.bytes.kv_write = x.T * kvd * x.c;
    out.push(rope);
  }
  gqa_attention(m, s, x, out);
  if (m.attention_output_gate) {  // o * sigmoid(gate): sigmoid 4, multiply 1; reads both, writes one
    OpCost op = vector_op(op::attn_gate, 5 * x.T * qd, L);
    op.bytes.act_read = 2 * x.T * qd * x.a;
    op.bytes.act_write = x.T * qd * x.a;
    out.push(op);
  }
  out.push(linear(op::o_proj, x.T, x.d, qd, x.w_attn, x.gemm_in, m.o_bias, x, L));
}

// MLA (DeepseekV2Attention): q through its low-rank path (or a full q_proj), the latent c_kv = norm(x W_DKV) and
// the shared rope key written to the cache ((r + dr) values a token), then either form (scenario.hpp's MlaForm).
void mla_attention(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  const Mla& a = *m.mla;
  const auto L = m.softmax_layers();
  const double h = double(m.num_heads), r = double(a.kv_lora_rank), rq = double(a.q_lora_rank);
  const double dn = double(a.qk_nope_head_dim), dr = double(a.qk_rope_head_dim), dv = double(a.v_head_dim);
  if (rq > 0) {
    out.push(linear(op::q_a_proj, x.T, rq, x.d, x.w_attn, x.gemm_in, false, x, L));
    out.push(rms_norm(op::q_a_norm, x.T, rq, x, L));
    out.push(linear(op::q_b_proj, x.T, h * (dn + dr), rq, x.w_attn, x.gemm_in, false, x, L));
  } else {
    out.push(linear(op::q_proj, x.T, h * (dn + dr), x.d, x.w_attn, x.gemm_in, false, x, L));
  }
  out.push(linear(op::kv_a_proj, x.T, r + dr, x.d, x.w_attn, x.gemm_in, false, x, L));
  OpCost kv_norm = rms_norm(op::kv_a_norm, x.T, r, x, L);  // the normed latent goes into the cache
  kv_norm.bytes.act_write = 0;
  kv_norm.bytes.kv_write = x.T * r * x.c;
  out.push(kv_norm);
  // RoPE on each head's dr query dims and the one shared dr-wide key, which joins the latent in the cache.
  OpCost rope = vector_op(op::rope, 3 * x.T * (h + 1) * dr, L);
  rope.bytes.act_read = x.T * (h + 1) * dr * x.a + x.positions * dr * x.a;
  rope.bytes.act_write = x.T * h * dr * x.a;
  rope.bytes.kv_write = x.T * dr * x.c;
  out.push(rope);

  // Which tokens run which form: a forced form takes them all; automatic runs the decode-like sequences (decodes
  // and speculative verification) absorbed and the prompt tokens naive, as serving engines split a mixed step
  // (FlashMLA decodes several query tokens per sequence), and lists both forms' ops
  // in every step (zero where a step has no such tokens) so the op list is the same from step to step.
  double Td = 0;  // tokens, and their spans, run absorbed
  SpanSum ds{};
  if (s.mla == MlaForm::absorbed) {
    Td = x.T;
    ds = x.global;
  } else if (s.mla == MlaForm::automatic) {
    Td = x.decode_tokens;
    ds = x.decode;
  }
  const double Tp = x.T - Td;  // tokens run naive
  const SpanSum ps{x.global.pairs - ds.pairs, x.global.keys_read - ds.keys_read};
  auto unless_empty = [](OpCost op, double rows) {
    if (rows == 0) op.bytes = {};  // no such tokens in this step: the op stays, at zero cost
    return op;
  };
  if (s.mla != MlaForm::absorbed) {
    // kv_b_proj decompresses every position the naive tokens attend: [keys, r] -> [keys, h*(dn+dv)].
    OpCost kvb = linear(op::kv_b_proj, ps.keys_read, h * (dn + dv), r, x.w_attn, x.gemm_in, false, x, L);
    kvb.bytes.act_read = 0;
    kvb.bytes.kv_read = ps.keys_read * r * x.c;
    out.push(unless_empty(kvb, ps.keys_read));
  }
  if (s.mla != MlaForm::naive) {
    // q_nope [Td, h, dn] x W_UK [h, dn, r] -> [Td, h, r]: 2*Td*h*dn*r FLOP; reads W_UK (part of kv_b_proj).
    OpCost q = linear(op::q_absorb, Td * h, r, dn, x.w_attn, x.gemm_in, false, x, L);
    q.bytes.weight_read = matrix_bytes(std::int64_t(h * r), std::int64_t(dn), x.w_attn, x.group);
    q.gemm_m = Td;  // a batched GEMM: one Td x r product per head
    q.gemm_groups = h;
    out.push(unless_empty(q, Td));
  }
  // One attention kernel over both parts. Naive: scores over dn + dr, values dv, per-head K and V decompressed
  // (activations), the shared rope key from the cache. Absorbed: MQA over the latent: scores over r + dr, values
  // the latent itself (r), the cache read once. Widths are the parts' pair-weighted means, so FLOPs add exactly.
  AttentionWork w;
  const double pp = h * ps.pairs, pd = h * ds.pairs;
  w.pairs = pp + pd;
  w.rows = x.T * h;
  w.qk_dim = (pp * (dn + dr) + pd * (r + dr)) / w.pairs;
  w.v_dim = (pp * dv + pd * r) / w.pairs;
  w.q_bytes = (Tp * h * (dn + dr) + Td * h * (r + dr)) * x.a;
  w.k_act = ps.keys_read * h * dn * x.a;
  w.v_act = ps.keys_read * h * dv * x.a;
  w.k_cache = (ps.keys_read * dr + ds.keys_read * (r + dr)) * x.c;
  w.o_bytes = (Tp * h * dv + Td * h * r) * x.a;
  if (s.mla != MlaForm::absorbed) w.prompt = prompt_geometry(x, h, dn + dr);  // prompts run naive: MHA tiles of dn + dr
  attention_kernel(kGlobal, w, s, x, L, out);
  if (s.mla != MlaForm::naive) {
    // [Td, h, r] x W_UV [h, r, dv] -> [Td, h, dv]: 2*Td*h*r*dv FLOP.
    OpCost o = linear(op::o_absorb, Td * h, dv, r, x.w_attn, x.gemm_in, false, x, L);
    o.bytes.weight_read = matrix_bytes(std::int64_t(h * dv), std::int64_t(r), x.w_attn, x.group);
    o.gemm_m = Td;
    o.gemm_groups = h;
    out.push(unless_empty(o, Td));
  }
  out.push(linear(op::o_proj, x.T, x.d, h * dv, x.w_attn, x.gemm_in, false, x, L));
}

}  // namespace

void attention_block(const ModelConfig& m, const Scenario& s, const Shape& x, OpList& out) {
  if (m.mla) mla_attention(m, s, x, out);
  else gqa_projections(m, s, x, out);
}

// Gated DeltaNet (Qwen3NextGatedDeltaNet), per token: in_proj to q, k (nk x dk), v, z (nv x dv), beta and decay
// (nv); a causal depthwise conv of kernel K and SiLU over q, k, v; per value head, with state S [dk, dv]:
// S = decay*S (dk*dv), u = S^T k (2 dk dv), S += k (beta (v - u))^T (2 dk dv + 3 dv), o = S^T q (2 dk dv), plus L2
// norms of q and k (4 dk each): 7 dk dv + 3 dv + 8 dk FLOP. The state is read and written once per step (kernels
// keep it on chip across the step's tokens); it lives beside the KV cache, one per sequence and layer.
void linear_attention_block(const ModelConfig& m, const Scenario&, const Shape& x, OpList& out) {
  const LinearAttention& a = *m.linear;
  const auto L = m.linear_layers;
  const double nk = double(a.key_heads), nv = double(a.value_heads), dk = double(a.key_dim),
               dv = double(a.value_dim), K = double(a.conv_kernel), conv = double(a.conv_dim());
  const double qkvz = 2 * nk * dk + 2 * nv * dv;
  out.push(linear(op::linear_in_proj, x.T, qkvz + 2 * nv, x.d, x.w_attn, x.gemm_in, false, x, L));

  // Conv: K multiply-adds and a SiLU (4) per channel and token; the last K-1 inputs of each sequence are its state.
  OpCost cv = vector_op(op::linear_conv, x.T * conv * (2 * K + 4), L);
  cv.bytes.weight_read = conv * K * bytes_of(x.w0);
  cv.bytes.act_read = x.T * conv * x.a;
  cv.bytes.act_write = x.T * conv * x.a;
  cv.bytes.kv_read = cv.bytes.kv_write = x.sequences * conv * (K - 1) * x.c;
  out.push(cv);

  OpCost rule = vector_op(op::linear_attention, x.T * nv * (7 * dk * dv + 3 * dv + 8 * dk), L);
  rule.kind = OpKind::attention;
  rule.weights = x.kv;  // the recurrent state's format
  rule.bytes.weight_read = 2 * nv * bytes_of(x.w0);  // A_log, dt_bias
  rule.bytes.act_read = x.T * (conv + 2 * nv) * x.a;
  rule.bytes.act_write = x.T * nv * dv * x.a;
  rule.bytes.kv_read = rule.bytes.kv_write = x.sequences * nv * dk * dv * x.c;
  out.push(rule);

  // Gated RMSNorm per value head: norm (4 dv + 3) then * SiLU(z) (5 dv).
  OpCost norm = rms_norm(op::linear_norm, x.T * nv, dv, x, L);
  norm.flops += x.T * nv * 5 * dv;
  norm.bytes.act_read += x.T * nv * dv * x.a;  // z
  out.push(norm);
  out.push(linear(op::linear_out_proj, x.T, x.d, nv * dv, x.w_attn, x.gemm_in, false, x, L));
}

}  // namespace opmodel::detail
