#include "opmodel/model_config.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "common/text_file.hpp"
#include "opmodel/error.hpp"
#include "opmodel/model_families.hpp"

namespace opmodel {

using nlohmann::json;
using family::Reader;

namespace {

// Multimodal wrappers (gemma3, llama4) keep the language model under text_config; their quantization_config stays
// at the top.
json text_model(const json& j) {
  auto t = j.find("text_config");
  if (t == j.end() || !t->is_object() || j.contains("hidden_size")) return j;
  json text = *t;
  if (j.contains("quantization_config") && !text.contains("quantization_config"))
    text["quantization_config"] = j["quantization_config"];
  if (j.contains("torch_dtype") && !text.contains("torch_dtype")) text["torch_dtype"] = j["torch_dtype"];
  return text;
}

// The fields every family shares: sizes, heads, vocabulary, norms, RoPE.
void read_shared(const Reader& r, ModelConfig& c) {
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
  // RoPE rotates the first partial_rotary_factor of each head (Phi-3 small, Qwen3-Next: 0.25), in pairs.
  const double rotary = r.positive("partial_rotary_factor", 1.0);
  if (rotary > 1) r.fail("partial_rotary_factor", fmt::format("must be in (0, 1], got {}", rotary));
  c.rotary_dim = std::int64_t(std::llround(double(c.head_dim) * rotary));
  if (c.rotary_dim % 2 != 0 || c.rotary_dim < 2 || std::abs(double(c.rotary_dim) - double(c.head_dim) * rotary) > 1e-9)
    r.fail("partial_rotary_factor", fmt::format("{} x head_dim {} is not an even number of dimensions", rotary,
                                                c.head_dim));
  c.tie_word_embeddings = r.flag("tie_word_embeddings", false);
  c.rms_norm_eps = r.positive("rms_norm_eps", 1e-6);
  c.rope_theta = r.positive("rope_theta", 10000.0);
  c.max_position_embeddings = r.optional_dim("max_position_embeddings").value_or(0);
  c.torch_dtype = r.text("torch_dtype");
}

}  // namespace

ModelConfig parse_model_config(const json& top, const std::string& name, const std::string& origin) {
  if (!top.is_object()) throw ModelError(origin, "", fmt::format("must be a JSON object, got {}", top.type_name()));
  json j = text_model(top);
  const Reader top_reader{top, origin};
  ModelConfig c;
  c.name = name;
  c.model_type = top_reader.text("model_type");
  if (c.model_type.empty()) top_reader.fail("model_type", "is required");
  const std::string fam = family::family_of(top, c.model_type);
  if (fam.empty())
    top_reader.fail("model_type", fmt::format("'{}' is not supported (supported: {})", c.model_type,
                                              family::supported_list()));
  family::fill_defaults(fam, j);
  // Fields read from text_config are named there.
  const std::string text_origin = j.contains("hidden_size") && !top.contains("hidden_size") ? origin + " text_config"
                                                                                            : origin;
  const Reader r{j, text_origin};
  read_shared(r, c);
  family::refuse_foreign_fields(fam, r);
  family::read_family(fam, r, c);
  c.stored = family::read_quantization(r);
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

const EmbeddedFile* embedded_preset(std::string_view name) {
  for (const auto& f : embedded_files())
    if (f.name == name) return &f;
  return nullptr;
}

// Each preset is parsed on first use only (a command reads one or two of them; parsing every one cost the whole
// process about half a millisecond), then kept.
const ModelConfig& parsed_preset(const EmbeddedFile& f) {
  static std::mutex lock;
  static std::map<std::string, ModelConfig, std::less<>> parsed;
  const std::lock_guard<std::mutex> guard(lock);
  if (auto it = parsed.find(f.name); it != parsed.end()) return it->second;
  const std::string name(f.name), origin = "preset " + name;
  json j;
  try {
    j = json::parse(f.text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number overflow
    throw ModelError(origin, "", fmt::format("malformed JSON: {}", e.what()));
  }
  return parsed.emplace(name, parse_model_config(j, name, origin)).first->second;
}

}  // namespace

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const auto& f : embedded_files()) names.emplace_back(f.name);
  std::sort(names.begin(), names.end());
  return names;
}

ModelConfig resolve_model(const std::string& name_or_path) {
  if (const EmbeddedFile* f = embedded_preset(name_or_path)) return parsed_preset(*f);
  if (std::filesystem::exists(name_or_path)) return load_model_config_file(name_or_path);
  throw ModelError(name_or_path, "", fmt::format("no such model preset and no such file (presets: {})",
                                                fmt::join(model_preset_names(), ", ")));
}

// DeepSeek-V3's MTP module (its layer 61 and on): per depth, enorm and hnorm, eh_proj [d, 2d] joining the next
// token's embedding with the main model's last hidden state, then one decoder layer like the model's last (MoE when
// the model's MoE layers reach it), its own final norm, and the model's embedding and lm_head (shared).
ModelConfig mtp_draft(const ModelConfig& m) {
  if (m.mtp_layers == 0)
    throw ModelError("model " + m.name, "num_nextn_predict_layers", "is absent or 0: the model has no MTP module");
  ModelConfig d = m;
  d.name = m.name + " MTP";
  d.num_layers = m.mtp_layers;
  d.moe_layers = m.moe_layers > 0 ? m.mtp_layers : 0;  // MoE layers run from first_k_dense_replace to the end
  d.local_layers = d.linear_layers = d.nope_layers = 0;
  d.mtp_layers = 0;
  d.mtp_module = true;
  return d;
}

}  // namespace opmodel
