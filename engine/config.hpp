// Config: the engine's own reading of a Hugging Face config.json (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM). engine/ knows nothing of opmodel;
// both read the same file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace engine {

struct RopeScaling {  // rope_scaling {"rope_type": "llama3", ...} (Llama 3.1+); absent = plain RoPE
  double factor = 1, low_freq_factor = 1, high_freq_factor = 4;
  std::int64_t original_max_position_embeddings = 8192;
};

// A sparse MoE MLP (Mixtral, Qwen3-MoE): a router over `experts` SwiGLU experts of width `hidden`, top_k a token.
struct MoeConfig {
  std::int64_t experts = 0, top_k = 0, hidden = 0;  // num_experts (num_local_experts), num_experts_per_tok
  bool renormalize = true;   // the k routing weights divided by their sum (Mixtral always; Qwen3-MoE norm_topk_prob)
  std::vector<bool> sparse;  // per layer: MoE, else the dense MLP of hidden_dim (Qwen2/3-MoE's mlp_only_layers,
                             // decoder_sparse_step)
  std::int64_t shared_hidden = 0;  // Qwen2-MoE's shared expert (shared_expert_intermediate_size), 0: none; its
                                   // output is scaled by sigmoid(x . shared_expert_gate) and added
};

struct Config {
  std::string model_type;            // llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe
  std::int64_t dim = 0;              // hidden_size
  std::int64_t hidden_dim = 0;       // intermediate_size (SwiGLU width; Mixtral: each expert's)
  std::int64_t n_layers = 0;         // num_hidden_layers
  std::int64_t n_heads = 0;          // num_attention_heads
  std::int64_t n_kv_heads = 0;       // num_key_value_heads (GQA when < n_heads)
  std::int64_t head_dim = 0;         // head_dim, else dim / n_heads
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
  std::optional<MoeConfig> moe;

  bool sparse(std::int64_t layer) const { return moe && moe->sparse[std::size_t(layer)]; }

  std::int64_t q_dim() const { return n_heads * head_dim; }
  std::int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// Parses the text of a config.json; origin names it in errors. Throws EngineError.
Config parse_config(const std::string& json_text, const std::string& origin);
Config load_config_file(const std::string& path);

}  // namespace engine
