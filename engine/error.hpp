// The one error type of engine/: names the origin (a file, "config", "sampler", ...) and the field at fault.
#pragma once

#include <string>

#include "common/input_error.hpp"

namespace engine {

class EngineError : public common::InputError {
 public:
  EngineError(std::string origin, std::string field, const std::string& problem)
      : InputError(origin, field, problem, compose(origin, field, problem)) {}
};

}  // namespace engine
