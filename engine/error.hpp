// The one error type of engine/: names the origin (a file, "config", "sampler", ...) and the field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace engine {

class EngineError : public std::runtime_error {
 public:
  EngineError(std::string origin, std::string field, const std::string& problem)
      : std::runtime_error(compose(origin, field, problem)),
        origin_(std::move(origin)),
        field_(std::move(field)) {}

  const std::string& origin() const { return origin_; }
  const std::string& field() const { return field_; }

 private:
  static std::string compose(const std::string& origin, const std::string& field, const std::string& problem) {
    std::string s = origin;
    if (!field.empty()) {
      s += ": field '";
      s += field;
      s += "'";
    }
    s += ": ";
    s += problem;
    return s;
  }
  std::string origin_;
  std::string field_;
};

}  // namespace engine
