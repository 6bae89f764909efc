// The hardware presets compiled into the binary (hardware/presets/*.json).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/profile.hpp"

namespace hardware {

struct EmbeddedFile {
  std::string_view name;  // file name without .json
  std::string_view text;
};
std::span<const EmbeddedFile> embedded_files();  // generated at build time

std::vector<std::string> preset_names();  // sorted
// The preset of that name; throws ProfileError listing the known names.
const Profile& preset(std::string_view name);
// A preset name, or else a path to a profile JSON file.
Profile resolve_profile(const std::string& name_or_path);

}  // namespace hardware
