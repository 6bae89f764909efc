// A simulation (its result and its summary, simulate/summary.hpp) as a table, as JSON, and as a
// Chrome/Perfetto trace of the timeline.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware/profile.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/summary.hpp"
#include "roofline/simulate/workload.hpp"

namespace roofline::sim {

// What the run was: for the report's header.
struct RunInfo {
  const opmodel::ModelConfig& model;
  const hardware::Profile& hardware;
  const Workload& workload;
  const SimConfig& config;
};

nlohmann::json to_json(const RunInfo& run, const SimResult& r, const Summary& s);
std::string render_table(const RunInfo& run, const SimResult& r, const Summary& s);
// The table's parts, for writers of runs made of several servers (a disaggregated one): the server and its
// memory; the requests' latency and throughput; steps, KV use, prefix cache, pipeline and speculation.
std::string server_text(const RunInfo& run, const SimResult& r, bool workload_line = true);
std::string latency_text(const Summary& s);
std::string use_text(const RunInfo& run, const SimResult& r, const Summary& s);
// The run's configuration as JSON (config_json in to_json).
nlohmann::json config_json(const SimConfig& c, const SimResult& r);
// Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev): a process per replica, a thread per device
// (stage x tp rank), a slice per step and micro-batch with its batch mix; counters for KV blocks and requests.
std::string perfetto_trace(const RunInfo& run, const SimResult& r);

}  // namespace roofline::sim
