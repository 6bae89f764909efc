// Weights of a Llama-family model (and its Qwen3 and sparse MoE kin): from a safetensors checkpoint, or seeded random from a config alone
// (so full-size layer shapes can be timed without a checkpoint).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/buffer.hpp"
#include "engine/config.hpp"
#include "engine/linear.hpp"

namespace engine {

struct WeightOptions {
  WeightFormat format = WeightFormat::f32;  // of the decoder layers' projections
  std::int64_t group_size = 128;            // int8: inputs per scale (0 = per output channel)
};

struct LayerWeights {
  Buffer<float> attn_norm;      // [dim]
  Linear wq, wk, wv, wo;        // [q_dim, dim], [kv_dim, dim], [kv_dim, dim], [dim, q_dim]
  Buffer<float> q_norm, k_norm;  // [head_dim] each (Qwen3); empty otherwise
  Buffer<float> mlp_norm;       // [dim]
  // Gemma 2: the norms after attention and after the MLP [dim] each; empty otherwise. Every norm weight of a
  // norm_plus_one model is stored as 1 + w (Gemma's RMSNorm scales by 1 + w).
  Buffer<float> post_attn_norm, post_mlp_norm;
  Linear w_gate, w_up, w_down;  // [hidden, dim], [hidden, dim], [dim, hidden]; empty in a MoE layer
  // MoE layers: the router [experts, dim] (in the activation precision, as lm_head), and each expert's
  // [moe_hidden, dim], [moe_hidden, dim], [dim, moe_hidden].
  Linear router;
  std::vector<Linear> e_gate, e_up, e_down;
  // The shared expert: [shared_hidden, dim] twice, [dim, shared_hidden]; Qwen2-MoE's gate [1, dim] (fp32).
  Linear s_gate, s_up, s_down, s_router;
  Buffer<float> router_bias;  // DeepSeek-V3's e_score_correction_bias [experts]; empty otherwise
  // MLA (DeepSeek), in place of wq, wk, wv: q_a [q_lora, dim], q_a_norm [q_lora], q_b [h (dn + dr), q_lora] (or wq
  // [h (dn + dr), dim] without q_lora); kv_a [r + dr, dim], kv_a_norm [r], kv_b [h (dn + dv), r]; wo [dim, h dv].
  // The absorbed form's per-head matrices, cut from kv_b (in the layers' format): uk_t[h] = W_UK[h]^T [r, dn],
  // uv[h] = W_UV[h] [dv, r].
  Linear wq_a, wq_b, wkv_a, wkv_b;
  Buffer<float> q_a_norm, kv_a_norm;
  std::vector<Linear> uk_t, uv;
};

struct Weights {
  Config config;
  WeightOptions options;
  Buffer<float> embed;  // [vocab, dim]
  std::vector<LayerWeights> layers;
  Buffer<float> final_norm;  // [dim]
  // [vocab, dim]: in the layers' format for f32 and bf16; fp32 when the layers are int8, so that only the
  // decoder projections are quantized (embedding, norms and lm_head stay in the activation precision).
  Linear lm_head;
  std::size_t bytes() const;
};

// The bytes the weights of config c take in the engine's storage (before any are made): what a caller checks
// against the machine's memory. Projections at o.format (int8: 1 B plus an fp16 scale per group), the rest fp32.
double weight_bytes(const Config& c, const WeightOptions& o);

// Loads every tensor under its Hugging Face name (model.layers.N.self_attn.q_proj.weight, ...; experts as
// block_sparse_moe.experts.E.w1/w3/w2 (Mixtral) or mlp.experts.E.gate_proj/up_proj/down_proj; DeepSeek's
// self_attn.kv_a_proj_with_mqa, mlp.shared_experts.*), checking each shape against the config. Throws EngineError
// naming the file and tensor.
Weights load_weights(const Config& c, const std::string& checkpoint, const WeightOptions& o);
// Seeded, thread-count independent: projections uniform in +-1/sqrt(fan_in) (PyTorch's nn.Linear bound),
// embedding uniform in +-1, norm weights 1 + uniform in +-0.1.
Weights random_weights(const Config& c, std::uint64_t seed, const WeightOptions& o);
// MLA's absorbed matrices of one layer from kv_b_proj's fp32 weights [h (dn + dv), r]: uk_t[h] [r, dn] and uv[h]
// [dv, r], in `format` (int8: group_size inputs a scale, or per output channel when 0).
void absorb_mla(LayerWeights& l, const Config& c, const float* kv_b, WeightFormat format, const WeightOptions& o);
// Writes the weights (dequantized) as an HF-style checkpoint: dir/config.json and dir/model.safetensors.
void save_checkpoint(const Weights& w, const std::string& config_json_text, const std::string& dir);

}  // namespace engine
