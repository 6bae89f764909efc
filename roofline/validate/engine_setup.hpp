// Setting up the reference engine from the command line's names: the model's config.json text (a preset
// of opmodel's or a file), an optional layer-count override, and weights from a checkpoint or seeded random.
// Shared by `roofline run` and `roofline validate`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "engine/weights.hpp"

namespace roofline {

struct EngineModelSource {
  std::string model;                  // preset name or path to a config.json
  std::optional<std::int64_t> layers; // override num_hidden_layers (fit full-size layers in memory)
};

// The config.json text after the override, and where it came from ("preset NAME" or the path).
struct ConfigText {
  std::string text, origin;
};
ConfigText engine_config_text(const EngineModelSource& src);
// Sets a config.json's layer count (--layers), keeping its per-layer lists consistent: the first `layers` entries
// of layer_types and no_rope_layers, the mlp_only_layers and moe_layers below it (text_config's, for wrappers).
void set_layer_count(nlohmann::json& config, std::int64_t layers);
engine::Config engine_config(const EngineModelSource& src);

// Weights from `checkpoint` (a file, directory or index) or, when empty, seeded random.
engine::Weights engine_weights(const engine::Config& c, const std::string& checkpoint, std::uint64_t seed,
                               const engine::WeightOptions& o);

}  // namespace roofline
