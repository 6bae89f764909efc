// Rendering a validation: a text table, JSON (the per-op rows, the statistics, the calibration; for the
// charts) or CSV (the per-op rows).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// How caches were treated, stated in every output.
extern const char* const kCacheTreatment;

std::string validation_table(const ValidationReport& r);
nlohmann::json validation_json(const ValidationReport& r);
std::string validation_csv(const ValidationReport& r);

}  // namespace roofline
