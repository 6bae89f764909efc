#include "opmodel/footprint.hpp"

#include <algorithm>

#include "opmodel/step_ops.hpp"

namespace opmodel {
namespace {

enum class Part { layers, embedding, head };
// Which format a weight is stored in: a projection of a module group (scenario.hpp's ModuleWeights), or dense
// (norms, biases, routers, convolutions, embedding, lm_head: dense_weight_dtype).
enum class Module { attention, mlp, experts, dense };

// Calls visit(n_out, n_in, module, part, count) for every kind of weight matrix, visit(n, 1, Module::dense, part,
// count) for every kind of vector, count being how many the model holds: each kind is visited once, not once per
// layer and expert (analyze counts the weights of every request, and a model has hundreds of experts).
// experts_per_layer: the routed experts counted in a MoE layer (all E for the weights, k for the active count).
template <class Visit>
void for_each_weight(const ModelConfig& m, std::int64_t experts_per_layer, Visit&& visit) {
  const auto d = m.hidden_size;
  constexpr Part layer = Part::layers;
  constexpr Module dense = Module::dense;
  auto gated = [&](std::int64_t f, std::int64_t count, Module module) {
    visit(f, d, module, layer, count);  // gate
    visit(f, d, module, layer, count);  // up
    visit(d, f, module, layer, count);  // down
    if (m.mlp_bias) visit(2 * f + d, 1, dense, layer, count);
  };
  const std::int64_t L = m.num_layers, A = m.softmax_layers(), moe = m.is_moe() ? m.moe_layers : 0;
  visit(d, 1, dense, layer, L * (m.post_norms ? 4 : 2));  // attn_norm, mlp_norm (and Gemma's post-norms)
  if (m.mla) {
    const Mla& a = *m.mla;
    const std::int64_t h = m.num_heads, qk = h * (a.qk_nope_head_dim + a.qk_rope_head_dim);
    if (a.q_lora_rank > 0) {
      visit(a.q_lora_rank, d, Module::attention, layer, A);  // q_a_proj
      visit(a.q_lora_rank, 1, dense, layer, A);              // q_a_layernorm
      visit(qk, a.q_lora_rank, Module::attention, layer, A);  // q_b_proj
    } else {
      visit(qk, d, Module::attention, layer, A);  // q_proj
    }
    visit(a.kv_lora_rank + a.qk_rope_head_dim, d, Module::attention, layer, A);  // kv_a_proj_with_mqa
    visit(a.kv_lora_rank, 1, dense, layer, A);                                   // kv_a_layernorm
    visit(h * (a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank, Module::attention, layer, A);  // kv_b_proj
    visit(d, h * a.v_head_dim, Module::attention, layer, A);                                      // o_proj
  } else if (A > 0) {
    const auto qd = m.q_dim(), kvd = m.kv_dim();
    visit(qd * (m.attention_output_gate ? 2 : 1), d, Module::attention, layer, A);  // q_proj (and the gate)
    visit(kvd, d, Module::attention, layer, A);
    visit(kvd, d, Module::attention, layer, A);
    visit(d, qd, Module::attention, layer, A);
    if (m.qkv_bias) visit(qd + 2 * kvd, 1, dense, layer, A);
    if (m.o_bias) visit(d, 1, dense, layer, A);
    if (m.qk_norm && m.qk_norm_weights) visit(2 * m.head_dim, 1, dense, layer, A);
    if (m.attention_sinks) visit(m.num_heads, 1, dense, layer, A);
  }
  if (m.linear && m.linear_layers > 0) {
    const LinearAttention& a = *m.linear;
    const std::int64_t N = m.linear_layers, in = 2 * a.key_heads * a.key_dim + 2 * a.value_heads * a.value_dim;
    visit(in + 2 * a.value_heads, d, Module::attention, layer, N);  // in_proj_qkvz, in_proj_ba
    visit(a.conv_dim(), a.conv_kernel, dense, layer, N);           // conv1d
    visit(2 * a.value_heads + a.value_dim, 1, dense, layer, N);    // dt_bias, A_log, norm
    visit(d, a.value_heads * a.value_dim, Module::attention, layer, N);  // out_proj
  }
  if (L > moe) gated(m.intermediate_size, L - moe, Module::mlp);  // the dense MLPs
  if (moe > 0) {
    visit(m.num_experts, d, dense, layer, moe);  // router
    if (m.router_bias) visit(m.num_experts, 1, dense, layer, moe);
    gated(m.moe_intermediate_size, experts_per_layer * moe, Module::experts);
    if (m.shared_expert_intermediate_size > 0) gated(m.shared_expert_intermediate_size, moe, Module::mlp);
    if (m.shared_expert_gate) visit(1, d, dense, layer, moe);
  }
  if (m.mtp_module) {  // enorm, hnorm, eh_proj; the embedding and lm_head are the main model's
    visit(d, 1, dense, layer, 2 * L);
    visit(d, 2 * d, Module::mlp, layer, L);
  }
  visit(d, 1, dense, Part::head, 1);  // final_norm
  if (m.mtp_module) return;
  visit(m.vocab_size, d, dense, Part::embedding, 1);              // embedding
  if (!m.tie_word_embeddings) visit(m.vocab_size, d, dense, Part::head, 1);  // lm_head
}

template <class Visit>
void for_each_weight(const ModelConfig& m, Visit&& visit) {
  for_each_weight(m, m.num_experts, visit);
}

// Bytes of one weight: projections at their module's format (with scales), the rest at the dense dtype.
double stored_bytes(std::int64_t rows, std::int64_t cols, Module module, const Scenario& s, DType dense) {
  switch (module) {
    case Module::attention: return matrix_bytes(rows, cols, s.attention_weights(), s.group_size);
    case Module::mlp: return matrix_bytes(rows, cols, s.mlp_weights(), s.group_size);
    case Module::experts: return matrix_bytes(rows, cols, s.expert_weights(), s.group_size);
    case Module::dense: break;
  }
  return double(rows) * double(cols) * bytes_of(dense);
}

}  // namespace

double parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, Module, Part, std::int64_t count) {
    n += double(count) * double(rows) * double(cols);
  });
  return n;
}

double active_parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, m.experts_per_token, [&](std::int64_t rows, std::int64_t cols, Module, Part, std::int64_t count) {
    n += double(count) * double(rows) * double(cols);
  });
  return n;
}

double weight_bytes(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  double bytes = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, Module module, Part, std::int64_t count) {
    bytes += double(count) * stored_bytes(rows, cols, module, s, dense);
  });
  return bytes;
}

WeightParts weight_bytes_by_part(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  WeightParts parts;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, Module module, Part part, std::int64_t count) {
    const double bytes = double(count) * stored_bytes(rows, cols, module, s, dense);
    (part == Part::layers ? parts.layers : part == Part::embedding ? parts.embedding : parts.head) += bytes;
    if (module == Module::experts) parts.experts += bytes;
  });
  return parts;
}

double kv_bytes_per_token_per_layer(const ModelConfig& m, DType kv_dtype) {
  const double elements = m.mla ? double(m.mla->kv_lora_rank + m.mla->qk_rope_head_dim) : 2.0 * double(m.kv_dim());
  return elements * bytes_of(kv_dtype);
}

double kv_bytes_per_token(const ModelConfig& m, DType kv_dtype) {
  return double(m.softmax_layers()) * kv_bytes_per_token_per_layer(m, kv_dtype);
}

double state_bytes_per_sequence(const ModelConfig& m, DType state_dtype) {
  if (!m.linear || m.linear_layers == 0) return 0;
  const LinearAttention& a = *m.linear;
  const double recurrent = double(a.value_heads * a.key_dim * a.value_dim);  // S per value head: dk x dv
  const double conv = double(a.conv_dim() * (a.conv_kernel - 1));              // the last K-1 conv inputs
  return double(m.linear_layers) * (recurrent + conv) * bytes_of(state_dtype);
}

std::int64_t local_positions_held(const ModelConfig& m, std::int64_t context) {
  if (m.local_layers == 0 || !m.sliding_window) return context;
  const std::int64_t w = *m.sliding_window;
  if (m.chunked_local) return context == 0 ? 0 : context - (context - 1) / w * w;  // the current chunk's positions
  return std::min(context, w);
}

double kv_cache_bytes(const ModelConfig& m, const Scenario& s, std::int64_t context) {
  const double per_layer = kv_bytes_per_token_per_layer(m, s.kv_dtype);
  const double per_sequence = double(m.global_layers()) * double(context) * per_layer +
                              double(m.local_layers) * double(local_positions_held(m, context)) * per_layer +
                              state_bytes_per_sequence(m, s.kv_dtype);
  return double(s.batch) * per_sequence;
}

ParameterCounts parameter_counts(const ModelConfig& m) {
  ParameterCounts p;
  p.total = parameter_count(m);
  p.active = active_parameter_count(m);
  p.embedding = m.mtp_module ? 0 : double(m.vocab_size) * double(m.hidden_size);
  p.head = m.mtp_module || m.tie_word_embeddings ? 0 : double(m.vocab_size) * double(m.hidden_size);
  return p;
}

}  // namespace opmodel
