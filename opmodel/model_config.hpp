// ModelConfig: the shape of a transformer decoder, read straight from a Hugging Face config.json
// (model_type llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe, phi3). Presets are such files, compiled
// in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace opmodel {

struct ModelConfig {
  std::string name;        // preset name or the config file's stem
  std::string model_type;  // "llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe"
  std::int64_t hidden_size = 0;         // d
  std::int64_t num_layers = 0;          // L
  std::int64_t num_heads = 0;           // h: query heads
  std::int64_t num_kv_heads = 0;        // g: key/value heads (GQA when g < h)
  std::int64_t head_dim = 0;            // config's head_dim, else d / h
  std::int64_t intermediate_size = 0;   // f: SwiGLU width of a dense MLP
  std::int64_t vocab_size = 0;          // V
  std::int64_t num_experts = 0;         // E: routed experts; 0 for a dense MLP in every layer
  std::int64_t experts_per_token = 0;   // k: experts each token is routed to (MoE only)
  std::int64_t moe_intermediate_size = 0;  // f_e: one routed expert's SwiGLU width (Mixtral: intermediate_size)
  std::int64_t shared_expert_intermediate_size = 0;  // f_s: the always-on shared expert's width; 0: none
  bool shared_expert_gate = false;      // Qwen2-MoE: sigmoid(x . w_g) scales the shared expert's output
  std::int64_t moe_layers = 0;          // layers whose MLP is MoE; the other num_layers - moe_layers are dense
  std::optional<std::int64_t> sliding_window;  // attention span W in tokens, when the model uses one
  bool tie_word_embeddings = false;     // lm_head shares the embedding matrix
  bool qkv_bias = false;                // q/k/v projections have biases (Qwen2; Llama attention_bias)
  bool o_bias = false;                  // o_proj bias (Llama attention_bias)
  bool mlp_bias = false;                // gate/up/down biases (Llama mlp_bias)
  bool qk_norm = false;                 // per-head RMSNorm on q and k before RoPE (Qwen3)
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::int64_t max_position_embeddings = 0;  // 0 when the config does not say
  std::string torch_dtype;              // as the config states it, informational

  bool is_moe() const { return num_experts > 0; }
  std::int64_t dense_layers() const { return num_layers - moe_layers; }
  std::int64_t q_dim() const { return num_heads * head_dim; }    // width of Q
  std::int64_t kv_dim() const { return num_kv_heads * head_dim; }  // width of K (and of V)
};

// Parses a config.json object; origin names the file in errors. Throws ModelError.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& name, const std::string& origin);
ModelConfig load_model_config_file(const std::string& path);

struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};
std::span<const EmbeddedFile> embedded_files();  // generated at build time from opmodel/presets

std::vector<std::string> model_preset_names();
// A preset name, else a path to a config.json. Throws ModelError listing the presets.
ModelConfig resolve_model(const std::string& name_or_path);

}  // namespace opmodel
