#include "roofline/present/analysis_output.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "opmodel/footprint.hpp"
#include "reports/csv.hpp"
#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {

using nlohmann::json;

json op_json(const OpPoint& p) {
  const auto& b = p.cost.bytes;
  return {{"name", p.cost.name},
          {"kind", to_string(p.cost.kind)},
          {"precision", to_string(p.precision)},
          {"count", p.cost.count},
          {"flops", p.cost.flops},
          {"bytes", b.total()},
          {"weight_bytes", b.weight_read},
          {"act_read_bytes", b.act_read},
          {"act_write_bytes", b.act_write},
          {"kv_read_bytes", b.kv_read},
          {"kv_write_bytes", b.kv_write},
          {"intensity", p.intensity},
          {"attainable_flops_per_s", p.attainable_flops_per_s},
          {"bound", to_string(p.bound)},
          {"time_s", p.time_s}};
}

namespace {

json scenario_json(const Analysis& a) {
  const auto& r = a.request;
  const auto& s = r.scenario;
  json j = {{"batch", s.batch},
            {"weight_dtype", to_string(s.weight_dtype)},
            {"act_dtype", to_string(s.act_dtype)},
            {"kv_dtype", to_string(s.kv_dtype)},
            {"group_size", s.group_size},
            {"attention", to_string(s.attention)},
            {"attention_dtype", to_string(s.attention_compute())},
            {"gemm_input_dtype", to_string(s.gemm_input_dtype.value_or(s.act_dtype))},
            {"fusion", to_string(s.fusion)},
            {"all_logits", s.all_logits}};
  if (s.modules.attention || s.modules.mlp || s.modules.experts)
    j["module_weights"] = {{"attention", to_string(s.attention_weights())},
                           {"mlp", to_string(s.mlp_weights())},
                           {"experts", to_string(s.expert_weights())}};
  if (a.model.mla) j["mla"] = to_string(s.mla);
  j["prompt"] = r.prompt ? json(*r.prompt) : json(nullptr);
  j["kv_len"] = r.kv_len ? json(*r.kv_len) : json(nullptr);
  j["gen"] = r.gen ? json(*r.gen) : json(nullptr);
  return j;
}

}  // namespace

std::string intensity_text(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v); }

json to_json(const Analysis& a) {
  json j;
  j["schema_version"] = 1;
  const auto& m = a.model;
  j["model"] = {{"name", m.name},
                {"model_type", m.model_type},
                {"parameters", a.parameters},
                {"active_parameters", a.active_parameters},
                {"layers", m.num_layers},
                {"hidden_size", m.hidden_size},
                {"heads", m.num_heads},
                {"kv_heads", m.num_kv_heads},
                {"head_dim", m.head_dim},
                {"intermediate_size", m.intermediate_size},
                {"vocab_size", m.vocab_size},
                {"experts", m.num_experts},
                {"experts_per_token", m.experts_per_token},
                {"moe_intermediate_size", m.moe_intermediate_size},
                {"moe_layers", m.moe_layers},
                {"shared_expert_intermediate_size", m.shared_expert_intermediate_size}};
  j["hardware"] = {{"name", a.hardware.name},
                   {"description", a.hardware.description},
                   {"origin", a.hardware.origin},
                   {"memory_bytes_per_s", a.hardware.memory_bytes_per_s()}};
  if (!a.hardware.overrides.empty()) j["hardware"]["overrides"] = a.hardware.overrides;
  if (!a.warnings.empty()) j["warnings"] = a.warnings;
  j["scenario"] = scenario_json(a);
  j["roof"] = {{"precision", to_string(a.linear_precision)},
               {"peak_flops_per_s", a.hardware.require_peak(a.linear_precision)},
               {"bytes_per_s", a.hardware.memory_bytes_per_s()},
               {"ridge_flops_per_byte", a.ridge_flops_per_byte}};
  j["decode_compute_bound_batch"] =
      a.decode_compute_bound_batch ? json(*a.decode_compute_bound_batch) : json(nullptr);

  json phases = json::array();
  for (const StepResult& st : a.steps) {
    json ops = json::array();
    const std::size_t index = std::size_t(&st - a.steps.data());
    const StepExpectation* e = a.expected.empty() ? nullptr : &a.expected[index];
    for (std::size_t i = 0; i < st.op_count; ++i) {
      ops.push_back(op_json(st.ops[i]));
      if (e) ops.back()["expected_s"] = e->op_s[i] ? json(*e->op_s[i]) : json(nullptr);
    }
    phases.push_back({{"phase", to_string(st.phase)},
                      {"batch", st.batch},
                      {"q_len", st.q_len},
                      {"kv_len", st.kv_len},
                      {"ops", ops},
                      {"totals",
                       {{"flops", st.flops},
                        {"bytes", st.bytes},
                        {"time_s", st.time_s},
                        {"memory_bound_time_s", st.memory_bound_time_s}}}});
    if (e) phases.back()["totals"]["expected_time_s"] = e->total_s ? json(*e->total_s) : json(nullptr);
  }
  if (a.hardware.expectations()) j["calibration_source"] = a.hardware.expectations()->source;
  j["phases"] = phases;

  const MemoryResult& mem = a.memory;
  j["memory"] = {{"context_tokens", mem.context_tokens},
                 {"weights_bytes", mem.weights_bytes},
                 {"kv_cache_bytes", mem.kv_cache_bytes},
                 {"activations_bytes", mem.activations_bytes},
                 {"total_bytes", mem.total_bytes()}};
  j["memory"]["capacity_bytes"] = mem.capacity_bytes ? json(*mem.capacity_bytes) : json(nullptr);
  j["memory"]["fits"] = mem.fits() ? json(*mem.fits()) : json(nullptr);

  if (a.whole_request) {
    const RequestResult& r = *a.whole_request;
    j["request"] = {{"gen_tokens", r.gen_tokens},
                    {"ttft_s", r.ttft_s},
                    {"tpot_s", r.tpot_s},
                    {"total_time_s", r.total_time_s},
                    {"output_tokens_per_s", r.output_tokens_per_s},
                    {"decode_tokens_per_s", r.decode_tokens_per_s}};
    if (a.hardware.expectations()) {
      j["request"]["expected_ttft_s"] = r.expected_ttft_s ? json(*r.expected_ttft_s) : json(nullptr);
      j["request"]["expected_tpot_s"] = r.expected_tpot_s ? json(*r.expected_tpot_s) : json(nullptr);
    }
  }
  return j;
}

std::string step_heading(const StepResult& st) {
  return fmt::format("{}: batch {}, {} new token{} per sequence, {} cached (figures per step: count x one instance)",
                     to_string(st.phase), st.batch, st.q_len, st.q_len == 1 ? "" : "s", st.kv_len);
}

reports::Table step_table(const StepResult& st, const StepExpectation* expected, bool precision) {
  using reports::Align;
  std::vector<reports::Table::Column> cols = {{"op", Align::left}, {"count"}, {"FLOPs"}, {"bytes"}, {"weights"},
                                              {"act r/w"}, {"KV r/w"}, {"FLOP/B"}, {"attainable"},
                                              {"bound", Align::left}, {"time"}, {"share"}};
  if (precision) cols.insert(cols.begin() + 1, {"precision", Align::left});
  if (expected) cols.push_back({"expected"});
  reports::Table t(cols);
  for (std::size_t i = 0; i < st.op_count; ++i) {
    const OpPoint& p = st.ops[i];
    const double n = double(p.cost.count);
    const auto& b = p.cost.bytes;
    std::vector<std::string> row = {
        std::string(p.cost.name), std::to_string(p.cost.count), reports::si(n * p.cost.flops, ""),
        reports::si(n * b.total(), "B"), reports::si(n * b.weight_read, "B"),
        reports::si(n * (b.act_read + b.act_write), "B"), reports::si(n * (b.kv_read + b.kv_write), "B"),
        intensity_text(p.intensity), reports::si(p.attainable_flops_per_s, "FLOP/s"), std::string(to_string(p.bound)),
        reports::duration(n * p.time_s), reports::percent(n * p.time_s / st.time_s)};
    if (precision) row.insert(row.begin() + 1, std::string(hardware::to_string(p.precision)));
    if (expected) row.push_back(expected->op_s[i] ? reports::duration(n * *expected->op_s[i]) : "-");
    t.add_row(row);
  }
  std::vector<std::string> footer = {"total", "", reports::si(st.flops, ""), reports::si(st.bytes, "B"), "", "", "",
                                     intensity_text(st.bytes > 0 ? st.flops / st.bytes : 0.0), "",
                                     reports::percent(st.memory_bound_time_s / st.time_s) + " mem",
                                     reports::duration(st.time_s), "100.0%"};
  if (precision) footer.insert(footer.begin() + 1, "");
  if (expected) footer.push_back(expected->total_s ? reports::duration(*expected->total_s) : "-");
  t.add_footer(footer);
  return t;
}

namespace {
// Where the expected times come from, in a word: the user's calibration, or the preset's published efficiencies.
std::string_view expectation_kind(const hardware::Profile& hw) {
  return hw.calibration ? "calibrated" : "published efficiencies";
}
}  // namespace

std::string render_table(const Analysis& a) {
  std::string out;
  const auto& s = a.request.scenario;
  out += fmt::format("{} on {} ({}): weights {}, activations {}{}, KV {}, attention {}{}, fusion {}\n", a.model.name,
                     a.hardware.name, a.hardware.description, opmodel::describe_weights(s), to_string(s.act_dtype),
                     s.gemm_input_dtype ? " (GEMM inputs " + std::string(to_string(*s.gemm_input_dtype)) + ")"
                                        : std::string(),
                     to_string(s.kv_dtype), to_string(s.attention),
                     s.attention_dtype ? " in " + std::string(to_string(*s.attention_dtype)) : std::string(), to_string(s.fusion));
  if (!a.hardware.overrides.empty())
    out += fmt::format("hardware overrides: {}\n", fmt::join(a.hardware.overrides, "; "));
  for (const auto& w : a.warnings) out += fmt::format("warning: {}\n", w);
  out += fmt::format("roof: {} {} peak, {} memory, ridge {:.1f} FLOP/B{}\n\n",
                     reports::si(a.hardware.require_peak(a.linear_precision), "FLOP/s"),
                     to_string(a.linear_precision), reports::si(a.hardware.memory_bytes_per_s(), "B/s"),
                     a.ridge_flops_per_byte,
                     a.mixed_precisions ? " (other matrix precisions per op: the precision column)" : "");

  if (a.hardware.expectations())
    out += fmt::format("expected times ({}: overhead + roofs lowered to the attained fractions; warm caches) "
                       "from {}; '-' where it has no fit\n\n",
                       expectation_kind(a.hardware), a.hardware.expectations()->source);
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const StepResult& st = a.steps[i];
    const StepExpectation* expected = a.expected.empty() ? nullptr : &a.expected[i];
    out += step_heading(st) + "\n" + step_table(st, expected, a.mixed_precisions).render() + "\n";
  }

  const MemoryResult& mem = a.memory;
  out += fmt::format("memory at {} tokens per sequence: weights {}, KV cache {}, activations {}, total {}",
                     mem.context_tokens, reports::si(mem.weights_bytes, "B"), reports::si(mem.kv_cache_bytes, "B"),
                     reports::si(mem.activations_bytes, "B"), reports::si(mem.total_bytes(), "B"));
  if (mem.capacity_bytes)
    out += fmt::format(" of {} ({})", reports::si(*mem.capacity_bytes, "B"), *mem.fits() ? "fits" : "DOES NOT FIT");
  out += "\n";
  if (a.decode_compute_bound_batch)
    out += fmt::format("decode linear layers turn compute-bound at batch {}\n", *a.decode_compute_bound_batch);
  else
    out += "decode linear layers stay memory-bound at every batch up to 2^20\n";
  if (a.whole_request) {
    const RequestResult& r = *a.whole_request;
    out += fmt::format(
        "request (prefill + {} decode steps): TTFT {}, TPOT {}, total {}, {:.1f} output tokens/s ({:.1f} in decode)\n",
        r.gen_tokens, reports::duration(r.ttft_s), reports::duration(r.tpot_s), reports::duration(r.total_time_s),
        r.output_tokens_per_s, r.decode_tokens_per_s);
    if (r.expected_ttft_s)
      out += fmt::format("expected ({}): TTFT {}, TPOT {}, {:.1f} tokens/s in decode\n",
                         expectation_kind(a.hardware),
                         reports::duration(*r.expected_ttft_s), reports::duration(*r.expected_tpot_s),
                         double(a.request.scenario.batch) / *r.expected_tpot_s);
  }
  return out;
}

std::string render_csv(const Analysis& a) {
  std::string out = reports::csv_row({"model", "hardware", "phase", "batch", "q_len", "kv_len", "op", "kind",
                                      "precision", "count", "flops", "bytes", "weight_bytes", "act_read_bytes",
                                      "act_write_bytes", "kv_read_bytes", "kv_write_bytes", "intensity",
                                      "attainable_flops_per_s", "bound", "time_s", "share", "expected_s"});
  auto num = [](double v) { return fmt::format("{:.17g}", v); };
  for (std::size_t k = 0; k < a.steps.size(); ++k) {
    const StepResult& st = a.steps[k];
    for (std::size_t i = 0; i < st.op_count; ++i) {
      const OpPoint& p = st.ops[i];
      const auto& b = p.cost.bytes;
      const std::optional<double>* expected = a.expected.empty() ? nullptr : &a.expected[k].op_s[i];
      out += reports::csv_row({a.model.name, a.hardware.name, std::string(to_string(st.phase)),
                               std::to_string(st.batch), std::to_string(st.q_len), std::to_string(st.kv_len),
                               std::string(p.cost.name), std::string(to_string(p.cost.kind)),
                               std::string(to_string(p.precision)), std::to_string(p.cost.count), num(p.cost.flops),
                               num(b.total()), num(b.weight_read), num(b.act_read), num(b.act_write), num(b.kv_read),
                               num(b.kv_write), num(p.intensity), num(p.attainable_flops_per_s),
                               std::string(to_string(p.bound)), num(p.time_s),
                               num(double(p.cost.count) * p.time_s / st.time_s),
                               expected && expected->has_value() ? num(expected->value()) : std::string()});
    }
  }
  return out;
}

}  // namespace roofline
