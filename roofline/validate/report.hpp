// The result of `roofline validate`: the per-op rows, their statistics, and (with --sweep or --measured
// --save-profile) the calibration fitted on one half of the step shapes and judged on the other.
// present/validation_output renders it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roofline/validate/validation.hpp"

namespace roofline {

struct ValidationReport {
  std::string model, hardware, source;  // source: what was measured ("engine, 5 repetitions ..." or a CSV)
  std::string scenario;                 // dtypes and attention
  std::vector<ValidationRow> rows;
  std::vector<GroupStats> stats;
  std::optional<Calibration> calibration;
  std::vector<GroupStats> held_out;  // statistics of the held-out half, when calibrated
  std::vector<std::string> notes;    // what the run left out, and why
};

}  // namespace roofline
