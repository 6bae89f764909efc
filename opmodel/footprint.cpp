#include "opmodel/footprint.hpp"

#include <algorithm>

#include "opmodel/step_ops.hpp"

namespace opmodel {
namespace {

enum class Part { layers, embedding, head };

// Calls visit(n_out, n_in, quantizable, part) for every weight matrix, visit(n, 1, false, part) for every vector.
// experts_per_layer: the routed experts counted in a MoE layer (all E for the weights, k for the active count).
template <class Visit>
void for_each_weight(const ModelConfig& m, std::int64_t experts_per_layer, Visit&& visit) {
  const auto d = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim();
  auto swiglu = [&](std::int64_t f) {
    visit(f, d, true, Part::layers);  // gate
    visit(f, d, true, Part::layers);  // up
    visit(d, f, true, Part::layers);  // down
    if (m.mlp_bias) visit(2 * f + d, 1, false, Part::layers);
  };
  const std::int64_t moe_layers = m.is_moe() ? m.moe_layers : 0;
  for (std::int64_t l = 0; l < m.num_layers; ++l) {
    constexpr Part layer = Part::layers;
    visit(d, 1, false, layer);  // attn_norm
    visit(d, 1, false, layer);  // mlp_norm
    visit(qd, d, true, layer);
    visit(kvd, d, true, layer);
    visit(kvd, d, true, layer);
    visit(d, qd, true, layer);
    if (m.qkv_bias) visit(qd + 2 * kvd, 1, false, layer);
    if (m.o_bias) visit(d, 1, false, layer);
    if (m.qk_norm) visit(2 * m.head_dim, 1, false, layer);
    if (l >= moe_layers) {  // a dense MLP (which layers are MoE does not change a sum over layers)
      swiglu(m.intermediate_size);
      continue;
    }
    visit(m.num_experts, d, false, layer);  // router
    for (std::int64_t e = 0; e < experts_per_layer; ++e) swiglu(m.moe_intermediate_size);
    if (m.shared_expert_intermediate_size > 0) swiglu(m.shared_expert_intermediate_size);
    if (m.shared_expert_gate) visit(1, d, false, layer);
  }
  visit(d, 1, false, Part::head);                              // final_norm
  visit(m.vocab_size, d, false, Part::embedding);              // embedding
  if (!m.tie_word_embeddings) visit(m.vocab_size, d, false, Part::head);  // lm_head
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
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool, Part) { n += double(rows) * double(cols); });
  return n;
}

double active_parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, m.experts_per_token,
                  [&](std::int64_t rows, std::int64_t cols, bool, Part) { n += double(rows) * double(cols); });
  return n;
}

double weight_bytes(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  double bytes = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool quantizable, Part) {
    bytes += stored_bytes(rows, cols, quantizable, s, dense);
  });
  return bytes;
}

WeightParts weight_bytes_by_part(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  WeightParts parts;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool quantizable, Part part) {
    const double bytes = stored_bytes(rows, cols, quantizable, s, dense);
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
