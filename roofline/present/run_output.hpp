// A run of the reference engine (validate/engine_run.hpp) as JSON and as a table for people.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/validate/engine_run.hpp"

namespace roofline {

nlohmann::json to_json(const EngineRunReport& r);
std::string render_table(const EngineRunReport& r);

}  // namespace roofline
