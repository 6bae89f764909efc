// An analysis's exploration (core/explore.hpp) as JSON (the "exploration" object of `analyze --format json`)
// and as tables for people: the decode step against batch and context, memory against batch, each compared
// profile's step times, and the swept batches' decode steps.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/core/analysis.hpp"
#include "roofline/core/explore.hpp"

namespace roofline {

nlohmann::json to_json(const Exploration& e);
std::string render_table(const Analysis& a, const Exploration& e);

}  // namespace roofline
