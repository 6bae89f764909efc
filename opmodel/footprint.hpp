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
  double embedding = 0;
  double head = 0;
  double total() const { return layers + embedding + head; }
};
WeightParts weight_bytes_by_part(const ModelConfig& m, const Scenario& s);
// KV cache per token of one sequence: K and V for every layer: 2 * L * g * hd * bytes(kv dtype).
double kv_bytes_per_token(const ModelConfig& m, DType kv_dtype);
// KV cache of the batch holding `context` tokens per sequence (a sliding window caps what is held).
double kv_cache_bytes(const ModelConfig& m, const Scenario& s, std::int64_t context);

}  // namespace opmodel
