#include "hardware/presets.hpp"

#include <filesystem>
#include <map>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hardware/error.hpp"

namespace hardware {
namespace {

// Parsed once, on first use; a broken preset is a build defect, reported like any profile error.
const std::map<std::string, Profile, std::less<>>& parsed_presets() {
  static const auto presets = [] {
    std::map<std::string, Profile, std::less<>> m;
    for (const auto& f : embedded_files()) {
      std::string name(f.name);
      Profile p = parse_profile_text(std::string(f.text), "preset " + name);
      if (p.name != name)
        throw ProfileError("preset " + name, "name", "must equal the file name '" + name + "'");
      m.emplace(name, std::move(p));
    }
    return m;
  }();
  return presets;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& [name, p] : parsed_presets()) names.push_back(name);
  return names;
}

const Profile& preset(std::string_view name) {
  const auto& m = parsed_presets();
  if (auto it = m.find(name); it != m.end()) return it->second;
  throw ProfileError(std::string(name), "", fmt::format("no such preset and no such file (presets: {})",
                                                       fmt::join(preset_names(), ", ")));
}

Profile resolve_profile(const std::string& name_or_path) {
  const auto& m = parsed_presets();
  if (auto it = m.find(name_or_path); it != m.end()) return it->second;
  if (std::filesystem::exists(name_or_path)) return load_profile_file(name_or_path);
  return preset(name_or_path);  // throws, listing the presets
}

}  // namespace hardware
