// The formulas. Notation, per step: B sequences, q new tokens each, k cached; T = B*q tokens (a mixed
// step sums tokens, attention pairs and keys read over its sequences: BatchShape);
// d hidden, h query heads, g KV heads, hd head_dim, f intermediate, V vocabulary, E experts (k_e per token).
// Byte sizes: a = activation dtype, c = KV dtype, w = projection weight dtype, w0 = dense weight dtype.
// Conventions are stated once in op_cost.hpp (2 FLOP per multiply-add; compulsory traffic).
#include "opmodel/step_ops.hpp"

#include <algorithm>
#include <cmath>

#include "opmodel/op_names.hpp"
#include "opmodel/step_parts.hpp"

namespace opmodel {

namespace {
// sum_{p=0}^{n-1} (p mod C + 1): full chunks of C(C+1)/2 pairs, then the partial one.
double chunked_pairs_before(double n, double c) {
  const double full = std::floor(n / c), rest = n - full * c;
  return full * c * (c + 1) / 2 + rest * (rest + 1) / 2;
}
}  // namespace

AttentionSpan attention_span(std::int64_t q_len, std::int64_t kv_len, std::optional<std::int64_t> window,
                             bool chunked) {
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
  if (chunked) {  // positions k .. k+q-1, each in its chunk [floor(p/W)*W, p]
    s.pairs = chunked_pairs_before(b, w) - chunked_pairs_before(k, w);
    s.keys_read = b - std::floor(k / w) * w;  // from the first query's chunk start to the last new position
    s.cache_len = b - std::floor((b - 1) / w) * w;
    return s;
  }
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
  const double rows = double(n), cols = double(k);
  double bytes = rows * cols * bytes_of(dtype);
  if (has_group_scales(dtype)) bytes += rows * std::ceil(cols / double(group_size)) * 2.0;  // fp16 per group
  if (dtype == DType::fp8_block) bytes += std::ceil(rows / 128) * std::ceil(cols / 128) * 4.0;  // fp32 per block
  if (dtype == DType::mxfp4) bytes += rows * std::ceil(cols / 32) * 1.0;                       // e8m0 per 32
  if (dtype == DType::nvfp4) bytes += rows * std::ceil(cols / 16) * 1.0 + 4.0;  // e4m3 per 16, fp32 per tensor
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

void BatchShape::add(const SequenceShape& seq, const ModelConfig& m) {
  const double n = double(seq.count);
  sequences += n;
  tokens += n * double(seq.q_len);
  rope_positions += double(seq.q_len);  // sequences of one shape sit at the same positions
  const AttentionSpan all = attention_span(seq.q_len, seq.kv_len, std::nullopt);
  global.pairs += n * all.pairs;
  global.keys_read += n * all.keys_read;
  if (seq.logit_rows == seq.q_len && seq.kv_len > 0) {
    decode_tokens += n * double(seq.q_len);
    decode_sequences += n;
    decode.pairs += n * all.pairs;
    decode.keys_read += n * all.keys_read;
  }
  if (m.local_layers > 0) {
    const AttentionSpan near = attention_span(seq.q_len, seq.kv_len, m.sliding_window, m.chunked_local);
    local.pairs += n * near.pairs;
    local.keys_read += n * near.keys_read;
  }
  logit_rows += n * double(seq.logit_rows);
}

BatchShape uniform_batch(const ModelConfig& m, const Scenario& s) {
  BatchShape b;
  b.add({s.batch, s.q_len, s.kv_len, s.all_logits ? s.q_len : 1}, m);
  return b;
}

namespace detail {

Shape shape_of(const ModelConfig& m, const Scenario& s, const BatchShape& b) {
  Shape x{};
  x.T = b.tokens;
  x.sequences = b.sequences;
  x.positions = b.rope_positions;
  x.global = b.global;
  x.local = b.local;
  x.decode_tokens = b.decode_tokens;
  x.decode_sequences = b.decode_sequences;
  x.decode = b.decode;
  x.logit_rows = b.logit_rows;
  x.d = double(m.hidden_size);
  x.V = double(m.vocab_size);
  x.a = bytes_of(s.act_dtype);
  x.c = bytes_of(s.kv_dtype);
  x.kv = s.kv_dtype;
  x.w_attn = s.attention_weights();
  x.w_mlp = s.mlp_weights();
  x.w_exp = s.expert_weights();
  x.w0 = dense_weight_dtype(s);
  x.act = s.act_dtype;
  x.gemm_in = s.gemm_input_dtype.value_or(s.act_dtype);
  // Integer activations feed integer GEMMs only; attention and dense-weight GEMMs run in fp16.
  x.act_float = s.act_float();
  x.a_float = bytes_of(x.act_float);
  x.attn = s.attention_compute();
  x.a_attn = bytes_of(x.attn);
  x.group = s.group_size;
  return x;
}

OpCost linear(std::string_view name, double rows, double n, double k, DType wdtype, DType compute, bool bias,
              const Shape& x, std::int64_t count) {
  OpCost op;
  op.name = name;
  op.kind = OpKind::linear;
  op.unit = Unit::matrix;
  // Projections compute in the GEMM input dtype (the activations' unless the scenario quantizes GEMM inputs) and
  // read their input at its width; the dense-weight ones compute in act_float and read the activations.
  const bool quantized_input = compute == x.gemm_in && x.gemm_in != x.act;
  op.compute = compute;
  if (is_block_float(wdtype)) {
    op.compute = wdtype;
    op.upconvert = x.act_float;
  }
  op.weights = wdtype;
  op.count = count;
  op.gemm_m = rows;
  op.gemm_n = n;
  op.flops = 2 * rows * n * k + (bias ? rows * n : 0);
  op.bytes.weight_read = matrix_bytes(std::int64_t(n), std::int64_t(k), wdtype, x.group) +
                         (bias ? n * bytes_of(x.w0) : 0);
  op.bytes.act_read = rows * k * (quantized_input ? bytes_of(x.gemm_in) : x.a);
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

// Per row: width squares + width adds, 3 for mean, +eps and rsqrt, then width multiplies by 1/rms and width by
// gamma: 4*width + 3 FLOP. Reads x (and gamma), writes y.
OpCost rms_norm(std::string_view name, double rows, double width, const Shape& x, std::int64_t count, bool weights) {
  OpCost op = vector_op(name, rows * (4 * width + 3), count);
  op.bytes.weight_read = weights ? width * bytes_of(x.w0) : 0;
  op.bytes.act_read = rows * width * x.a;
  op.bytes.act_write = rows * width * x.a;
  return op;
}

double activation_flops(Activation a) {
  switch (a) {
    case Activation::silu: return 5;
    case Activation::gelu_tanh: return 10;
    case Activation::swiglu_clamped: return 10;
  }
  return 5;
}

}  // namespace detail

namespace {

using namespace detail;

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

// The MTP module's input: RMSNorm of the next token's embedding and of the main model's hidden state (enorm,
// hnorm), then eh_proj [d, 2d] over their concatenation: one op, the norms (2T rows of 4d+3 FLOP, two gamma
// vectors) in its prologue.
void mtp_input(const Shape& x, OpList& out) {
  OpCost op = linear(op::mtp_proj, x.T, x.d, 2 * x.d, x.w_mlp, x.gemm_in, false, x, 1);
  op.flops += 2 * x.T * (4 * x.d + 3);
  op.bytes.weight_read += 2 * x.d * bytes_of(x.w0);
  out.push(op);
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

  // embed: gather T rows of the [V, d] table (Gemma scales them by sqrt(d): T*d FLOP). At most V distinct rows
  // exist, so the table's compulsory traffic is min(T, V) rows.
  OpCost embed = vector_op(op::embed, m.embed_scale ? x.T * x.d : 0, 1);
  embed.kind = OpKind::embedding;
  embed.bytes.weight_read = std::min(x.T, x.V) * x.d * bytes_of(x.w0);
  embed.bytes.act_write = x.T * x.d * x.a;
  out.push(embed);
  if (m.mtp_module) mtp_input(x, out);

  // With add_norm fused, only the first layer's attn_norm stands alone (its input is the embedding);
  // the other L-1 attn_norms, the L mlp_norms and final_norm each absorb the residual add before them.
  out.push(rms_norm(op::attn_norm, x.T, x.d, x, fuse_add ? 1 : L));
  if (m.softmax_layers() > 0) attention_block(m, s, x, out);
  if (m.linear_layers > 0) linear_attention_block(m, s, x, out);
  if (m.post_norms) out.push(rms_norm(op::post_attn_norm, x.T, x.d, x, L));

  if (fuse_add) {
    out.push(add_rms_norm(x, 2 * L));  // L before the MLPs, L-1 before attention, 1 as final_norm
  } else {
    out.push(residual_add(op::attn_add, x, L));
    out.push(rms_norm(op::mlp_norm, x.T, x.d, x, L));
  }
  mlp_block(m, s, x, out);
  if (m.post_norms) out.push(rms_norm(op::post_mlp_norm, x.T, x.d, x, L));
  if (!fuse_add) {
    out.push(residual_add(op::mlp_add, x, L));
    out.push(rms_norm(op::final_norm, x.T, x.d, x, 1));
  }

  // lm_head on each sequence's last token (what generation needs), or every token with all_logits; a
  // step of prefill chunks that end no prompt computes no logits: the op stays, at zero cost. Gemma 2 caps the
  // logits: divide, tanh, multiply (3 FLOP each).
  const double rows = x.logit_rows;
  OpCost head = linear(op::lm_head, rows, x.V, x.d, x.w0, x.act_float, false, x, 1);
  head.bytes.act_write = rows * x.V * x.a_float;
  if (m.final_softcap) head.flops += 3 * rows * x.V;
  if (rows == 0) head.bytes = {};
  out.push(head);
}

}  // namespace opmodel
