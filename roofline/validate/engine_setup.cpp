#include "roofline/validate/engine_setup.hpp"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "opmodel/model_config.hpp"
#include "common/text_file.hpp"

namespace roofline {

void set_layer_count(nlohmann::json& config, std::int64_t layers) {
  // Multimodal wrappers keep the language model under text_config.
  const bool wrapped = config.contains("text_config") && !config.contains("hidden_size") &&
                       config["text_config"].is_object();
  nlohmann::json& t = wrapped ? config["text_config"] : config;
  t["num_hidden_layers"] = layers;
  const auto n = std::size_t(layers);
  for (const char* key : {"layer_types", "no_rope_layers"})  // one entry per layer: the first n
    if (auto it = t.find(key); it != t.end() && it->is_array() && it->size() > n)
      it->erase(it->begin() + long(n), it->end());
  for (const char* key : {"mlp_only_layers", "moe_layers"}) {  // layer indices: those below n
    auto it = t.find(key);
    if (it == t.end() || !it->is_array()) continue;
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& i : *it)
      if (!i.is_number_integer() || i.get<std::int64_t>() < layers) kept.push_back(i);
    *it = kept;
  }
}

ConfigText engine_config_text(const EngineModelSource& src) {
  ConfigText c;
  for (const auto& f : opmodel::embedded_files())
    if (f.name == src.model) {
      c.text = std::string(f.text);
      c.origin = "preset " + src.model;
    }
  if (c.origin.empty()) {
    auto text = common::read_text_file(src.model);
    if (!text)
      throw engine::EngineError(src.model, "", fmt::format("no such model preset and no such file (presets: {})",
                                                           fmt::join(opmodel::model_preset_names(), ", ")));
    c.text = std::move(*text);
    c.origin = src.model;
  }
  if (src.layers) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(c.text);
    } catch (const nlohmann::json::exception& e) {
      throw engine::EngineError(c.origin, "", fmt::format("malformed JSON: {}", e.what()));
    }
    if (!j.is_object()) throw engine::EngineError(c.origin, "", "must be a JSON object");
    set_layer_count(j, *src.layers);
    c.text = j.dump(2);
  }
  return c;
}

engine::Config engine_config(const EngineModelSource& src) {
  const ConfigText t = engine_config_text(src);
  return engine::parse_config(t.text, t.origin);
}

engine::Weights engine_weights(const engine::Config& c, const std::string& checkpoint, std::uint64_t seed,
                               const engine::WeightOptions& o) {
  // Refuse what cannot fit rather than be killed part way through filling it.
  const double need = engine::weight_bytes(c, o);
  const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (have > 0 && need > 0.9 * have)
    throw engine::EngineError(
        c.model_type + " model", "",
        fmt::format("its {} layers' weights take {:.1f} GB as {}, more than 90% of this machine's {:.1f} GB of "
                    "memory: give --layers N (fewer layers of the same shape) or --weight-format bf16 or int8",
                    c.n_layers, need / 1e9, engine::to_string(o.format), have / 1e9));
  if (checkpoint.empty()) return engine::random_weights(c, seed, o);
  return engine::load_weights(c, checkpoint, o);
}

}  // namespace roofline
