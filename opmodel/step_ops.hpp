// The per-operator cost model of one forward step of a decoder: one set of formulas for prefill
// (q_len = prompt, kv_len = 0) and decode (q_len = 1, kv_len = context so far).
#pragma once

#include "opmodel/model_config.hpp"
#include "opmodel/op_cost.hpp"
#include "opmodel/scenario.hpp"

namespace opmodel {

// Attention geometry of one sequence for a step with q new tokens after k cached ones, for a model
// attending to the last W positions (W absent = all). Query i (absolute position p = k+i) sees
// min(p+1, W) keys under the causal mask; these are what a causal kernel computes.
struct AttentionSpan {
  double pairs = 0;       // sum over queries of keys attended: sum_{p=k}^{k+q-1} min(p+1, W)
  double keys_read = 0;   // distinct cached positions touched: k+q - max(0, k+1-W)
  double cache_len = 0;   // positions held in the cache after the step: min(k+q, W)
};
AttentionSpan attention_span(std::int64_t q_len, std::int64_t kv_len, std::optional<std::int64_t> window);

// Bytes of an N x K weight matrix (N outputs, K inputs) stored as `dtype`, with one fp16 scale per
// `group_size` inputs of each row for int8/int4: N*K*bytes + N*ceil(K/G)*2.
double matrix_bytes(std::int64_t n, std::int64_t k, DType dtype, std::int64_t group_size);

// Dtype of the weights that quantization leaves alone (embedding, lm_head, norms, router): the
// weight dtype when it is not quantized, else the activation dtype, else fp16.
DType dense_weight_dtype(const Scenario& s);

// Expected number of distinct experts that T tokens, each routed to k of E experts uniformly,
// touch: E * (1 - (1 - k/E)^T). Equals k for one token, tends to E for many.
double expected_distinct_experts(double tokens, std::int64_t experts, std::int64_t per_token);

// Fills `out` with the ops of one step, in execution order. Scenario must be validated.
void step_ops(const ModelConfig& m, const Scenario& s, OpList& out);

}  // namespace opmodel
