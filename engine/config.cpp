#include "engine/config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "common/text_file.hpp"
#include "engine/error.hpp"

namespace engine {
namespace {

using nlohmann::json;

using Reader = common::JsonFields<EngineError>;

std::optional<RopeScaling> read_rope_scaling(const Reader& r) {
  const json* v = r.find(r.j, "rope_scaling");
  if (!v) return std::nullopt;
  if (!v->is_object()) r.fail("rope_scaling", fmt::format("must be an object or null, got {}", v->dump()));
  std::string type = r.text(*v, "rope_type");
  if (type.empty()) type = r.text(*v, "type");
  if (type == "default") return std::nullopt;
  if (type != "llama3")
    r.fail("rope_scaling.rope_type", fmt::format("'{}' is not supported (supported: default, llama3)", type));
  RopeScaling s;
  s.factor = r.positive(*v, "factor", 8);
  s.low_freq_factor = r.positive(*v, "low_freq_factor", 1);
  s.high_freq_factor = r.positive(*v, "high_freq_factor", 4);
  s.original_max_position_embeddings = r.optional_dim(*v, "original_max_position_embeddings").value_or(8192);
  if (!(s.high_freq_factor > s.low_freq_factor))
    r.fail("rope_scaling.high_freq_factor", "must exceed low_freq_factor");
  return s;
}

// Mixtral: every layer sparse, weights always renormalized. Qwen2/3-MoE: layer i sparse unless listed in
// mlp_only_layers or (i + 1) % decoder_sparse_step != 0; renormalized when norm_topk_prob.
MoeConfig read_moe(const Reader& r, const Config& c, const char* experts_key, std::int64_t hidden) {
  MoeConfig m;
  m.experts = r.required_dim(experts_key);
  m.top_k = r.required_dim("num_experts_per_tok");
  m.hidden = hidden;
  if (m.top_k > m.experts)
    r.fail("num_experts_per_tok", fmt::format("{} exceeds the {} experts ({})", m.top_k, m.experts, experts_key));
  m.sparse.assign(std::size_t(c.n_layers), true);
  if (c.model_type == "mixtral") return m;
  m.renormalize = r.flag("norm_topk_prob", false);
  const std::int64_t step = r.optional_dim(r.j, "decoder_sparse_step").value_or(1);
  for (std::int64_t i = 0; i < c.n_layers; ++i) m.sparse[std::size_t(i)] = (i + 1) % step == 0;
  if (const json* dense = r.find(r.j, "mlp_only_layers")) {
    if (!dense->is_array()) r.fail("mlp_only_layers", fmt::format("must be a list of layer indices, got {}", dense->dump()));
    for (const json& v : *dense) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= c.n_layers)
        r.fail("mlp_only_layers", fmt::format("{} is not a layer index in [0, {})", v.dump(), c.n_layers));
      m.sparse[std::size_t(v.get<std::int64_t>())] = false;
    }
  }
  return m;
}

}  // namespace

Config parse_config(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number overflow
    throw EngineError(origin, "", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!j.is_object()) throw EngineError(origin, "", fmt::format("must be a JSON object, got {}", j.type_name()));
  Reader r{j, origin};
  Config c;
  c.model_type = r.text(j, "model_type");
  if (c.model_type.empty()) r.fail("model_type", "is required");
  const bool llama = c.model_type == "llama", mistral = c.model_type == "mistral", qwen2 = c.model_type == "qwen2",
             qwen3 = c.model_type == "qwen3", mixtral = c.model_type == "mixtral",
             qwen3_moe = c.model_type == "qwen3_moe", qwen2_moe = c.model_type == "qwen2_moe";
  if (!(llama || mistral || qwen2 || qwen3 || mixtral || qwen2_moe || qwen3_moe))
    r.fail("model_type", fmt::format("'{}' is not supported by the engine (supported: llama, mistral, qwen2, qwen3, "
                                     "mixtral, qwen2_moe, qwen3_moe)",
                                     c.model_type));

  c.dim = r.required_dim("hidden_size");
  c.n_layers = r.required_dim("num_hidden_layers");
  c.n_heads = r.required_dim("num_attention_heads");
  c.n_kv_heads = r.optional_dim(j, "num_key_value_heads").value_or(c.n_heads);
  c.hidden_dim = r.required_dim("intermediate_size");
  c.vocab_size = r.required_dim("vocab_size");
  if (c.n_heads % c.n_kv_heads != 0)
    r.fail("num_key_value_heads",
           fmt::format("{} does not divide num_attention_heads = {}", c.n_kv_heads, c.n_heads));
  if (auto hd = r.optional_dim(j, "head_dim")) {
    c.head_dim = *hd;
  } else {
    if (c.dim % c.n_heads != 0)
      r.fail("head_dim", fmt::format("absent, and hidden_size {} is not a multiple of num_attention_heads {}",
                                     c.dim, c.n_heads));
    c.head_dim = c.dim / c.n_heads;
  }
  if (c.head_dim % 2 != 0) r.fail("head_dim", fmt::format("must be even for rotary embeddings, got {}", c.head_dim));
  if (std::string act = r.text(j, "hidden_act"); !act.empty() && act != "silu")
    r.fail("hidden_act", fmt::format("'{}' is not supported (the SwiGLU MLP needs \"silu\")", act));

  c.max_seq_len = r.optional_dim(j, "max_position_embeddings").value_or(0);
  c.rms_norm_eps = r.positive(j, "rms_norm_eps", 1e-6);
  c.rope_theta = r.positive(j, "rope_theta", 10000);
  c.rope_scaling = read_rope_scaling(r);
  c.tie_word_embeddings = r.flag("tie_word_embeddings", false);
  if (llama) {
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
    c.mlp_bias = r.flag("mlp_bias", false);
  }
  if (qwen2 || qwen2_moe) c.qkv_bias = true;  // Qwen2Attention: bias=True on q, k, v; none on o
  if (qwen3 || qwen3_moe) {
    c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
    c.qk_norm = true;
  }
  if (mistral || mixtral) c.sliding_window = r.optional_dim(j, "sliding_window");
  if ((qwen2 || qwen3 || qwen2_moe || qwen3_moe) && r.flag("use_sliding_window", false))
    r.fail("use_sliding_window", "true is not supported (the per-layer window via max_window_layers)");
  if (mixtral) c.moe = read_moe(r, c, "num_local_experts", c.hidden_dim);
  if (qwen2_moe || qwen3_moe) c.moe = read_moe(r, c, "num_experts", r.required_dim("moe_intermediate_size"));
  if (qwen2_moe) c.moe->shared_hidden = r.optional_dim(j, "shared_expert_intermediate_size").value_or(0);
  return c;
}

Config load_config_file(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw EngineError(path, "", common::unreadable_reason(path));
  return parse_config(*text, path);
}

}  // namespace engine
