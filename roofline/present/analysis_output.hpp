// An Analysis as JSON (the schema_version 1 contract), as a table for people, and as CSV.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "reports/table.hpp"
#include "roofline/core/analysis.hpp"

namespace roofline {

nlohmann::json to_json(const Analysis& a);
// One op of a step as the JSON's phases[].ops[] hold it (one instance).
nlohmann::json op_json(const OpPoint& p);
std::string render_table(const Analysis& a);
// One row per (phase, op): every per-instance figure of the JSON, plus count and the step share.
std::string render_csv(const Analysis& a);

// The pieces of the table that other outputs (the HTML report) show the same way.
std::string step_heading(const StepResult& st);  // "decode: batch 8, 1 new token per sequence, ..."
// One row per op, the step's totals in the footer; with an expectation, an "expected" column beside "time".
// precision: a column naming each op's compute precision (set when the analysis mixes them).
reports::Table step_table(const StepResult& st, const StepExpectation* expected = nullptr, bool precision = false);
// Intensity for people: 3 significant digits without exponent notation (1640, 7.97, 0.167).
std::string intensity_text(double flops_per_byte);

}  // namespace roofline
