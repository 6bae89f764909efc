// Writers of a disaggregated simulation (roofline/simulate/disaggregated.hpp): each pool as `simulate` shows a
// server, the KV transfers between them, and the requests as the client saw them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "roofline/present/simulation_output.hpp"
#include "roofline/simulate/disaggregated.hpp"

namespace roofline::sim {

struct DisaggRun {
  const opmodel::ModelConfig& model;
  const hardware::Profile& hardware;
  const Workload& workload;
  const DisaggConfig& config;
};

std::string render_table(const DisaggRun& run, const DisaggResult& r);
nlohmann::json to_json(const DisaggRun& run, const DisaggResult& r);

}  // namespace roofline::sim
