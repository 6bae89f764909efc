// An Analysis as JSON (the schema_version 1 contract), as a table for people, and as CSV.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/analysis.hpp"

namespace roofline {

nlohmann::json to_json(const Analysis& a);
std::string render_table(const Analysis& a);
// One row per (phase, op): every per-instance figure of the JSON, plus count and the step share.
std::string render_csv(const Analysis& a);

}  // namespace roofline
