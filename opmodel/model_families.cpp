// The families: which config.json fields each reads, and how they map to ModelConfig. Conventions follow the
// transformers modeling code of each model_type (named per family below).
#include "opmodel/model_families.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace opmodel::family {
namespace {

using nlohmann::json;

// Every model_type read, with the fields beyond the shared ones that it understands. A field from kComputeFields
// that the family does not list is refused (it would change the computation unseen).
struct Family {
  std::string_view name;
  std::vector<std::string_view> reads;
};

const std::vector<Family>& families() {
  // Only fields of kComputeFields are listed: the others are read or ignored without a check.
  static const std::vector<std::string_view> deepseek = {"kv_lora_rank",     "q_lora_rank",
                                                          "n_routed_experts", "n_shared_experts",
                                                          "moe_intermediate_size", "num_nextn_predict_layers"};
  static const std::vector<Family> f = {
      {"llama", {}},
      {"mistral", {}},
      {"qwen2", {}},
      {"qwen3", {}},
      {"phi3", {}},
      {"mixtral", {"num_local_experts"}},
      {"qwen2_moe", {"num_experts", "moe_intermediate_size", "shared_expert_intermediate_size"}},
      {"qwen3_moe", {"num_experts", "moe_intermediate_size"}},
      {"deepseek_v2", deepseek},
      {"deepseek_v3", deepseek},
      {"gemma2", {"attn_logit_softcapping", "final_logit_softcapping"}},
      {"gemma3_text", {"sliding_window_pattern", "attn_logit_softcapping", "final_logit_softcapping"}},
      {"gpt_oss", {"num_local_experts"}},
      {"llama4_text", {"num_local_experts", "attention_chunk_size", "intermediate_size_mlp", "no_rope_layers"}},
      {"qwen3_next", {"num_experts", "moe_intermediate_size", "shared_expert_intermediate_size",
                      "linear_num_value_heads", "full_attention_interval"}},
  };
  return f;
}

constexpr std::array<std::string_view, 17> kComputeFields = {
    "kv_lora_rank",           "q_lora_rank",            "n_routed_experts",      "n_shared_experts",
    "num_local_experts",      "num_experts",            "sliding_window_pattern", "attention_chunk_size",
    "attn_logit_softcapping", "final_logit_softcapping", "linear_num_value_heads", "full_attention_interval",
    "num_nextn_predict_layers", "shared_expert_intermediate_size", "moe_intermediate_size", "intermediate_size_mlp",
    "no_rope_layers"};

const Family* find_family(std::string_view name) {
  for (const Family& f : families())
    if (f.name == name) return &f;
  return nullptr;
}

// Layer i of L is selected when pick(i); returns how many are.
template <class Pick>
std::int64_t count_layers(std::int64_t L, Pick&& pick) {
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < L; ++i) n += pick(i) ? 1 : 0;
  return n;
}

// A list of layer indices in [0, L); returns a mask.
std::vector<bool> layer_list(const Reader& r, const char* key, std::int64_t L) {
  std::vector<bool> mask(std::size_t(L), false);
  const json* list = r.find(key);
  if (!list) return mask;
  if (!list->is_array()) r.fail(key, fmt::format("must be a list of layer indices, got {}", list->dump()));
  for (const json& i : *list) {
    if (!i.is_number_integer() || i.get<std::int64_t>() < 0 || i.get<std::int64_t>() >= L)
      r.fail(key, fmt::format("{} is not a layer index in [0, {})", i.dump(), L));
    mask[std::size_t(i.get<std::int64_t>())] = true;
  }
  return mask;
}

// A count that may be 0 (num_nextn_predict_layers, first_k_dense_replace, n_shared_experts): an integer in
// [0, kMaxDim]; absent or null: 0.
std::int64_t count_or_zero(const Reader& r, const char* key) {
  const json* v = r.find(key);
  if (!v) return 0;
  if (!v->is_number_integer() || (v->is_number_unsigned() ? v->get<std::uint64_t>() > std::uint64_t(common::kMaxDim)
                                                           : (v->get<std::int64_t>() < 0 ||
                                                              v->get<std::int64_t>() > common::kMaxDim)))
    r.fail(key, fmt::format("must be an integer in [0, {}], got {}", common::kMaxDim, v->dump()));
  return v->get<std::int64_t>();
}

void read_experts(const Reader& r, const char* experts_field, ModelConfig& c) {
  c.num_experts = r.required_dim(experts_field);
  c.experts_per_token = r.required_dim("num_experts_per_tok");
  if (c.experts_per_token > c.num_experts)
    r.fail("num_experts_per_tok", fmt::format("{} exceeds {} = {}", c.experts_per_token, experts_field, c.num_experts));
}

// layer_types (transformers >= 4.53 writes it for most families): counts local and linear layers. Returns false
// when absent. Kinds the family has no geometry for are refused.
bool read_layer_types(const Reader& r, ModelConfig& c, std::string_view local_kind, bool linear) {
  const json* types = r.find("layer_types");
  if (!types) return false;
  if (!types->is_array() || std::int64_t(types->size()) != c.num_layers)
    r.fail("layer_types", fmt::format("must list one type per layer ({}), got {}", c.num_layers, types->dump()));
  c.local_layers = c.linear_layers = 0;
  for (const json& t : *types) {
    const std::string kind = t.is_string() ? t.get<std::string>() : t.dump();
    if (kind == "full_attention") continue;
    if (!local_kind.empty() && kind == local_kind) ++c.local_layers;
    else if (linear && kind == "linear_attention") ++c.linear_layers;
    else r.fail("layer_types", fmt::format("'{}' is not a layer type of {}", kind, c.model_type));
  }
  return true;
}

// The window of the local layers; fails when the config has local layers and no window.
void require_window(const Reader& r, const char* key, ModelConfig& c) {
  c.sliding_window = r.optional_dim(key);
  if (c.local_layers > 0 && !c.sliding_window) r.fail(key, "is required: the model has local attention layers");
}

Activation activation_of(const Reader& r) {
  std::string act = r.text("hidden_activation");
  if (act.empty()) act = r.text("hidden_act");
  if (act.empty() || act == "silu" || act == "swish") return Activation::silu;
  if (act == "gelu_pytorch_tanh" || act == "gelu_tanh" || act == "gelu_new") return Activation::gelu_tanh;
  r.fail(r.find("hidden_activation") ? "hidden_activation" : "hidden_act",
         fmt::format("'{}' is not modelled (silu, gelu_pytorch_tanh are)", act));
}

// Qwen{2,3}-MoE, Qwen3-Next (Qwen*MoeDecoderLayer): layer i is MoE unless in mlp_only_layers, when
// (i + 1) % decoder_sparse_step == 0; Qwen2-MoE and Qwen3-Next add a sigmoid-gated shared expert.
void read_qwen_moe(const Reader& r, bool shared, ModelConfig& c) {
  read_experts(r, "num_experts", c);
  c.moe_intermediate_size = r.required_dim("moe_intermediate_size");
  const std::int64_t step = r.optional_dim("decoder_sparse_step").value_or(1);
  const std::vector<bool> dense = layer_list(r, "mlp_only_layers", c.num_layers);
  c.moe_layers = count_layers(c.num_layers, [&](std::int64_t i) { return !dense[std::size_t(i)] && (i + 1) % step == 0; });
  if (shared) {
    c.shared_expert_intermediate_size = count_or_zero(r, "shared_expert_intermediate_size");
    c.shared_expert_gate = c.shared_expert_intermediate_size > 0;
  }
}

// DeepSeek-V2/V3 (DeepseekV{2,3}DecoderLayer, DeepseekV{2,3}Attention): MLA; layer i is MoE when
// n_routed_experts is set, i >= first_k_dense_replace and i % moe_layer_freq == 0; n_shared_experts experts of
// moe_intermediate_size run beside the routed ones with no gate; noaux_tc routing adds a score-correction bias.
void read_deepseek(const Reader& r, ModelConfig& c) {
  Mla a;
  a.q_lora_rank = r.optional_dim("q_lora_rank").value_or(0);
  a.kv_lora_rank = r.required_dim("kv_lora_rank");
  a.qk_nope_head_dim = r.required_dim("qk_nope_head_dim");
  a.qk_rope_head_dim = r.required_dim("qk_rope_head_dim");
  a.v_head_dim = r.required_dim("v_head_dim");
  if (a.qk_rope_head_dim % 2 != 0) r.fail("qk_rope_head_dim", fmt::format("must be even, got {}", a.qk_rope_head_dim));
  c.mla = a;
  c.head_dim = a.qk_nope_head_dim + a.qk_rope_head_dim;  // the query/key width per head
  c.rotary_dim = a.qk_rope_head_dim;
  c.num_kv_heads = c.num_heads;  // nominal: the cache holds the shared latent, not per-head K and V
  c.mtp_layers = count_or_zero(r, "num_nextn_predict_layers");
  if (!r.find("n_routed_experts")) return;  // dense in every layer
  read_experts(r, "n_routed_experts", c);
  c.moe_intermediate_size = r.required_dim("moe_intermediate_size");
  c.shared_expert_intermediate_size = count_or_zero(r, "n_shared_experts") * c.moe_intermediate_size;
  const std::int64_t first = count_or_zero(r, "first_k_dense_replace");
  const std::int64_t freq = r.optional_dim("moe_layer_freq").value_or(1);
  c.moe_layers = count_layers(c.num_layers, [&](std::int64_t i) { return i >= first && i % freq == 0; });
  c.router_bias = r.text("topk_method") == "noaux_tc";
}

// Gemma 2 (Gemma2DecoderLayer): even layers slide over sliding_window, odd ones are global; Gemma 3
// (Gemma3DecoderLayer): five local layers to one global one (sliding_window_pattern 6), unless layer_types says.
// Both: GeGLU, pre- and post-norms around attention and the MLP, embeddings scaled by sqrt(d), tied lm_head.
void read_gemma(const Reader& r, bool gemma3, ModelConfig& c) {
  if (!read_layer_types(r, c, "sliding_attention", false)) {
    const std::int64_t pattern = gemma3 ? r.optional_dim("sliding_window_pattern").value_or(6) : 2;
    c.local_layers = count_layers(c.num_layers, [&](std::int64_t i) {
      return gemma3 ? (i + 1) % pattern != 0 : i % 2 == 0;
    });
  }
  require_window(r, "sliding_window", c);
  c.post_norms = c.embed_scale = true;
  c.qk_norm = gemma3;
  c.attn_softcap = r.find("attn_logit_softcapping") != nullptr;
  c.final_softcap = r.find("final_logit_softcapping") != nullptr;
}

// GPT-OSS (GptOssDecoderLayer): every layer MoE with biased experts and router, clamped SwiGLU, biased attention
// with a learned sink per head, sliding and full layers alternating per layer_types.
void read_gpt_oss(const Reader& r, ModelConfig& c) {
  read_experts(r, "num_local_experts", c);
  c.moe_intermediate_size = c.intermediate_size;
  c.moe_layers = c.num_layers;
  c.mlp_bias = c.router_bias = true;
  c.qkv_bias = c.o_bias = r.flag("attention_bias", true);
  c.attention_sinks = true;
  c.activation = Activation::swiglu_clamped;
  if (!read_layer_types(r, c, "sliding_attention", false))
    c.local_layers = count_layers(c.num_layers, [](std::int64_t i) { return i % 2 == 0; });
  require_window(r, "sliding_window", c);
}

// Llama 4 text (Llama4TextDecoderLayer): no_rope_layers[i] = 1 where layer i uses RoPE (default: all but every
// fourth); RoPE layers attend within chunks of attention_chunk_size and L2-norm q and k; NoPE layers are global.
// Layer i is MoE when listed in moe_layers (default: every interleave_moe_layer_step-th); a MoE layer has
// num_local_experts experts of intermediate_size, top-k sigmoid routing, and a shared expert of that size; dense
// layers have intermediate_size_mlp.
void read_llama4(const Reader& r, ModelConfig& c) {
  const std::int64_t L = c.num_layers;
  std::vector<bool> rope(static_cast<std::size_t>(L));
  const json* flags = r.find("no_rope_layers");
  if (flags && !flags->is_array()) r.fail("no_rope_layers", fmt::format("must be a list, got {}", flags->dump()));
  if (flags && !flags->empty()) {
    if (std::int64_t(flags->size()) != L)
      r.fail("no_rope_layers", fmt::format("must have one 0/1 entry per layer ({}), got {}", L, flags->size()));
    for (std::size_t i = 0; i < rope.size(); ++i) {
      const json& f = (*flags)[i];
      if (!f.is_number_integer() || (f.get<int>() != 0 && f.get<int>() != 1))
        r.fail("no_rope_layers", fmt::format("entries must be 0 or 1, got {}", f.dump()));
      rope[i] = f.get<int>() == 1;
    }
  } else {
    const std::int64_t interval = r.optional_dim("no_rope_layer_interval").value_or(4);
    for (std::int64_t i = 0; i < L; ++i) rope[std::size_t(i)] = (i + 1) % interval != 0;
  }
  c.nope_layers = count_layers(L, [&](std::int64_t i) { return !rope[std::size_t(i)]; });
  c.sliding_window = r.optional_dim("attention_chunk_size");
  c.chunked_local = c.sliding_window.has_value();
  c.local_layers = c.chunked_local ? L - c.nope_layers : 0;
  c.qk_norm = r.flag("use_qk_norm", true);
  c.qk_norm_weights = false;

  read_experts(r, "num_local_experts", c);
  c.moe_intermediate_size = c.intermediate_size;
  c.shared_expert_intermediate_size = c.intermediate_size;
  c.intermediate_size = r.optional_dim("intermediate_size_mlp").value_or(c.intermediate_size);
  if (r.find("moe_layers")) {
    const std::vector<bool> moe = layer_list(r, "moe_layers", L);
    c.moe_layers = count_layers(L, [&](std::int64_t i) { return moe[std::size_t(i)]; });
  } else {
    const std::int64_t step = r.optional_dim("interleave_moe_layer_step").value_or(1);
    c.moe_layers = count_layers(L, [&](std::int64_t i) { return (i + 1) % step == 0; });
  }
}

// Qwen3-Next (Qwen3NextDecoderLayer): Gated DeltaNet layers with one gated full-attention layer in every
// full_attention_interval (or per layer_types); the attention's q_proj also yields a sigmoid output gate; q/k
// norms; MoE with a gated shared expert.
void read_qwen3_next(const Reader& r, ModelConfig& c) {
  LinearAttention a;
  a.key_heads = r.required_dim("linear_num_key_heads");
  a.value_heads = r.required_dim("linear_num_value_heads");
  a.key_dim = r.required_dim("linear_key_head_dim");
  a.value_dim = r.required_dim("linear_value_head_dim");
  a.conv_kernel = r.required_dim("linear_conv_kernel_dim");
  if (a.value_heads % a.key_heads != 0)
    r.fail("linear_num_value_heads", fmt::format("{} is not a multiple of linear_num_key_heads = {}", a.value_heads,
                                                 a.key_heads));
  c.linear = a;
  if (!read_layer_types(r, c, "", true)) {
    const std::int64_t interval = r.optional_dim("full_attention_interval").value_or(4);
    c.linear_layers = count_layers(c.num_layers, [&](std::int64_t i) { return (i + 1) % interval != 0; });
  }
  c.qk_norm = true;
  c.attention_output_gate = true;
  read_qwen_moe(r, true, c);
}

}  // namespace

std::string family_of(const json& config, const std::string& model_type) {
  if (model_type == "kimi_k2") return "deepseek_v3";  // DeepseekV3ForCausalLM under its own name
  if (model_type == "llama4") return "llama4_text";
  if (model_type == "gemma3") return "gemma3_text";
  if (find_family(model_type)) return model_type;
  // Llama-shaped under another name: transformers loads it with the Llama-family class it names.
  if (auto it = config.find("architectures"); it != config.end() && it->is_array() && it->size() == 1) {
    const json& a = (*it)[0];
    if (a == "LlamaForCausalLM") return "llama";
    if (a == "MistralForCausalLM") return "mistral";
    if (a == "Qwen2ForCausalLM") return "qwen2";
  }
  return {};
}

std::string supported_list() {
  std::vector<std::string_view> names;
  for (const Family& f : families()) names.push_back(f.name);
  return fmt::format("{}, gemma3, llama4, kimi_k2", fmt::join(names, ", "));
}

void fill_defaults(const std::string& family, json& j) {
  json d;
  if (family == "gemma2")  // Gemma2Config
    d = {{"tie_word_embeddings", true}, {"hidden_activation", "gelu_pytorch_tanh"}, {"sliding_window", 4096},
         {"attn_logit_softcapping", 50.0}, {"final_logit_softcapping", 30.0}, {"head_dim", 256}};
  else if (family == "gemma3_text")  // Gemma3TextConfig
    d = {{"vocab_size", 262208}, {"tie_word_embeddings", true}, {"hidden_activation", "gelu_pytorch_tanh"},
         {"sliding_window", 4096}, {"rope_theta", 1000000.0}, {"rms_norm_eps", 1e-6},
         {"max_position_embeddings", 131072}, {"head_dim", 256}};
  else if (family == "llama4_text")  // Llama4TextConfig
    d = {{"vocab_size", 202048}, {"tie_word_embeddings", false}, {"attention_chunk_size", 8192}};
  else if (family == "deepseek_v2" || family == "deepseek_v3")  // their configuration_deepseek.py
    d = {{"tie_word_embeddings", false}};
  for (auto it = d.begin(); it != d.end(); ++it)
    if (!j.contains(it.key())) j[it.key()] = it.value();
}

void read_family(const std::string& family, const Reader& r, ModelConfig& c) {
  c.activation = activation_of(r);
  const bool qwen2 = family == "qwen2" || family == "qwen2_moe", qwen3 = family == "qwen3" || family == "qwen3_moe";
  if (family == "llama") {
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
    c.mlp_bias = r.flag("mlp_bias", false);
  }
  if (qwen2) c.qkv_bias = true;  // Qwen2Attention hard-codes bias=True on q, k, v (not o)
  if (qwen3) {
    c.qk_norm = true;  // Qwen3Attention: q_norm and k_norm over head_dim
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
  }
  if (qwen2 || qwen3 || family == "qwen3_next") {
    if (r.flag("use_sliding_window", false))
      r.fail("use_sliding_window", "true is not modelled (Qwen's per-layer window via max_window_layers)");
  }
  // Mistral, Mixtral and Phi-3 apply sliding_window in every layer (Phi-3's 4k models: 2047).
  if (family == "mistral" || family == "mixtral" || family == "phi3") {
    c.sliding_window = r.optional_dim("sliding_window");
    c.local_layers = c.sliding_window ? c.num_layers : 0;
  }
  if (family == "mixtral") {  // every layer's MLP is MoE, each expert a SwiGLU of intermediate_size
    read_experts(r, "num_local_experts", c);
    c.moe_intermediate_size = c.intermediate_size;
    c.moe_layers = c.num_layers;
  }
  if (family == "qwen2_moe" || family == "qwen3_moe") read_qwen_moe(r, family == "qwen2_moe", c);
  if (family == "deepseek_v2" || family == "deepseek_v3") read_deepseek(r, c);
  if (family == "gemma2" || family == "gemma3_text") read_gemma(r, family == "gemma3_text", c);
  if (family == "gpt_oss") read_gpt_oss(r, c);
  if (family == "llama4_text") read_llama4(r, c);
  if (family == "qwen3_next") read_qwen3_next(r, c);
}

void refuse_foreign_fields(const std::string& family, const Reader& r) {
  const Family* f = find_family(family);
  for (std::string_view key : kComputeFields) {
    if (std::find(f->reads.begin(), f->reads.end(), key) != f->reads.end()) continue;
    const json* v = r.find(std::string(key).c_str());
    if (!v || v->is_boolean() || (v->is_number() && v->get<double>() == 0) || (v->is_array() && v->empty())) continue;
    r.fail(std::string(key), fmt::format("{} changes the computation and is not read for model_type {}", v->dump(),
                                         family));
  }
}

}  // namespace opmodel::family
