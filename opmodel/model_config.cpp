#include "opmodel/model_config.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "common/text_file.hpp"
#include "opmodel/error.hpp"

namespace opmodel {
namespace {

using nlohmann::json;

using Reader = common::JsonFields<ModelError>;

void read_experts(const Reader& r, const char* experts_field, ModelConfig& c) {
  c.num_experts = r.required_dim(experts_field);
  c.experts_per_token = r.required_dim("num_experts_per_tok");
  if (c.experts_per_token > c.num_experts)
    r.fail("num_experts_per_tok", fmt::format("{} exceeds {} = {}", c.experts_per_token, experts_field, c.num_experts));
}

// Qwen2-MoE and Qwen3-MoE (transformers' Qwen{2,3}MoeDecoderLayer): layer i has a MoE MLP when it is not in
// mlp_only_layers and (i + 1) % decoder_sparse_step == 0, else a dense one of intermediate_size. Qwen2-MoE adds
// a shared expert of shared_expert_intermediate_size behind a sigmoid gate.
void read_qwen_moe(const Reader& r, bool shared, ModelConfig& c) {
  read_experts(r, "num_experts", c);
  c.moe_intermediate_size = r.required_dim("moe_intermediate_size");
  const std::int64_t step = r.optional_dim("decoder_sparse_step").value_or(1);
  std::vector<bool> dense(std::size_t(c.num_layers), false);
  if (const json* only = r.find("mlp_only_layers")) {
    if (!only->is_array()) r.fail("mlp_only_layers", fmt::format("must be a list of layer indices, got {}", only->dump()));
    for (const json& i : *only) {
      if (!i.is_number_integer() || i.get<std::int64_t>() < 0 || i.get<std::int64_t>() >= c.num_layers)
        r.fail("mlp_only_layers", fmt::format("{} is not a layer index in [0, {})", i.dump(), c.num_layers));
      dense[std::size_t(i.get<std::int64_t>())] = true;
    }
  }
  for (std::int64_t i = 0; i < c.num_layers; ++i) c.moe_layers += !dense[std::size_t(i)] && (i + 1) % step == 0;
  if (shared) {
    c.shared_expert_intermediate_size = r.optional_dim("shared_expert_intermediate_size").value_or(0);
    c.shared_expert_gate = c.shared_expert_intermediate_size > 0;
  }
}

}  // namespace

ModelConfig parse_model_config(const json& j, const std::string& name, const std::string& origin) {
  if (!j.is_object()) throw ModelError(origin, "", fmt::format("must be a JSON object, got {}", j.type_name()));
  Reader r{j, origin};
  ModelConfig c;
  c.name = name;
  c.model_type = r.text("model_type");
  if (c.model_type.empty()) r.fail("model_type", "is required");
  const bool llama = c.model_type == "llama", mistral = c.model_type == "mistral",
             qwen2 = c.model_type == "qwen2", qwen3 = c.model_type == "qwen3",
             mixtral = c.model_type == "mixtral", qwen2_moe = c.model_type == "qwen2_moe",
             qwen3_moe = c.model_type == "qwen3_moe", phi3 = c.model_type == "phi3";
  if (!(llama || mistral || qwen2 || qwen3 || mixtral || qwen2_moe || qwen3_moe || phi3))
    r.fail("model_type", fmt::format("'{}' is not supported (supported: llama, mistral, qwen2, qwen3, mixtral, "
                                     "qwen2_moe, qwen3_moe, phi3)",
                                     c.model_type));

  c.hidden_size = r.required_dim("hidden_size");
  c.num_layers = r.required_dim("num_hidden_layers");
  c.num_heads = r.required_dim("num_attention_heads");
  c.num_kv_heads = r.optional_dim("num_key_value_heads").value_or(c.num_heads);
  c.intermediate_size = r.required_dim("intermediate_size");
  c.vocab_size = r.required_dim("vocab_size");
  if (c.num_heads % c.num_kv_heads != 0)
    r.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads = {}",
                                              c.num_kv_heads, c.num_heads));
  if (auto hd = r.optional_dim("head_dim")) {
    c.head_dim = *hd;
  } else {
    if (c.hidden_size % c.num_heads != 0)
      r.fail("head_dim", fmt::format("absent, and hidden_size {} is not a multiple of num_attention_heads {}",
                                     c.hidden_size, c.num_heads));
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim % 2 != 0) r.fail("head_dim", fmt::format("must be even for rotary embeddings, got {}", c.head_dim));

  if (std::string act = r.text("hidden_act"); !act.empty() && act != "silu")
    r.fail("hidden_act", fmt::format("'{}' is not supported (the SwiGLU MLP needs \"silu\")", act));

  c.tie_word_embeddings = r.flag("tie_word_embeddings", false);
  c.rms_norm_eps = r.positive("rms_norm_eps", 1e-6);
  c.rope_theta = r.positive("rope_theta", 10000.0);
  c.max_position_embeddings = r.optional_dim("max_position_embeddings").value_or(0);
  c.torch_dtype = r.text("torch_dtype");

  if (llama) {
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
    c.mlp_bias = r.flag("mlp_bias", false);
  }
  if (qwen2 || qwen2_moe) c.qkv_bias = true;  // Qwen2Attention hard-codes bias=True on q, k, v (not o)
  if (qwen3 || qwen3_moe) {
    c.qk_norm = true;  // Qwen3Attention: q_norm and k_norm over head_dim
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
  }
  // Phi-3 is Llama-shaped: its checkpoints fuse qkv_proj and gate_up_proj (the same FLOPs and bytes as --fuse
  // qkv,swiglu would count), no biases, and transformers applies its sliding_window (2047 in the 4k models).
  if (mistral || mixtral || phi3) c.sliding_window = r.optional_dim("sliding_window");
  if (phi3) {
    if (const double f = r.positive("partial_rotary_factor", 1.0); f != 1.0)
      r.fail("partial_rotary_factor", fmt::format("{} is not modelled (RoPE over every head dimension is)", f));
  }
  if ((qwen2 || qwen3 || qwen2_moe || qwen3_moe) && r.flag("use_sliding_window", false))
    r.fail("use_sliding_window", "true is not modelled (Qwen's per-layer window via max_window_layers)");

  if (mixtral) {  // every layer's MLP is MoE, each expert a SwiGLU of intermediate_size
    read_experts(r, "num_local_experts", c);
    c.moe_intermediate_size = c.intermediate_size;
    c.moe_layers = c.num_layers;
  }
  if (qwen2_moe || qwen3_moe) read_qwen_moe(r, qwen2_moe, c);
  return c;
}

ModelConfig load_model_config_file(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw ModelError(path, "", common::unreadable_reason(path));
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number overflow
    throw ModelError(path, "", fmt::format("malformed JSON: {}", e.what()));
  }
  std::filesystem::path p(path);
  std::string name = p.stem().string();
  if (name == "config") name = p.parent_path().filename().string();  // .../Llama-2-7b-hf/config.json
  if (name.empty()) name = "config";
  return parse_model_config(j, name, path);
}

namespace {
const std::map<std::string, ModelConfig, std::less<>>& parsed_presets() {
  static const auto presets = [] {
    std::map<std::string, ModelConfig, std::less<>> m;
    for (const auto& f : embedded_files()) {
      std::string name(f.name), origin = "preset " + name;
      json j;
      try {
        j = json::parse(f.text);
      } catch (const json::exception& e) {  // parse_error, or out_of_range for a number overflow
        throw ModelError(origin, "", fmt::format("malformed JSON: {}", e.what()));
      }
      m.emplace(name, parse_model_config(j, name, origin));
    }
    return m;
  }();
  return presets;
}
}  // namespace

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const auto& [n, c] : parsed_presets()) names.push_back(n);
  return names;
}

ModelConfig resolve_model(const std::string& name_or_path) {
  const auto& m = parsed_presets();
  if (auto it = m.find(name_or_path); it != m.end()) return it->second;
  if (std::filesystem::exists(name_or_path)) return load_model_config_file(name_or_path);
  throw ModelError(name_or_path, "", fmt::format("no such model preset and no such file (presets: {})",
                                                fmt::join(model_preset_names(), ", ")));
}

}  // namespace opmodel
