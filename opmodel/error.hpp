// The one error type of opmodel/: names the origin (file, preset or option) and the field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace opmodel {

class ModelError : public std::runtime_error {
 public:
  // origin: "config.json path", "preset NAME" or "scenario"; field: the JSON key or option name.
  ModelError(std::string origin, std::string field, const std::string& problem)
      : std::runtime_error(compose(origin, field, problem)),
        origin_(std::move(origin)),
        field_(std::move(field)) {}

  const std::string& origin() const { return origin_; }
  const std::string& field() const { return field_; }

 private:
  static std::string compose(const std::string& origin, const std::string& field,
                             const std::string& problem) {
    std::string s = origin;
    if (!field.empty()) s += ": field '" + field + "'";
    return s + ": " + problem;
  }
  std::string origin_;
  std::string field_;
};

}  // namespace opmodel
