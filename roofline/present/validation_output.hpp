// Rendering a validation: a text table, JSON (the per-op rows, the statistics, the calibration; for the
// charts) or CSV (the per-op rows).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/validate/report.hpp"

namespace roofline {

// How caches were treated, stated in every output.
extern const char* const kCacheTreatment;

std::string validation_table(const ValidationReport& r);
nlohmann::json validation_json(const ValidationReport& r);
std::string validation_csv(const ValidationReport& r);

}  // namespace roofline
