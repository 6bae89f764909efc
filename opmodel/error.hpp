// The one error type of opmodel/: names the origin (file, preset or option) and the field at fault.
#pragma once

#include <string>

#include "common/input_error.hpp"

namespace opmodel {

class ModelError : public common::InputError {
 public:
  // origin: "config.json path", "preset NAME" or "scenario"; field: the JSON key or option name.
  ModelError(std::string origin, std::string field, const std::string& problem)
      : InputError(origin, field, problem, compose(origin, field, problem)) {}
};

}  // namespace opmodel
