// A hardware profile: the JSON of a file, then (after the first line "---") KEY=VALUE settings layered over
// the h100-sxm preset, one per line, as --hw-set takes them.
#include <sstream>

#include <nlohmann/json.hpp>
#include <vector>

#include "fuzz_support.hpp"
#include "hardware/layers.hpp"
#include "hardware/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  const auto split = text.find("\n---\n");
  const std::string profile = text.substr(0, split);
  fuzz::expect_clean([&] {
    const hardware::Profile p = hardware::parse_profile_text(profile, "fuzz.json");
    hardware::check_plausible(p);
    hardware::parse_profile(hardware::to_json(p), "round trip");  // what is written reads back
  });
  if (split == std::string::npos) return 0;
  hardware::ProfileLayers layers{"h100-sxm", std::nullopt, {}, false};
  std::istringstream lines(text.substr(split + 5));
  for (std::string line; std::getline(lines, line);) layers.settings.push_back(line);
  fuzz::expect_clean([&] { hardware::build_profile(layers); });
  return 0;
}
