#include "roofline/present/disaggregated_output.hpp"

#include <fmt/format.h>

#include "reports/units.hpp"

namespace roofline::sim {

namespace {

using json = nlohmann::json;

std::string transfer_text(const DisaggRun& run, const DisaggResult& r) {
  const KvLink& l = run.config.link;
  const TransferStats& t = r.transfer;
  return fmt::format("KV transfers: {} over {} at {} per device, latency {}; from prefill end to arrival (queueing "
                     "on the link included) mean {}, p50 {}, p90 {}, p99 {}; link busy {} in all\n",
                     reports::si(t.bytes, "B"), l.name, reports::si(l.bytes_per_s, "B/s"),
                     reports::duration(l.latency_s), reports::duration(t.time_s.mean), reports::duration(t.time_s.p50),
                     reports::duration(t.time_s.p90), reports::duration(t.time_s.p99), reports::duration(t.busy_s));
}

}  // namespace

std::string render_table(const DisaggRun& run, const DisaggResult& r) {
  const SimConfig& pc = run.config.prefill;
  const SimConfig& dc = run.config.decode;
  const int devices = pc.tp * pc.pp * pc.replicas + dc.tp * dc.pp * dc.replicas;
  std::string out = fmt::format("{} on {} ({}), disaggregated: {} prefill and {} decode instance{}, {} devices\n",
                                run.model.name, run.hardware.name, run.hardware.description, pc.replicas,
                                dc.replicas, dc.replicas == 1 ? "" : "s", devices);
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  out += fmt::format("workload: {}\n\n", run.workload.description);
  const RunInfo prefill{run.model, run.hardware, run.workload, pc}, decode{run.model, run.hardware, run.workload, dc};
  out += "prefill pool (each request ends with its first token there):\n";
  out += server_text(prefill, r.prefill, false);
  out += use_text(prefill, r.prefill, summarize(r.prefill));
  if (!r.decode.requests.empty()) {
    out += "\ndecode pool (requests arrive with their KV cache):\n";
    out += server_text(decode, r.decode, false);
    out += use_text(decode, r.decode, summarize(r.decode));
  }
  out += "\n";
  out += transfer_text(run, r);
  out += "\nrequests as the client saw them:\n";
  out += latency_text(summarize_requests(r.requests));
  return out;
}

json to_json(const DisaggRun& run, const DisaggResult& r) {
  const Summary s = summarize_requests(r.requests);
  auto stats = [](const Stats& st) {
    return json{{"mean", st.mean}, {"p50", st.p50}, {"p90", st.p90}, {"p99", st.p99}, {"count", st.count}};
  };
  auto pool = [&](const SimConfig& c, const SimResult& p) {
    const Summary ps = summarize(p);
    return json{{"config", config_json(c, p)},
                {"memory_per_device", {{"weights_bytes", p.memory.weights_bytes},
                                       {"workspace_bytes", p.memory.workspace_bytes},
                                       {"kv_cache_bytes", p.memory.kv_bytes()},
                                       {"kv_blocks", p.memory.kv_blocks},
                                       {"peak_bytes", ps.peak_memory_bytes}}},
                {"steps", {{"count", p.step_count}, {"mean_time_s", ps.mean_step_s}, {"busy_s", p.busy_s}}},
                {"kv", {{"peak_blocks_used", ps.peak_kv_blocks}, {"peak_use", ps.peak_kv_use}}},
                {"preemptions", ps.preemptions}};
  };
  json j;
  j["model"] = run.model.name;
  j["hardware"] = {{"name", run.hardware.name}, {"description", run.hardware.description}};
  j["workload"] = {{"description", run.workload.description}, {"requests", run.workload.requests.size()}};
  j["warnings"] = r.warnings;
  j["prefill"] = pool(run.config.prefill, r.prefill);
  j["decode"] = r.decode.requests.empty() ? json(nullptr) : pool(run.config.decode, r.decode);
  j["kv_transfer"] = {{"link", run.config.link.name},
                      {"bytes_per_s", run.config.link.bytes_per_s},
                      {"latency_s", run.config.link.latency_s},
                      {"bytes", r.transfer.bytes},
                      {"busy_s", r.transfer.busy_s},
                      {"time_s", stats(r.transfer.time_s)}};
  j["latency_s"] = {{"ttft", stats(s.ttft_s)}, {"tpot", stats(s.tpot_s)}, {"e2e", stats(s.e2e_s)}};
  j["throughput"] = {{"requests_per_s", s.requests_per_s},
                     {"output_tokens_per_s", s.output_tokens_per_s},
                     {"total_tokens_per_s", s.total_tokens_per_s}};
  return j;
}

}  // namespace roofline::sim
