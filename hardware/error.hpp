// The one error type of hardware/: names the profile (file or preset) and the field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace hardware {

class ProfileError : public std::runtime_error {
 public:
  // origin: file path or "preset NAME"; field: dotted JSON path, or empty when the whole profile is at fault.
  ProfileError(std::string origin, std::string field, const std::string& problem)
      : std::runtime_error(compose(origin, field, problem)),
        origin_(std::move(origin)),
        field_(std::move(field)) {}

  const std::string& origin() const { return origin_; }
  const std::string& field() const { return field_; }

 private:
  static std::string compose(const std::string& origin, const std::string& field,
                             const std::string& problem) {
    std::string s = "hardware profile " + origin;
    if (!field.empty()) s += ": field '" + field + "'";
    return s + ": " + problem;
  }
  std::string origin_;
  std::string field_;
};

}  // namespace hardware
