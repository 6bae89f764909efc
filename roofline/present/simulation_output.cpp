#include "roofline/present/simulation_output.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline::sim {

using nlohmann::json;


namespace {

json stats_json(const Stats& s) {
  return {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"count", s.count}};
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// Device time per op over the run, the all-reduces, the draft and the bubble (which holds the waits for pipeline
// sends), largest first: together, every stage's time over every step.
struct TimeRow {
  std::string name;
  double time_s;
};
std::vector<TimeRow> time_rows(const SimResult& r) {
  std::vector<TimeRow> rows;
  const TimeByOp& t = r.time_by_op;
  for (std::size_t i = 0; i < t.size; ++i) rows.push_back({std::string(t.names[i]), t.op_s[i]});
  if (t.allreduce_s > 0) rows.push_back({"tp all-reduce", t.allreduce_s});
  if (t.alltoall_s > 0) rows.push_back({"ep all-to-all", t.alltoall_s});
  if (t.draft_s > 0) rows.push_back({"draft model", t.draft_s});
  if (r.bubble_s > 0) rows.push_back({"pipeline bubble", r.bubble_s});
  std::stable_sort(rows.begin(), rows.end(), [](const TimeRow& a, const TimeRow& b) { return a.time_s > b.time_s; });
  return rows;
}

std::string scheduler_text(const SimResult& r, const SimConfig& c) {
  return fmt::format("scheduler {} ({} sequences, {} tokens per step), op times: {}", to_string(c.scheduler),
                     c.max_batch, r.max_tokens, c.calibrated ? "calibrated expectations" : "roofline bound");
}

std::string link_text(const Layout& l, bool expected) {
  std::string t = fmt::format("{} at {} per direction, latency {}", l.link_name, reports::si(l.link_bytes_per_s, "B/s"),
                              l.latency_given ? reports::duration(l.link_latency_s) : std::string("not given (0 taken)"));
  if (expected && l.allreduce_bus_efficiency && l.allreduce_small_s)
    t += fmt::format("; expected all-reduces: {} + the ring at {:.0f}% of the link (measured collectives)",
                     reports::duration(*l.allreduce_small_s), 100 * *l.allreduce_bus_efficiency);
  if (expected && l.split() && l.expert.dp_attention && l.expert.ep > 1 && l.alltoall_bus_efficiency &&
      l.alltoall_small_s)
    t += fmt::format("; expected all-to-alls: {} + the bytes leaving a device at {:.0f}% of the link",
                     reports::duration(*l.alltoall_small_s), 100 * *l.alltoall_bus_efficiency);
  return t;
}

}  // namespace

json config_json(const SimConfig& c, const SimResult& r) {
  json cfg = {{"scheduler", to_string(c.scheduler)},
              {"time_model", c.calibrated ? "calibrated" : "bound"},
              {"max_batch", c.max_batch},
              {"max_tokens", r.max_tokens},
              {"block_tokens", c.block_size},
              {"prefix_caching", c.prefix_caching},
              {"tp", c.tp},
              {"pp", c.pp},
              {"replicas", c.replicas},
              {"ep", c.expert.ep},
              {"dp_attention", c.expert.dp_attention},
              {"ep_skew", c.expert.skew ? json(*c.expert.skew) : json("random routing")},
              {"devices", c.tp * c.pp * c.replicas},
              {"microbatches", c.pp > 1 ? (c.microbatches > 0 ? c.microbatches : c.pp) : 1},
              {"weight_dtype", opmodel::to_string(c.scenario.weight_dtype)},
              {"act_dtype", opmodel::to_string(c.scenario.act_dtype)},
              {"kv_dtype", opmodel::to_string(c.scenario.kv_dtype)},
              {"attention", opmodel::to_string(c.scenario.attention)},
              {"fusion", opmodel::to_string(c.scenario.fusion)},
              {"seed", c.seed}};
  cfg["link"] = nullptr;
  if (r.layout.link_bytes_per_s > 0)
    cfg["link"] = {{"name", r.layout.link_name},
                   {"bytes_per_s", r.layout.link_bytes_per_s},
                   {"latency_s", r.layout.latency_given ? json(r.layout.link_latency_s) : json(nullptr)}};
  cfg["speculation"] = nullptr;
  if (c.speculation)
    cfg["speculation"] = {{"draft", c.speculation->draft.name},
                          {"tokens", c.speculation->tokens},
                          {"accept_rate", c.speculation->accept_rate}};
  return cfg;
}

namespace {

json memory_json(const SimResult& r, const Summary& s) {
  const MemoryPlan& m = r.memory;
  json j = {{"capacity_bytes", optional_json(m.capacity_bytes)},
            {"usable_bytes", m.blocks_given ? json(nullptr) : json(m.usable_bytes)},
            {"weights_bytes", m.weights_bytes},
            {"workspace_bytes", m.workspace_bytes},
            {"workspace_tokens", m.workspace_tokens},
            {"kv_cache_bytes", m.kv_bytes()},
            {"kv_blocks", m.kv_blocks},
            {"block_bytes", m.block_bytes},
            {"peak_bytes", s.peak_memory_bytes}};
  if (m.state_bytes > 0) j["linear_state_bytes"] = m.state_bytes;
  return j;
}

// KV and memory over time: every 2^k-th step of each replica, fewer than 512 points per replica.
json timeline_json(const SimResult& r) {
  const MemoryPlan& m = r.memory;
  json timeline = json::array();
  for (const StepRecord& st : r.timeline)
    timeline.push_back(
        {{"t_s", st.start_s},
         {"replica", st.replica},
         {"running", st.running},
         {"waiting", st.waiting},
         {"kv_blocks_used", st.kv_blocks_used},
         {"memory_bytes", m.device_bytes(st.kv_blocks_used)}});
  return timeline;
}

}  // namespace

json to_json(const RunInfo& run, const SimResult& r, const Summary& s) {
  const SimConfig& c = run.config;
  json j;
  j["schema_version"] = 1;
  j["model"] = {{"name", run.model.name}, {"layers", run.model.num_layers}};
  j["hardware"] = {{"name", run.hardware.name}, {"description", run.hardware.description}};
  if (!run.hardware.overrides.empty()) j["hardware"]["overrides"] = run.hardware.overrides;
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  j["config"] = config_json(c, r);
  j["workload"] = {{"description", run.workload.description}, {"requests", run.workload.requests.size()}};

  j["memory_per_device"] = memory_json(r, s);
  j["latency"] = {{"ttft_s", stats_json(s.ttft_s)}, {"tpot_s", stats_json(s.tpot_s)}, {"e2e_s", stats_json(s.e2e_s)}};
  j["throughput"] = {{"duration_s", s.duration_s},
                     {"requests_per_s", s.requests_per_s},
                     {"output_tokens_per_s", s.output_tokens_per_s},
                     {"total_tokens_per_s", s.total_tokens_per_s}};
  j["tokens"] = {{"prompt", s.prompt_tokens},
                 {"output", s.output_tokens},
                 {"computed", r.computed_tokens},
                 {"cached", r.cached_tokens},
                 {"recomputed", r.lost_tokens}};
  j["steps"] = {{"count", r.step_count}, {"mean_time_s", s.mean_step_s}, {"busy_s", r.busy_s}};
  j["preemptions"] = s.preemptions;
  j["prefix_cache"] = {{"lookups", r.prefix_lookups},
                       {"hits", r.prefix_hits},
                       {"hit_rate", optional_json(s.prefix_hit_rate)},
                       {"evictions", r.prefix_evictions},
                       {"cached_prompt_share", s.cached_prompt_share}};
  j["kv"] = {{"peak_blocks_used", s.peak_kv_blocks}, {"peak_use", s.peak_kv_use}, {"mean_use", s.mean_kv_use}};
  j["mean_requests_in_system"] = s.mean_in_system;
  j["pipeline"] = {{"stages", r.layout.pp},
                   {"stage_layers", r.layout.stage_layers},
                   {"bubble_share", s.bubble_share},
                   {"send_s", r.time_by_op.send_s}};

  json times = json::array();
  double total = 0;
  const auto rows = time_rows(r);
  for (const TimeRow& row : rows) total += row.time_s;
  for (const TimeRow& row : rows)
    times.push_back({{"name", row.name}, {"time_s", row.time_s}, {"share", total > 0 ? row.time_s / total : 0}});
  j["time_by_op"] = times;

  j["speculation"] = nullptr;
  if (c.speculation)
    j["speculation"] = {{"expected_tokens_per_step", r.spec_expected_tokens},
                        {"measured_tokens_per_step", s.spec_tokens_per_step},
                        {"tpot_speedup", optional_json(s.spec_tpot_speedup)},
                        {"throughput_speedup", optional_json(s.spec_throughput_speedup)}};

  j["timeline"] = timeline_json(r);
  return j;
}

namespace {

using reports::Align;
using reports::duration;
using reports::si;

}  // namespace

std::string server_text(const RunInfo& run, const SimResult& r, bool workload_line) {
  const SimConfig& c = run.config;
  std::string out;
  out += fmt::format(
      "server: {} replica{} x tp {} x pp {} = {} device{}; {}; KV blocks of {} tokens; prefix caching {}\n", c.replicas,
      c.replicas == 1 ? "" : "s", c.tp, c.pp, c.tp * c.pp * c.replicas, c.tp * c.pp * c.replicas == 1 ? "" : "s",
      scheduler_text(r, c), c.block_size, c.prefix_caching ? "on" : "off");
  if (r.layout.split())
    out += fmt::format("experts: {}; attention {}; load of the busiest expert device: {}\n",
                       c.expert.ep > 1 ? fmt::format("whole over ep {} devices ({} each)", c.expert.ep,
                                                     r.layout.shard.num_experts / c.expert.ep)
                                       : fmt::format("each sharded over tp {}", c.tp),
                       c.expert.dp_attention ? fmt::format("data-parallel over {} devices (whole heads, own KV)", c.tp)
                                             : fmt::format("tensor-parallel over {}", c.tp),
                       c.expert.skew ? fmt::format("{} x the mean (--ep-skew)", *c.expert.skew)
                                     : std::string("expected maximum under uniform random routing"));
  if (r.layout.link_bytes_per_s > 0) out += fmt::format("interconnect: {}\n", link_text(r.layout, c.calibrated));
  if (workload_line) out += fmt::format("workload: {}\n", run.workload.description);
  const MemoryPlan& m = r.memory;
  out += fmt::format("memory per device: weights {} + workspace {} ({} tokens) + KV cache {} ({} blocks of {})",
                     si(m.weights_bytes, "B"), si(m.workspace_bytes, "B"), m.workspace_tokens, si(m.kv_bytes(), "B"),
                     m.kv_blocks, si(m.block_bytes, "B"));
  if (m.state_bytes > 0) out += fmt::format(" + linear-attention state {}", si(m.state_bytes, "B"));
  if (m.blocks_given) out += " (--kv-blocks)\n";
  else
    out += fmt::format(" of {} usable ({} x {})\n", si(m.usable_bytes, "B"), si(*m.capacity_bytes, "B"),
                       c.memory_utilization);
  return out;
}

std::string latency_text(const Summary& s) {
  std::string out;
  out += fmt::format("{} requests: {} prompt and {} output tokens in {}\n", s.requests, s.prompt_tokens,
                     s.output_tokens, duration(s.duration_s));
  reports::Table t({{"latency", Align::left}, {"mean"}, {"p50"}, {"p90"}, {"p99"}});
  for (auto [name, st] :
       {std::pair{"TTFT (time to first token)", &s.ttft_s}, std::pair{"TPOT (time per output token)", &s.tpot_s},
        std::pair{"E2E (end to end)", &s.e2e_s}})
    t.add_row({name, duration(st->mean), duration(st->p50), duration(st->p90), duration(st->p99)});
  out += t.render();
  out += fmt::format("throughput: {:.2f} requests/s, {:.0f} output tokens/s, {:.0f} tokens/s in all\n",
                     s.requests_per_s, s.output_tokens_per_s, s.total_tokens_per_s);
  return out;
}

std::string use_text(const RunInfo& run, const SimResult& r, const Summary& s) {
  const SimConfig& c = run.config;
  const MemoryPlan& m = r.memory;
  std::string out;
  out += fmt::format("steps: {} (mean {}); preemptions: {} ({} tokens recomputed)\n", r.step_count,
                     duration(s.mean_step_s), s.preemptions, r.lost_tokens);
  out += fmt::format("KV cache: peak {} of {} blocks ({}), mean {}; peak memory per device {}\n", s.peak_kv_blocks,
                     m.kv_blocks, reports::percent(s.peak_kv_use), reports::percent(s.mean_kv_use),
                     si(s.peak_memory_bytes, "B"));
  if (s.prefix_hit_rate)
    out += fmt::format("prefix cache: {} of {} lookups hit ({}), {} of prompt tokens served from cache, {} evictions\n",
                       r.prefix_hits, r.prefix_lookups, reports::percent(*s.prefix_hit_rate),
                       reports::percent(s.cached_prompt_share), r.prefix_evictions);
  if (c.pp > 1)
    out += fmt::format("pipeline: {} stages of {} layers, up to {} micro-batches per step, bubble {} of stage time; "
                       "sends between stages {} in all\n",
                       c.pp, fmt::join(r.layout.stage_layers, "/"), c.microbatches > 0 ? c.microbatches : c.pp,
                       reports::percent(s.bubble_share), duration(r.time_by_op.send_s));
  if (c.speculation) {
    const auto& sp = *c.speculation;
    out += fmt::format(
        "speculative decoding: draft {}, {} tokens, acceptance {}: {:.2f} tokens per target step expected, "
        "{:.2f} measured",
        sp.draft.name, sp.tokens, sp.accept_rate, r.spec_expected_tokens, s.spec_tokens_per_step);
    if (s.spec_tpot_speedup && s.spec_throughput_speedup)
      out += fmt::format("; against no speculation: TPOT {:.2f}x faster, throughput {:.2f}x", *s.spec_tpot_speedup,
                         *s.spec_throughput_speedup);
    out += "\n";
  }
  return out;
}

std::string render_table(const RunInfo& run, const SimResult& r, const Summary& s) {
  using reports::Align;
  using reports::duration;
  using reports::si;
  const SimConfig& c = run.config;
  const auto& sc = c.scenario;
  std::string out;
  out += fmt::format("{} on {} ({}): weights {}, activations {}, KV {}, attention {}, fusion {}\n", run.model.name,
                     run.hardware.name, run.hardware.description, opmodel::describe_weights(sc),
                     opmodel::to_string(sc.act_dtype), opmodel::to_string(sc.kv_dtype),
                     opmodel::to_string(sc.attention), opmodel::to_string(sc.fusion));
  if (!run.hardware.overrides.empty())
    out += fmt::format("hardware overrides: {}\n", fmt::join(run.hardware.overrides, "; "));
  for (const auto& w : r.warnings) out += fmt::format("warning: {}\n", w);
  out += server_text(run, r);
  out += "\n";
  out += latency_text(s);
  out += use_text(run, r, s);
  out += "\ndevice time by op (one device per stage, all steps):\n";
  reports::Table ops({{"op", Align::left}, {"time"}, {"share"}});
  const auto rows = time_rows(r);
  double total = 0;
  for (const TimeRow& row : rows) total += row.time_s;
  for (const TimeRow& row : rows) ops.add_row({row.name, duration(row.time_s), reports::percent(row.time_s / total)});
  out += ops.render();
  return out;
}

namespace {

std::string slice_name(const StepRecord& st) {
  if (st.prefill_seqs > 0 && st.decode_seqs > 0) return "mixed";
  return st.prefill_seqs > 0 ? "prefill" : "decode";
}

// Microseconds with nanosecond digits.
std::string us(double seconds) { return fmt::format("{:.3f}", seconds * 1e6); }

}  // namespace

std::string perfetto_trace(const RunInfo& run, const SimResult& r) {
  const int tp = r.layout.tp, pp = r.layout.pp;
  std::string out = "{\"displayTimeUnit\":\"ms\",\"otherData\":";
  out += json({{"model", run.model.name},
                {"hardware", run.hardware.name},
                {"scheduler", to_string(run.config.scheduler)},
                {"workload", run.workload.description}})
             .dump();
  out += ",\"traceEvents\":[\n";
  bool first = true;
  auto event = [&](const std::string& e) {
    if (!first) out += ",\n";
    first = false;
    out += e;
  };
  for (int rep = 0; rep < run.config.replicas; ++rep) {
    event(fmt::format(R"j({{"name":"process_name","ph":"M","pid":{},"tid":0,"args":{{"name":"replica {}"}}}})j", rep,
                      rep));
    for (int s = 0; s < pp; ++s)
      for (int k = 0; k < tp; ++k)
        event(fmt::format(R"j({{"name":"thread_name","ph":"M","pid":{},"tid":{},)j"
                          R"j("args":{{"name":"stage {} tp rank {} (device {})"}}}})j",
                          rep, s * tp + k, s, k, (rep * pp + s) * tp + k));
  }
  const StepRecord* previous = nullptr;
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const StepRecord& st = r.steps[i];
    // The batch mix on every slice; the replica's state on counter tracks, written when it changes.
    std::string args = fmt::format(
        R"j("step":{},"prefill_seqs":{},"prefill_tokens":{},"decode_seqs":{},"decode_tokens":{},)j"
        R"j("context_tokens":{},"emitted_tokens":{})j",
        i, st.prefill_seqs, st.prefill_tokens, st.decode_seqs, st.decode_tokens, st.context_tokens, st.emitted_tokens);
    if (st.preemptions > 0) args += fmt::format(R"j(,"preemptions":{})j", st.preemptions);
    const std::string name = slice_name(st);
    for (std::uint32_t k = 0; k < st.slices; ++k) {
      const Slice& sl = r.slices[st.first_slice + k];
      const std::string mb = pp > 1 ? fmt::format(R"j(,"microbatch":{})j", sl.microbatch) : std::string();
      for (int rank = 0; rank < tp; ++rank)
        event(fmt::format(R"j({{"name":"{}","ph":"X","ts":{},"dur":{},"pid":{},"tid":{},"args":{{{}{}}}}})j",
                          sl.draft ? "draft" : name, us(st.start_s + sl.offset_s), us(sl.time_s), st.replica,
                          sl.stage * tp + rank, args, mb));
    }
    const bool new_replica = !previous || previous->replica != st.replica;
    if (new_replica || previous->kv_blocks_used != st.kv_blocks_used)
      event(fmt::format(R"j({{"name":"KV blocks used","ph":"C","ts":{},"pid":{},"args":{{"blocks":{}}}}})j",
                        us(st.start_s), st.replica, st.kv_blocks_used));
    if (new_replica || previous->running != st.running || previous->waiting != st.waiting)
      event(fmt::format(R"j({{"name":"requests","ph":"C","ts":{},"pid":{},"args":{{"running":{},"waiting":{}}}}})j",
                        us(st.start_s), st.replica, st.running, st.waiting));
    previous = &st;
  }
  out += "\n]}\n";
  return out;
}

}  // namespace roofline::sim
