// Config: the engine's own reading of a Hugging Face config.json (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM,
// DeepseekV2ForCausalLM, DeepseekV3ForCausalLM, Gemma2ForCausalLM). engine/ knows nothing of opmodel;
// both read the same file.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace engine {

// rope_scaling: {"rope_type": "llama3", ...} (Llama 3.1+) or {"rope_type": "yarn", ...} (DeepSeek-V2/V3, as
// transformers' _compute_yarn_parameters reads it); absent = plain RoPE.
struct RopeScaling {
  enum class Type { llama3, yarn };
  Type type = Type::llama3;
  double factor = 1, low_freq_factor = 1, high_freq_factor = 4;  // llama3
  std::int64_t original_max_position_embeddings = 8192;
  double beta_fast = 32, beta_slow = 1;  // yarn: the ramp between extrapolated and interpolated frequencies
  double mscale = 0, mscale_all_dim = 0;  // yarn: 0 = absent
  bool truncate = true;                   // yarn: the ramp's ends rounded to whole dimensions
  // yarn_get_mscale: 0.1 m ln(factor) + 1, or 1 when the factor does not stretch the context.
  double yarn_mscale(double m) const { return factor <= 1 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; }
};

// DeepSeek's multi-head latent attention (MLA): each position caches one latent row, c_kv (kv_lora_rank, after
// kv_a_layernorm) and the shared rotary key k_pe (qk_rope_head_dim); kv_b_proj expands c_kv into every head's
// k_nope (qk_nope_head_dim) and value (v_head_dim).
struct MlaConfig {
  std::int64_t q_lora_rank = 0;  // 0: a full q_proj (V2-Lite); else q_a_proj -> q_a_layernorm -> q_b_proj
  std::int64_t kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  bool rope_interleave = true;  // rotary pairs (2i, 2i+1) (DeepSeek); false: rotate-half pairs (i, i + d/2)
};

// A sparse MoE MLP (Mixtral, Qwen3-MoE): a router over `experts` SwiGLU experts of width `hidden`, top_k a token.
struct MoeConfig {
  std::int64_t experts = 0, top_k = 0, hidden = 0;  // num_experts (num_local_experts), num_experts_per_tok
  bool renormalize = true;   // the k routing weights divided by their sum (Mixtral always; Qwen3-MoE norm_topk_prob)
  std::vector<bool> sparse;  // per layer: MoE, else the dense MLP of hidden_dim (Qwen2/3-MoE's mlp_only_layers,
                             // decoder_sparse_step)
  std::int64_t shared_hidden = 0;  // the shared expert's width, 0: none. Qwen2-MoE (shared_expert_intermediate_size):
                                   // scaled by sigmoid(x . shared_expert_gate) and added; DeepSeek (n_shared_experts
                                   // x moe_intermediate_size): added as it is
  bool shared_gated = true;
  // DeepSeek routing: sigmoid scores (V3) instead of softmax; the choice only among the top_groups best of `groups`
  // equal groups of experts (a group rated by its best score, or with top2_sum by its two best, V3), on the scores
  // plus a learnt bias (V3's e_score_correction_bias); the chosen weights times `scale` (routed_scaling_factor).
  bool sigmoid = false, score_bias = false, top2_sum = false;
  std::int64_t groups = 1, top_groups = 1;
  double scale = 1;
};

struct Config {
  std::string model_type;            // llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe, deepseek_v2/v3, gemma2
  std::int64_t dim = 0;              // hidden_size
  std::int64_t hidden_dim = 0;       // intermediate_size (SwiGLU width; Mixtral: each expert's)
  std::int64_t n_layers = 0;         // num_hidden_layers
  std::int64_t n_heads = 0;          // num_attention_heads
  std::int64_t n_kv_heads = 0;       // num_key_value_heads (GQA when < n_heads)
  std::int64_t head_dim = 0;         // head_dim, else dim / n_heads; MLA: a query's and key's width, nope + rope
  std::int64_t vocab_size = 0;
  std::int64_t max_seq_len = 0;      // max_position_embeddings; 0 when the config does not say
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000;
  std::optional<RopeScaling> rope_scaling;
  std::optional<std::int64_t> sliding_window;  // Mistral; Qwen2 with use_sliding_window
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2, or Llama attention_bias
  bool o_bias = false;    // Llama attention_bias
  bool mlp_bias = false;  // Llama mlp_bias
  bool qk_norm = false;   // Qwen3: RMSNorm over each head of q and k before RoPE
  // Gemma 2 (Gemma2ForCausalLM): the embedding times sqrt(hidden_size); RMSNorms scale by (1 + w) (the engine stores
  // 1 + w, so its norm kernel is the same); a norm after attention and after the MLP, each before its residual add;
  // GeGLU with gelu_pytorch_tanh; the scores scaled by query_pre_attn_scalar^-1/2 and soft-capped; sliding layers
  // (local[l]) beside global ones; the logits soft-capped.
  bool embed_scale = false, norm_plus_one = false, post_norms = false, gelu_tanh = false;
  std::optional<double> query_pre_attn_scalar;
  double attn_softcap = 0, final_softcap = 0;  // 0: none
  std::vector<bool> local;  // per layer: sliding (sliding_window); empty: every layer as sliding_window says
  bool sliding(std::int64_t layer) const { return local.empty() ? bool(sliding_window) : bool(local[std::size_t(layer)]); }
  std::optional<MoeConfig> moe;
  std::optional<MlaConfig> mla;

  bool sparse(std::int64_t layer) const { return moe && moe->sparse[std::size_t(layer)]; }

  std::int64_t q_dim() const { return n_heads * head_dim; }
  std::int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // The attention's output width, o_proj's input: h * v_head_dim for MLA.
  std::int64_t attn_out_dim() const { return mla ? n_heads * mla->v_head_dim : q_dim(); }
  // The dims RoPE rotates in each head: qk_rope_head_dim for MLA.
  std::int64_t rope_dim() const { return mla ? mla->qk_rope_head_dim : head_dim; }
  // Floats a position caches per layer: K and V rows, or MLA's one latent row.
  std::int64_t cache_k_dim() const { return mla ? mla->kv_lora_rank + mla->qk_rope_head_dim : kv_dim(); }
  std::int64_t cache_v_dim() const { return mla ? 0 : kv_dim(); }
  // The softmax scale: head_dim^-1/2, times yarn's mscale(factor, mscale_all_dim)^2 when mscale_all_dim is given
  // (DeepseekV3Attention).
  double attention_scale() const;
  // The input width k of every quantized linear layer the model has (an int8 group must divide each).
  std::vector<std::int64_t> linear_input_widths() const;
};

// Parses the text of a config.json; origin names it in errors. Throws EngineError.
Config parse_config(const std::string& json_text, const std::string& origin);
Config load_config_file(const std::string& path);

}  // namespace engine
