// The one error type of the simulator: names where the bad input came from (a trace file and line, an
// option, a profile) and the column or field at fault.
#pragma once

#include <string>

#include "common/input_error.hpp"

namespace roofline::sim {

class SimError : public common::InputError {
 public:
  // origin: "trace requests.csv:12", "option --tp", "hardware profile a100-80g-sxm", ...;
  // field: "column 'prompt_tokens'", "field 'interconnect'" (already quoted), or empty; problem: what is wrong.
  SimError(std::string origin, std::string field, const std::string& problem)
      : InputError(origin, field, problem, origin + (field.empty() ? "" : ": " + field) + ": " + problem) {}
};

}  // namespace roofline::sim
