// Helpers the opmodel test files share: a step's ops, and one of them by name.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "opmodel/error.hpp"
#include "opmodel/step_ops.hpp"

inline opmodel::OpList ops_of(const opmodel::ModelConfig& m, const opmodel::Scenario& s) {
  opmodel::OpList ops;
  opmodel::step_ops(m, s, ops);
  return ops;
}

// The op called name; throws when the step has none (a test then fails naming it).
inline const opmodel::OpCost& get(const opmodel::OpList& ops, std::string_view name) {
  const opmodel::OpCost* op = ops.find(name);
  if (!op) throw std::runtime_error("no op " + std::string(name));
  return *op;
}

// The message of the ModelError a config raises, read as bad/config.json; "no error" when it parses.
inline std::string config_error(const nlohmann::json& j) {
  try {
    opmodel::parse_model_config(j, "bad", "bad/config.json");
  } catch (const opmodel::ModelError& e) {
    return e.what();
  }
  return "no error";
}
