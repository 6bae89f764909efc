#include "opmodel/footprint.hpp"

#include <algorithm>

#include "opmodel/step_ops.hpp"

namespace opmodel {
namespace {

// Calls visit(n_out, n_in, quantizable) for every weight matrix, visit(n, 1, false) for every vector.
template <class Visit>
void for_each_weight(const ModelConfig& m, Visit&& visit) {
  const auto d = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim(), f = m.intermediate_size;
  const auto experts = m.is_moe() ? m.num_experts : 1;
  for (std::int64_t l = 0; l < m.num_layers; ++l) {
    visit(d, 1, false);  // attn_norm
    visit(d, 1, false);  // mlp_norm
    visit(qd, d, true);
    visit(kvd, d, true);
    visit(kvd, d, true);
    visit(d, qd, true);
    if (m.qkv_bias) visit(qd + 2 * kvd, 1, false);
    if (m.o_bias) visit(d, 1, false);
    if (m.qk_norm) visit(2 * m.head_dim, 1, false);
    if (m.is_moe()) visit(m.num_experts, d, false);  // router
    for (std::int64_t e = 0; e < experts; ++e) {
      visit(f, d, true);  // gate
      visit(f, d, true);  // up
      visit(d, f, true);  // down
      if (m.mlp_bias) visit(2 * f + d, 1, false);
    }
  }
  visit(d, 1, false);                                   // final_norm
  visit(m.vocab_size, d, false);                        // embedding
  if (!m.tie_word_embeddings) visit(m.vocab_size, d, false);  // lm_head
}

}  // namespace

double parameter_count(const ModelConfig& m) {
  double n = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool) { n += double(rows) * double(cols); });
  return n;
}

double weight_bytes(const ModelConfig& m, const Scenario& s) {
  const DType dense = dense_weight_dtype(s);
  double bytes = 0;
  for_each_weight(m, [&](std::int64_t rows, std::int64_t cols, bool quantizable) {
    bytes += quantizable ? matrix_bytes(rows, cols, s.weight_dtype, s.group_size)
                         : double(rows) * double(cols) * bytes_of(dense);
  });
  return bytes;
}

double kv_bytes_per_token(const ModelConfig& m, DType kv_dtype) {
  return 2.0 * double(m.num_layers) * double(m.kv_dim()) * bytes_of(kv_dtype);
}

double kv_cache_bytes(const ModelConfig& m, const Scenario& s, std::int64_t context) {
  const std::int64_t held = m.sliding_window ? std::min(context, *m.sliding_window) : context;
  return double(s.batch) * double(held) * kv_bytes_per_token(m, s.kv_dtype);
}

}  // namespace opmodel
