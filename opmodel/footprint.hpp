// Memory the model needs to hold: weights at their storage dtypes, and the KV cache.
#pragma once

#include <cstdint>

#include "opmodel/model_config.hpp"
#include "opmodel/scenario.hpp"

namespace opmodel {

// Parameters of the model (tied embeddings counted once).
double parameter_count(const ModelConfig& m);
// Parameters one token goes through, the convention of Qwen's and Mixtral's model cards: everything but the
// routed experts (attention, norms, routers, dense and shared MLPs, the embedding and lm_head), plus the
// k routed experts of each MoE layer. Equals parameter_count for a dense model.
double active_parameter_count(const ModelConfig& m);
// Bytes of all weights: projections in the weight dtype (with int8/int4 group scales), embedding,
// lm_head, norms and router in dense_weight_dtype().
double weight_bytes(const ModelConfig& m, const Scenario& s);
// Weight bytes split by where a pipeline stage holds them: the L decoder layers together, the embedding
// table, and what follows the layers (final_norm, and lm_head unless tied to the embedding).
struct WeightParts {
  double layers = 0;
  double experts = 0;  // the routed experts' share of layers (what expert parallelism shards)
  double embedding = 0;
  double head = 0;
  double total() const { return layers + embedding + head; }
};
WeightParts weight_bytes_by_part(const ModelConfig& m, const Scenario& s);
// Parameters under the conventions model cards use: all of them, the active ones (above), and the two
// vocabulary matrices cards count in or out: the input embedding and an untied lm_head (0 when tied).
struct ParameterCounts {
  double total = 0, active = 0, embedding = 0, head = 0;
};
ParameterCounts parameter_counts(const ModelConfig& m);

// KV cache one token of context adds to one softmax-attention layer: K and V, 2 * g * hd elements, or MLA's
// latent and rope key, kv_lora_rank + qk_rope_head_dim elements (shared by all heads).
double kv_bytes_per_token_per_layer(const ModelConfig& m, DType kv_dtype);
// KV cache per token of one sequence over every softmax-attention layer, before any window caps it.
double kv_bytes_per_token(const ModelConfig& m, DType kv_dtype);
// The fixed state of one sequence in the linear-attention layers: per layer nv x dk x dv for the recurrence and
// conv_dim x (K-1) for the convolution; 0 for models without such layers.
double state_bytes_per_sequence(const ModelConfig& m, DType state_dtype);
// Positions a local layer holds at `context`: min(context, W) for a sliding window, the current chunk's for chunked
// attention; context for a model without local layers.
std::int64_t local_positions_held(const ModelConfig& m, std::int64_t context);
// KV cache and state of the batch holding `context` tokens per sequence: global layers hold every position, local
// ones what their window or chunk keeps, linear ones their fixed state (in the KV dtype).
double kv_cache_bytes(const ModelConfig& m, const Scenario& s, std::int64_t context);

}  // namespace opmodel
