#include "hardware/layers.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/strict_number.hpp"
#include "common/text_file.hpp"
#include "hardware/presets.hpp"
#include "hardware/profile.hpp"

namespace hardware {
namespace {

using nlohmann::json;

constexpr const char* kOption = "option --hw-set";

json read_patch(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw ProfileError(path, "", "cannot read the patch file");
  json patch;
  try {
    patch = json::parse(*text);
  } catch (const json::exception& e) {
    throw ProfileError(path, "", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!patch.is_object()) throw ProfileError(path, "", "a patch must be a JSON object (RFC 7386 merge patch)");
  return patch;
}

// "caches[0].size_bytes" -> {"caches", "0", "size_bytes"}.
std::vector<std::string> path_of(const std::string& key, const std::string& setting) {
  std::vector<std::string> parts;
  std::string part;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    const char c = i < key.size() ? key[i] : '.';  // the end closes the last name
    if (c == '.' || c == '[') {
      if (!part.empty()) parts.push_back(part);
      else if (i == 0 || key[i - 1] != ']')
        throw OverrideError(kOption, key, fmt::format("'{}': an empty name in the key", setting));
      part.clear();
    } else if (c == ']') {
      if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || i == 0 ||
          key.rfind('[', i) == std::string::npos)
        throw OverrideError(kOption, key, fmt::format("'{}': an index must be a number in brackets", setting));
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  return parts;
}

json value_of(const std::string& text) {
  if (text == "null") return nullptr;
  if (text == "true" || text == "false") return text == "true";
  if (const auto n = common::parse_real(text); n.ok()) return n.value;
  return text;
}

void apply_setting(json& j, const std::string& setting) {
  const auto eq = setting.find('=');
  if (eq == std::string::npos || eq == 0)
    throw OverrideError(kOption, "", fmt::format("'{}': expected KEY=VALUE (memory.bytes_per_s=3.0e12)", setting));
  const std::string key = setting.substr(0, eq), text = setting.substr(eq + 1);
  const auto parts = path_of(key, setting);
  json* at = &j;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& p = parts[i];
    json* next = nullptr;
    const auto index = common::parse_int64(p);  // an index past any array is simply not there
    if (at->is_array() && index.ok() && index.value >= 0 && std::uint64_t(index.value) < at->size())
      next = &(*at)[std::size_t(index.value)];
    else if (at->is_object() && at->contains(p) && !(*at)[p].is_null())
      next = &(*at)[p];
    if (!next)
      throw OverrideError(kOption, key, fmt::format("'{}': the profile has no '{}' here", setting, p));
    at = next;
  }
  if (!at->is_object())
    throw OverrideError(kOption, key, fmt::format("'{}': '{}' is not an object of the profile", setting, parts.back()));
  json& slot = (*at)[parts.back()];
  const json value = value_of(text);
  if (slot.is_object() && slot.contains("value")) {  // a cited figure: the value and its source change
    if (!value.is_number())
      throw OverrideError(kOption, key, fmt::format("'{}': a figure takes a number, got '{}'", setting, text));
    slot = json{{"value", value}, {"source", fmt::format("command line: --hw-set {}", setting)}};
  } else if (value.is_null()) {
    at->erase(parts.back());
  } else {
    slot = value;
  }
}

}  // namespace

Profile build_profile(const ProfileLayers& layers) {
  // The layers below the settings: the base (read once, checked as --hw alone checks it), then the patch,
  // applied to the base's JSON as to_json writes it. A figure at fault there is the file's.
  Profile below = resolve_profile(layers.base);
  const std::string origin = below.origin;
  std::vector<std::string> applied;
  if (layers.patch_file) {
    json j = to_json(below);
    j.merge_patch(read_patch(*layers.patch_file));
    below = parse_profile(j, fmt::format("{} patched by {}", origin, *layers.patch_file));
    below.origin = origin;
    applied.push_back("patch " + *layers.patch_file);
  }
  if (!layers.force) check_plausible(below);
  if (layers.settings.empty()) {
    below.overrides = applied;
    return below;
  }
  json j = to_json(below);
  for (const auto& s : layers.settings) {
    apply_setting(j, s);
    applied.push_back(s);
  }
  Profile p;
  try {  // the layers below held: whatever breaks now, the settings brought in
    p = parse_profile(j, fmt::format("{} with --hw-set", origin));
    if (!layers.force) check_plausible(p);
  } catch (const ProfileError& e) {
    throw OverrideError(kOption, e.field(),
                        fmt::format("'{}': field '{}': {}", fmt::join(layers.settings, " "), e.field(), e.problem()));
  }
  p.origin = origin;
  p.overrides = applied;
  return p;
}

}  // namespace hardware
