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

// A value a command-line option gave that the simulation cannot take (--tp 3 on 32 heads, --pp past the layers,
// a distribution's text): origin "option --NAME". The command line is at fault, not an input file, so the CLI
// reports it as a usage error.
class OptionError : public SimError {
 public:
  OptionError(std::string option, const std::string& problem)
      : SimError("option --" + option, "", problem), option_(std::move(option)) {}
  const std::string& option() const { return option_; }

 private:
  std::string option_;
};

// A deployment whose devices cannot hold it: the weights and workspace leave no KV cache, or a request needs
// more KV blocks than a replica has. The search rejects such candidates without simulating them.
class MemoryError : public SimError {
 public:
  using SimError::SimError;
};

}  // namespace roofline::sim
