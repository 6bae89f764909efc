#include "roofline/present/exploration_output.hpp"

#include <fmt/format.h>

#include "reports/table.hpp"
#include "reports/units.hpp"
#include "roofline/present/analysis_output.hpp"

namespace roofline {

using nlohmann::json;

namespace {

json curve_json(const DecodeCurve& c, const char* x_name) {
  json points = json::array();
  for (const DecodePoint& p : c.points)
    points.push_back({{x_name, p.x}, {"step_time_s", p.step_s}, {"tokens_per_s", p.tokens_per_s}});
  return {{"batch", c.batch}, {"kv_len", c.kv_len}, {"points", points}};
}

json memory_json(const MemoryCurve& m) {
  json points = json::array();
  for (const MemoryPoint& p : m.points)
    points.push_back({{"batch", p.batch},
                      {"weights_bytes", p.weights_bytes},
                      {"kv_cache_bytes", p.kv_cache_bytes},
                      {"activations_bytes", p.activations_bytes},
                      {"total_bytes", p.total_bytes()}});
  return {{"context_tokens", m.context_tokens},
          {"points", points},
          {"largest_fit_batch", m.largest_fit_batch ? json(*m.largest_fit_batch) : json(nullptr)}};
}

reports::Table curve_table(const DecodeCurve& c, const char* x_name) {
  reports::Table t({{x_name, reports::Align::right},
                    {"step time", reports::Align::right},
                    {"tokens/s", reports::Align::right}});
  for (const DecodePoint& p : c.points)
    t.add_row({std::to_string(p.x), reports::duration(p.step_s), fmt::format("{:.1f}", p.tokens_per_s)});
  return t;
}

}  // namespace

json to_json(const Exploration& e) {
  json j;
  json compared = json::array();
  for (const Analysis& a : e.compared) compared.push_back(to_json(a));
  j["compared"] = compared;
  json sweep = json::array();
  for (const StepResult& st : e.batch_sweep) {
    json ops = json::array();
    for (const OpPoint& p : st) ops.push_back(op_json(p));
    sweep.push_back({{"batch", st.batch},
                     {"kv_len", st.kv_len},
                     {"ops", ops},
                     {"totals", {{"flops", st.flops}, {"bytes", st.bytes}, {"time_s", st.time_s}}}});
  }
  j["batch_sweep"] = sweep;
  j["decode_by_batch"] = curve_json(e.by_batch, "batch");
  j["decode_by_context"] = curve_json(e.by_context, "kv_len");
  j["memory_by_batch"] = memory_json(e.memory);
  return j;
}

std::string render_table(const Analysis& a, const Exploration& e) {
  std::string out;
  for (const Analysis& other : e.compared) {
    out += fmt::format("on {} ({}):", other.hardware.name, other.hardware.description);
    for (const StepResult& st : other.steps)
      out += fmt::format("{} {} step {}", &st == other.steps.data() ? "" : ",", to_string(st.phase),
                         reports::duration(st.time_s));
    if (other.whole_request)
      out += fmt::format(", TTFT {}, TPOT {}", reports::duration(other.whole_request->ttft_s),
                         reports::duration(other.whole_request->tpot_s));
    out += "\n";
  }
  if (!e.compared.empty()) out += "\n";
  out += fmt::format("decode step at {} cached tokens against batch\n{}\n", e.by_batch.kv_len,
                     curve_table(e.by_batch, "batch").render());
  out += fmt::format("decode step at batch {} against context\n{}\n", e.by_context.batch,
                     curve_table(e.by_context, "cached").render());
  reports::Table m({{"batch", reports::Align::right},
                    {"weights", reports::Align::right},
                    {"KV cache", reports::Align::right},
                    {"activations", reports::Align::right},
                    {"total", reports::Align::right}});
  for (const MemoryPoint& p : e.memory.points)
    m.add_row({std::to_string(p.batch), reports::si(p.weights_bytes, "B"), reports::si(p.kv_cache_bytes, "B"),
               reports::si(p.activations_bytes, "B"), reports::si(p.total_bytes(), "B")});
  out += fmt::format("memory at {} tokens per sequence against batch\n{}", e.memory.context_tokens, m.render());
  if (a.memory.capacity_bytes)
    out += e.memory.largest_fit_batch
               ? fmt::format("largest batch shown that fits {}: {}\n", reports::si(*a.memory.capacity_bytes, "B"),
                             *e.memory.largest_fit_batch)
               : fmt::format("no batch shown fits {}\n", reports::si(*a.memory.capacity_bytes, "B"));
  return out;
}

}  // namespace roofline
