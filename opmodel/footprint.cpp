#include "opmodel/footprint.hpp"

#include <algorithm>

#include "opmodel/step_ops.hpp"

namespace opmodel {
namespace {

enum class Part { layers, embedding, head };

// Calls visit(n_out, n_in, quantizable, part, count) for every kind of weight matrix, visit(n, 1, false, part,
// count) for every kind of vector, count being how many the model holds: each kind is visited once, not once
// per layer and expert (analyze counts the weights of every request, and a model has hundreds of experts).
// experts_per_layer: the routed experts counted in a MoE layer (all E for the weights, k for the active count).
template <class Visit>
void for_each_weight(const ModelConfig& m, std::int64_t experts_per_layer, Visit&& visit) {
  const auto d = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim();
  constexpr Part layer = Part::layers;
  auto swiglu = [&](std::int64_t f, std::int64_t count) {
    visit(f, d, true, layer, count);  // gate
    visit(f, d, true, layer, count);  // up
    visit(d, f, true, layer, count);  // down
    if (m.mlp_bias) visit(2 * f + d, 1, false, layer, count);
  };
  const std::int64_t L = m.num_layers, moe = m.is_moe() ? m.moe_layers : 0;
  visit(d, 1, false, layer, L);  // attn_norm
  visit(d, 1, false, layer, L);  // mlp_norm
  visit(qd, d, true, layer, L);
  visit(kvd, d, true, layer, L);
  visit(kvd, d, true, layer, L);
  visit(d, qd, true, layer, L);
  if (m.qkv_bias) visit(qd + 2 * kvd, 1, false, layer, L);
  if (m.o_bias) visit(d, 1, false, layer, L);
  if (m.qk_norm) visit(2 * m.head_dim, 1, false, layer, L);
  if (L > moe) swiglu(m.intermediate_size, L - moe);  // the dense MLPs
  if (moe > 0) {
    visit(m.num_experts, d, false, layer, moe);  // router
    swiglu(m.moe_intermediate_size, experts_per_layer * moe);
    if (m.shared_expert_intermediate_size > 0) swiglu(m.shared_expert_intermediate_size, moe);
    if (m.shared_expert_gate) visit(1, d, false, layer, moe);
  }
  visit(d, 1, false, Part::head, 1);                              // final_norm
  visit(m.vocab_size, d, false, Part::embedding, 1);              // embedding
  if (!m.tie_word_embeddings) visit(m.vocab_size, d, false, Part::head, 1);  // lm_head
}

template <class Visit>
void for_each_weight(const ModelConfig& m, Visit&& visit) {
  for_each_weight(m, m.num_experts, visit);
}

// Bytes of one weight: projections at the weight dtype (with group scales), the rest at the dense dtype.
double stored_bytes(std::int64_t rows, std::int64_t cols, bool quantizable, const Scenario& s, DType dense) {
  return quantizable ? matrix_bytes(rows, cols, s.weight_dtype, s.group_size)
                     : double(rows) * double(cols) * bytes_of(dense);
}

}  // namespace

double parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool, Part, std::int64_t count) {
    n += double(count) * double(rows) * double(cols);
  });
  return n;
}

double active_parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, m.experts_per_token, [&](std::int64_t rows, std::int64_t cols, bool, Part, std::int64_t count) {
    n += double(count) * double(rows) * double(cols);
  });
  return n;
}

double weight_bytes(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  double bytes = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool quantizable, Part, std::int64_t count) {
    bytes += double(count) * stored_bytes(rows, cols, quantizable, s, dense);
  });
  return bytes;
}

WeightParts weight_bytes_by_part(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  WeightParts parts;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool quantizable, Part part, std::int64_t count) {
    const double bytes = double(count) * stored_bytes(rows, cols, quantizable, s, dense);
    (part == Part::layers ? parts.layers : part == Part::embedding ? parts.embedding : parts.head) += bytes;
  });
  return parts;
}

double kv_bytes_per_token(const ModelConfig& m, DType kv_dtype) {
  return 2.0 * double(m.num_layers) * double(m.kv_dim()) * bytes_of(kv_dtype);
}

double kv_cache_bytes(const ModelConfig& m, const Scenario& s, std::int64_t context) {
  const std::int64_t held = m.sliding_window ? std::min(context, *m.sliding_window) : context;
  return double(s.batch) * double(held) * kv_bytes_per_token(m, s.kv_dtype);
}

}  // namespace opmodel
