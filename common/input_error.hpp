// InputError: the one base of every "bad input" error (a config, profile, trace, weights file or CSV that is
// malformed or out of range). It names where the input came from (a file, a preset, an option), the field at
// fault and what is wrong; each leaf's typed error (opmodel::ModelError, hardware::ProfileError,
// engine::EngineError, the simulator's and validation's) derives from it, so `main` can tell bad input (exit 1)
// from a bad command line (exit 2) without knowing the leaves.
#pragma once

#include <stdexcept>
#include <string>

namespace common {

class InputError : public std::runtime_error {
 public:
  // message: the whole text what() returns (compose() gives the usual form).
  InputError(std::string origin, std::string field, std::string problem, const std::string& message)
      : std::runtime_error(message), origin_(std::move(origin)), field_(std::move(field)), problem_(std::move(problem)) {}

  const std::string& origin() const { return origin_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

  // "origin: field 'f': problem", or "origin: problem" when no single field is at fault.
  static std::string compose(const std::string& origin, const std::string& field, const std::string& problem) {
    std::string s = origin;
    if (!field.empty()) s += ": field '" + field + "'";
    return s + ": " + problem;
  }

 private:
  std::string origin_, field_, problem_;
};

}  // namespace common
