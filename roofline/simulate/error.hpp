// The one error type of the simulator: names where the bad input came from (a trace file and line, an
// option, a profile) and the column or field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace roofline::sim {

class SimError : public std::runtime_error {
 public:
  // origin: "trace requests.csv:12", "option --tp", "hardware profile a100-80g-sxm", ...;
  // field: "column 'prompt_tokens'", "field 'interconnect'", or empty; problem: what is wrong.
  SimError(std::string origin, std::string field, const std::string& problem)
      : std::runtime_error(compose(origin, field, problem)),
        origin_(std::move(origin)),
        field_(std::move(field)),
        problem_(problem) {}

  const std::string& origin() const { return origin_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  static std::string compose(const std::string& origin, const std::string& field, const std::string& problem) {
    std::string s = origin;
    if (!field.empty()) {
      s += ": ";
      s += field;
    }
    s += ": ";
    s += problem;
    return s;
  }
  std::string origin_;
  std::string field_;
  std::string problem_;
};

}  // namespace roofline::sim
