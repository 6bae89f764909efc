// The one error type of hardware/: names the profile (file or preset) and the field at fault.
#pragma once

#include <string>

#include "common/input_error.hpp"

namespace hardware {

class ProfileError : public common::InputError {
 public:
  // origin: file path or "preset NAME"; field: dotted JSON path, or empty when the whole profile is at fault.
  ProfileError(std::string origin, std::string field, const std::string& problem)
      : InputError(origin, field, problem, "hardware profile " + compose(origin, field, problem)) {}
};

}  // namespace hardware
