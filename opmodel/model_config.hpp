// ModelConfig: the shape of a transformer decoder, read straight from a Hugging Face config.json (the families
// are listed in model_families.cpp). Presets are such files, compiled in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "opmodel/dtype.hpp"

namespace opmodel {

// Multi-head latent attention (DeepSeek-V2/V3): K and V come from a per-token latent c_kv of kv_lora_rank values
// (plus one rope key of qk_rope_head_dim shared by the heads), which is what the cache holds.
struct Mla {
  std::int64_t q_lora_rank = 0;  // r_q: rank of the query's low-rank path; 0: a full q_proj (the Lite models)
  std::int64_t kv_lora_rank = 0;  // r: latent width
  std::int64_t qk_nope_head_dim = 0;  // dn: per-head query/key width without RoPE
  std::int64_t qk_rope_head_dim = 0;  // dr: per-head query width (and the shared key width) with RoPE
  std::int64_t v_head_dim = 0;        // dv: per-head value width
};

// Linear attention (Qwen3-Next's Gated DeltaNet): each value head keeps a dk x dv state per sequence, updated
// once per token, instead of a cache that grows with the context.
struct LinearAttention {
  std::int64_t key_heads = 0;    // nk
  std::int64_t value_heads = 0;  // nv (a multiple of nk)
  std::int64_t key_dim = 0;      // dk
  std::int64_t value_dim = 0;    // dv
  std::int64_t conv_kernel = 0;  // K: the causal depthwise convolution over q, k, v
  std::int64_t conv_dim() const { return 2 * key_heads * key_dim + value_heads * value_dim; }  // channels convolved
};

// The MLP's activation: FLOP per element of the gated product act(gate) * up, see step_ops.cpp.
enum class Activation { silu, gelu_tanh, swiglu_clamped };

// Per-module weight formats a checkpoint is stored in (from quantization_config); absent: the scenario's.
struct ModuleFormats {
  std::optional<DType> attention;  // q/k/v/o and MLA's projections, linear attention's projections
  std::optional<DType> mlp;        // dense MLPs and shared experts
  std::optional<DType> experts;    // routed experts
  std::int64_t group_size = 0;     // int8/int4 group (gptq/awq); 0: the scenario's
};

struct ModelConfig {
  std::string name;        // preset name or the config file's stem
  std::string model_type;  // as the config states it (the text config's for multimodal wrappers)
  std::int64_t hidden_size = 0;         // d
  std::int64_t num_layers = 0;          // L
  std::int64_t num_heads = 0;           // h: query heads
  std::int64_t num_kv_heads = 0;        // g: key/value heads (GQA when g < h); nominal under MLA
  std::int64_t head_dim = 0;            // config's head_dim, else d / h
  std::int64_t rotary_dim = 0;          // dims RoPE rotates per head: head_dim x partial_rotary_factor
  std::int64_t intermediate_size = 0;   // f: gated-MLP width of a dense MLP
  std::int64_t vocab_size = 0;          // V
  std::int64_t num_experts = 0;         // E: routed experts; 0 for a dense MLP in every layer
  std::int64_t experts_per_token = 0;   // k: experts each token is routed to (MoE only)
  std::int64_t moe_intermediate_size = 0;  // f_e: one routed expert's width (Mixtral: intermediate_size)
  std::int64_t shared_expert_intermediate_size = 0;  // f_s: the always-on shared experts' width; 0: none
  bool shared_expert_gate = false;      // Qwen2-MoE, Qwen3-Next: sigmoid(x . w_g) scales the shared expert
  bool router_bias = false;             // GPT-OSS: the router has a bias; DeepSeek-V3: a score correction bias
  std::int64_t moe_layers = 0;          // layers whose MLP is MoE; the other num_layers - moe_layers are dense
  // Attention layers by kind: global ones attend to the whole context, local ones within sliding_window tokens
  // (chunked: within aligned chunks of that many, as Llama 4), linear ones keep a fixed state.
  std::int64_t local_layers = 0;
  std::int64_t linear_layers = 0;
  std::optional<std::int64_t> sliding_window;  // the local layers' span W in tokens
  bool chunked_local = false;           // local layers attend within aligned chunks of W (Llama 4)
  std::int64_t nope_layers = 0;         // softmax-attention layers without RoPE (Llama 4's global layers)
  std::optional<Mla> mla;               // multi-head latent attention in every softmax-attention layer
  std::optional<LinearAttention> linear;  // the linear-attention layers' geometry
  std::int64_t mtp_layers = 0;          // multi-token-prediction layers (num_nextn_predict_layers), kept apart
  bool mtp_module = false;              // this is an MTP module (mtp_draft): eh_proj joins the embedding and the
                                        // target's hidden state, and the embedding and lm_head are the target's
  Activation activation = Activation::silu;
  bool tie_word_embeddings = false;     // lm_head shares the embedding matrix
  bool qkv_bias = false;                // q/k/v projections have biases (Qwen2; Llama attention_bias)
  bool o_bias = false;                  // o_proj bias (Llama attention_bias)
  bool mlp_bias = false;                // gate/up/down biases (Llama mlp_bias; GPT-OSS experts)
  bool qk_norm = false;                 // per-head RMSNorm on q and k before RoPE (Qwen3, Gemma 3)
  bool qk_norm_weights = true;          // false: an L2 norm with no scale (Llama 4)
  bool post_norms = false;              // Gemma 2/3: RMSNorm after attention and after the MLP too (4 a layer)
  bool embed_scale = false;             // Gemma: embeddings multiplied by sqrt(d)
  bool attention_sinks = false;         // GPT-OSS: a learned per-head logit joins each softmax's denominator
  bool attention_output_gate = false;   // Qwen3-Next: sigmoid(gate) * attention output, gate from q_proj
  bool attn_softcap = false;            // Gemma 2: cap * tanh(score / cap) on every score
  bool final_softcap = false;           // Gemma 2: the same on the logits
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::int64_t max_position_embeddings = 0;  // 0 when the config does not say
  std::string torch_dtype;              // as the config states it, informational
  ModuleFormats stored;                 // weight formats the checkpoint declares

  bool is_moe() const { return num_experts > 0; }
  std::int64_t dense_layers() const { return num_layers - moe_layers; }
  std::int64_t softmax_layers() const { return num_layers - linear_layers; }  // layers with q/k/v attention
  std::int64_t global_layers() const { return softmax_layers() - local_layers; }
  std::int64_t rope_layers() const { return softmax_layers() - nope_layers; }
  // Layers that norm q and k: all softmax-attention layers, except Llama 4's unscaled L2 norm on its RoPE layers only.
  std::int64_t qk_norm_layers() const { return !qk_norm ? 0 : qk_norm_weights ? softmax_layers() : rope_layers(); }
  std::int64_t q_dim() const { return num_heads * head_dim; }    // width of Q (MHA/GQA)
  std::int64_t kv_dim() const { return num_kv_heads * head_dim; }  // width of K (and of V)
};

// Parses a config.json object; origin names the file in errors. Throws ModelError.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& name, const std::string& origin);
ModelConfig load_model_config_file(const std::string& path);
// The multi-token-prediction module as a model of its own (one decoder layer per MTP depth, with its input
// projection, sharing the embedding and lm_head), the draft that speculative decoding with MTP runs.
// Throws ModelError when the model has none.
ModelConfig mtp_draft(const ModelConfig& m);

struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};
std::span<const EmbeddedFile> embedded_files();  // generated at build time from opmodel/presets

std::vector<std::string> model_preset_names();
// A preset name, else a path to a config.json. Throws ModelError listing the presets.
ModelConfig resolve_model(const std::string& name_or_path);

}  // namespace opmodel
