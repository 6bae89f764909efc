#include "hardware/presets.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hardware/error.hpp"

namespace hardware {
namespace {

// Each preset is parsed on first use, alone: a command names one or two, and parsing all 25 took about 1 ms of
// a 4 ms `roofline analyze` (bench_analyzer, side by side with the parse-all build). A broken preset is a build
// defect, reported like any profile error (a test parses every one). The mutex keeps concurrent first uses apart.
const Profile* parsed_preset(std::string_view name) {
  static std::mutex mutex;
  static std::map<std::string, Profile, std::less<>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return &it->second;
  for (const auto& f : embedded_files()) {
    if (f.name != name) continue;
    const std::string key(name);
    Profile p = parse_profile_text(std::string(f.text), "preset " + key);
    if (p.name != key) throw ProfileError("preset " + key, "name", "must equal the file name '" + key + "'");
    return &cache.emplace(key, std::move(p)).first->second;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& f : embedded_files()) names.emplace_back(f.name);
  std::sort(names.begin(), names.end());
  return names;
}

const Profile& preset(std::string_view name) {
  if (const Profile* p = parsed_preset(name)) return *p;
  throw ProfileError(std::string(name), "", fmt::format("no such preset and no such file (presets: {})",
                                                       fmt::join(preset_names(), ", ")));
}

Profile resolve_profile(const std::string& name_or_path) {
  if (const Profile* p = parsed_preset(name_or_path)) return *p;
  if (std::filesystem::exists(name_or_path)) return load_profile_file(name_or_path);
  return preset(name_or_path);  // throws, listing the presets
}

}  // namespace hardware
