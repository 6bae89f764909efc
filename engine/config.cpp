#include "engine/config.hpp"

#include <algorithm>
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
  if (type == "yarn") {
    RopeScaling s;
    s.type = RopeScaling::Type::yarn;
    s.factor = r.positive(*v, "factor", 1);
    s.original_max_position_embeddings =
        r.optional_dim(*v, "original_max_position_embeddings").value_or(r.optional_dim(r.j, "max_position_embeddings").value_or(0));
    if (s.original_max_position_embeddings == 0)
      r.fail("rope_scaling.original_max_position_embeddings", "is required for yarn (or max_position_embeddings)");
    s.beta_fast = r.positive(*v, "beta_fast", 32);
    s.beta_slow = r.positive(*v, "beta_slow", 1);
    s.mscale = r.non_negative(*v, "mscale", 0);
    s.mscale_all_dim = r.non_negative(*v, "mscale_all_dim", 0);
    if (const json* t = r.find(*v, "truncate")) {
      if (!t->is_boolean()) r.fail("rope_scaling.truncate", fmt::format("must be true or false, got {}", t->dump()));
      s.truncate = t->get<bool>();
    }
    if (r.find(*v, "attention_factor"))
      r.fail("rope_scaling.attention_factor", "is not supported (the factor follows from mscale and mscale_all_dim)");
    return s;
  }
  if (type != "llama3")
    r.fail("rope_scaling.rope_type", fmt::format("'{}' is not supported (supported: default, llama3, yarn)", type));
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

// DeepSeek-V2/V3 (DeepseekV2Config, DeepseekV3Config): MLA attention, and a DeepSeekMoE MLP on layers i >=
// first_k_dense_replace with i % moe_layer_freq == 0 (the others dense, of intermediate_size). V2 scores experts by
// softmax, V3 by sigmoid with e_score_correction_bias for the choice; topk_method group_limited_greedy (V2) rates
// a group by its best score, noaux_tc (V3) by its two best; V2 renormalizes (norm_topk_prob) or else scales by
// routed_scaling_factor, V3 renormalizes when asked and then scales.
void read_deepseek(const Reader& r, Config& c) {
  const json& j = r.j;
  MlaConfig a;
  a.q_lora_rank = r.optional_dim(j, "q_lora_rank").value_or(0);
  a.kv_lora_rank = r.required_dim("kv_lora_rank");
  a.qk_nope_head_dim = r.required_dim("qk_nope_head_dim");
  a.qk_rope_head_dim = r.required_dim("qk_rope_head_dim");
  a.v_head_dim = r.required_dim("v_head_dim");
  a.rope_interleave = c.model_type == "deepseek_v2" ? true : r.flag("rope_interleave", true);
  if (a.qk_rope_head_dim % 2 != 0)
    r.fail("qk_rope_head_dim", fmt::format("must be even for rotary embeddings, got {}", a.qk_rope_head_dim));
  if (r.flag("attention_bias", false)) r.fail("attention_bias", "true is not supported for MLA");
  c.mla = a;
  c.head_dim = a.qk_nope_head_dim + a.qk_rope_head_dim;
  c.n_kv_heads = c.n_heads;  // nominal: the cache holds the latent, not per-head K and V
  const auto experts = r.optional_dim(j, "n_routed_experts");
  if (!experts) return;
  MoeConfig m;
  m.experts = *experts;
  m.top_k = r.required_dim("num_experts_per_tok");
  m.hidden = r.required_dim("moe_intermediate_size");
  if (m.top_k > m.experts)
    r.fail("num_experts_per_tok", fmt::format("{} exceeds the {} experts (n_routed_experts)", m.top_k, m.experts));
  m.shared_hidden = r.count(j, "n_shared_experts", 0) * m.hidden;
  m.shared_gated = false;
  const bool v3 = c.model_type == "deepseek_v3";
  std::string scoring = r.text(j, "scoring_func");
  if (scoring.empty()) scoring = v3 ? "sigmoid" : "softmax";
  if (scoring != "softmax" && scoring != "sigmoid")
    r.fail("scoring_func", fmt::format("'{}' is not supported (softmax or sigmoid)", scoring));
  m.sigmoid = scoring == "sigmoid";
  std::string method = r.text(j, "topk_method");
  if (method.empty()) method = v3 ? "noaux_tc" : "greedy";
  if (method == "group_limited_greedy" || method == "noaux_tc") {
    m.groups = r.optional_dim(j, "n_group").value_or(1);
    m.top_groups = r.optional_dim(j, "topk_group").value_or(1);
    m.top2_sum = method == "noaux_tc";
    m.score_bias = method == "noaux_tc";
  } else if (method != "greedy") {
    r.fail("topk_method", fmt::format("'{}' is not supported (greedy, group_limited_greedy, noaux_tc)", method));
  }
  if (m.experts % m.groups != 0)
    r.fail("n_group", fmt::format("{} does not divide the {} experts (n_routed_experts)", m.groups, m.experts));
  if (m.top_groups > m.groups) r.fail("topk_group", fmt::format("{} exceeds n_group = {}", m.top_groups, m.groups));
  if (m.top2_sum && m.experts / m.groups < 2)
    r.fail("n_group", fmt::format("noaux_tc rates a group by its two best experts: {} groups of {} experts leave one",
                                  m.groups, m.experts));
  if (m.top_k > m.top_groups * (m.experts / m.groups))
    r.fail("num_experts_per_tok", fmt::format("{} exceeds the {} experts of the topk_group = {} groups chosen", m.top_k,
                                              m.top_groups * (m.experts / m.groups), m.top_groups));
  m.renormalize = r.flag("norm_topk_prob", v3);
  const double factor = r.positive("routed_scaling_factor", 1);
  m.scale = v3 || !m.renormalize ? factor : 1;
  const std::int64_t first_dense = r.count(j, "first_k_dense_replace", 0), freq = r.optional_dim(j, "moe_layer_freq").value_or(1);
  m.sparse.assign(std::size_t(c.n_layers), false);
  for (std::int64_t i = first_dense; i < c.n_layers; ++i) m.sparse[std::size_t(i)] = i % freq == 0;
  c.moe = m;
}

// Gemma 2 (Gemma2Config): layer i slides over sliding_window when layer_types says "sliding_attention", or by
// default when i is even; attn_logit_softcapping (50) and final_logit_softcapping (30) as given (null: none).
void read_gemma2(const Reader& r, Config& c) {
  const json& j = r.j;
  c.embed_scale = c.norm_plus_one = c.post_norms = c.gelu_tanh = true;
  c.tie_word_embeddings = r.flag("tie_word_embeddings", true);
  c.qkv_bias = c.o_bias = r.flag("attention_bias", false);
  if (r.find(j, "query_pre_attn_scalar")) c.query_pre_attn_scalar = r.positive(j, "query_pre_attn_scalar", 1);
  c.attn_softcap = r.positive(j, "attn_logit_softcapping", 0);
  c.final_softcap = r.positive(j, "final_logit_softcapping", 0);
  c.sliding_window = r.optional_dim(j, "sliding_window");
  c.local.assign(std::size_t(c.n_layers), false);
  if (const json* types = r.find(j, "layer_types")) {
    if (!types->is_array() || std::int64_t(types->size()) != c.n_layers)
      r.fail("layer_types", fmt::format("must list one type per layer ({}), got {}", c.n_layers, types->dump()));
    for (std::int64_t i = 0; i < c.n_layers; ++i) {
      const json& t = (*types)[std::size_t(i)];
      if (!t.is_string() || (t != "sliding_attention" && t != "full_attention"))
        r.fail("layer_types", fmt::format("{} is not sliding_attention or full_attention", t.dump()));
      c.local[std::size_t(i)] = t == "sliding_attention";
    }
  } else {
    for (std::int64_t i = 0; i < c.n_layers; ++i) c.local[std::size_t(i)] = i % 2 == 0;
  }
  if (!c.sliding_window && std::find(c.local.begin(), c.local.end(), true) != c.local.end())
    r.fail("sliding_window", "is required: the model has sliding layers");
}

}  // namespace

double Config::attention_scale() const {
  double scale = 1.0 / std::sqrt(query_pre_attn_scalar ? *query_pre_attn_scalar : double(head_dim));
  if (rope_scaling && rope_scaling->type == RopeScaling::Type::yarn && rope_scaling->mscale_all_dim > 0) {
    const double m = rope_scaling->yarn_mscale(rope_scaling->mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

std::vector<std::int64_t> Config::linear_input_widths() const {
  std::vector<std::int64_t> k = {dim, attn_out_dim()};  // q/k/v (or q_a, kv_a), gate/up, experts' gate/up; o_proj
  bool dense = !moe;
  for (std::int64_t l = 0; l < n_layers; ++l) dense = dense || !sparse(l);
  if (dense) k.push_back(hidden_dim);  // down_proj
  if (moe) k.push_back(moe->hidden);   // experts' down
  if (moe && moe->shared_hidden > 0) k.push_back(moe->shared_hidden);
  if (mla) {  // q_b_proj, kv_b_proj and o_absorb, q_absorb
    if (mla->q_lora_rank > 0) k.push_back(mla->q_lora_rank);
    k.push_back(mla->kv_lora_rank);
    k.push_back(mla->qk_nope_head_dim);
  }
  return k;
}

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
             qwen3_moe = c.model_type == "qwen3_moe", qwen2_moe = c.model_type == "qwen2_moe",
             deepseek = c.model_type == "deepseek_v2" || c.model_type == "deepseek_v3",
             gemma2 = c.model_type == "gemma2";
  if (!(llama || mistral || qwen2 || qwen3 || mixtral || qwen2_moe || qwen3_moe || deepseek || gemma2))
    r.fail("model_type", fmt::format("'{}' is not supported by the engine (supported: llama, mistral, qwen2, qwen3, "
                                     "mixtral, qwen2_moe, qwen3_moe, deepseek_v2, deepseek_v3, gemma2)",
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
  if (deepseek) {
    // MLA's widths come from its own fields (read_deepseek); DeepseekV3Config's head_dim is the rope width.
  } else if (auto hd = r.optional_dim(j, "head_dim")) {
    c.head_dim = *hd;
  } else {
    if (c.dim % c.n_heads != 0)
      r.fail("head_dim", fmt::format("absent, and hidden_size {} is not a multiple of num_attention_heads {}",
                                     c.dim, c.n_heads));
    c.head_dim = c.dim / c.n_heads;
  }
  if (!deepseek && c.head_dim % 2 != 0)
    r.fail("head_dim", fmt::format("must be even for rotary embeddings, got {}", c.head_dim));
  if (gemma2) {  // Gemma2Config's hidden_activation (hidden_act in older files): GeGLU's tanh approximation
    for (const char* key : {"hidden_activation", "hidden_act"})
      if (std::string act = r.text(j, key); !act.empty() && act != "gelu_pytorch_tanh")
        r.fail(key, fmt::format("'{}' is not supported (Gemma 2's GeGLU needs \"gelu_pytorch_tanh\")", act));
  } else if (std::string act = r.text(j, "hidden_act"); !act.empty() && act != "silu") {
    r.fail("hidden_act", fmt::format("'{}' is not supported (the SwiGLU MLP needs \"silu\")", act));
  }

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
  if (deepseek) read_deepseek(r, c);
  if (gemma2) read_gemma2(r, c);
  return c;
}

Config load_config_file(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw EngineError(path, "", common::unreadable_reason(path));
  return parse_config(*text, path);
}

}  // namespace engine
