// A profile built in layers, as ramulator2 builds a component: a preset or a profile file, then a patch file
// merged over it (an RFC 7386 JSON merge patch: its keys replace, null removes), then `key=value` settings,
// each applied to the profile's JSON (as to_json writes it) and the result parsed again, so a layered profile is
// checked like any file and no override can produce a profile a file could not hold. The layers applied are listed in Profile::overrides, which
// every output's context block names.
//
// A setting's key is a dotted path into the profile's JSON ("memory.bytes_per_s", "caches[0].size_bytes",
// "peak_flops_per_s.fp8"). A figure (an object with "value") takes the number as its value, its source
// becomes the command line and its note and measured spread are dropped (they described the old figure).
// A number replaces a number, "null" removes the field, true/false set a flag, other text sets a string.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hardware/error.hpp"
#include "hardware/profile.hpp"

namespace hardware {

// A setting that does not apply (malformed, a path the profile lacks, a figure given text, or a value the
// profile's rules refuse): a bad command line, unlike a bad file.
class OverrideError : public ProfileError {
 public:
  using ProfileError::ProfileError;
};

struct ProfileLayers {
  std::string base;                       // preset name or profile file
  std::optional<std::string> patch_file;  // a JSON merge patch
  std::vector<std::string> settings;      // "memory.bytes_per_s=3.0e12", applied in order
  bool force = false;                     // accept figures outside physical plausibility (check_plausible)
};

// Throws ProfileError (the base or the patch file at fault, or a figure outside plausibility without force) or
// OverrideError (a setting at fault).
Profile build_profile(const ProfileLayers& layers);

}  // namespace hardware
