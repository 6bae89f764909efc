#include "roofline/present/validation_output.hpp"

#include <fmt/format.h>

#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {

const char* const kCacheTreatment =
    "hierarchical roofline, warm caches: weights and KV cache are served from the innermost level holding the "
    "whole step's weights and KV (they are reused one step later), activations from the innermost level holding "
    "the op's own traffic; main memory otherwise";

namespace {

std::string opt_percent(const std::optional<double>& v) { return v ? reports::percent(*v) : "-"; }

std::string stats_table(const std::vector<GroupStats>& stats, bool expected) {
  std::vector<reports::Table::Column> cols = {{"kind", reports::Align::left}, {"phase", reports::Align::left},
                                              {"ops"}, {"bound median |err|"}, {"bound p90 |err|"},
                                              {"analyze bound agreement"}, {"median roof fraction"}};
  if (expected) {
    cols.push_back({"expected median |err|"});
    cols.push_back({"expected p90 |err|"});
  }
  reports::Table t(cols);
  for (const auto& g : stats) {
    std::vector<std::string> row = {g.kind, g.phase, std::to_string(g.ops), reports::percent(g.median_abs_error),
                                    reports::percent(g.p90_abs_error), reports::percent(g.bound_agreement),
                                    reports::percent(g.median_roof_fraction)};
    if (expected) {
      row.push_back(opt_percent(g.expected_median_abs_error));
      row.push_back(opt_percent(g.expected_p90_abs_error));
    }
    t.add_row(row);
  }
  return t.render();
}

nlohmann::json stats_json(const std::vector<GroupStats>& stats) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& g : stats) {
    nlohmann::json j = {{"kind", g.kind}, {"phase", g.phase}, {"ops", g.ops},
                        {"median_abs_error", g.median_abs_error}, {"p90_abs_error", g.p90_abs_error},
                        {"bound_agreement", g.bound_agreement}, {"median_roof_fraction", g.median_roof_fraction}};
    if (g.expected_median_abs_error) {
      j["expected_median_abs_error"] = *g.expected_median_abs_error;
      j["expected_p90_abs_error"] = *g.expected_p90_abs_error;
    }
    a.push_back(j);
  }
  return a;
}

}  // namespace

std::string validation_table(const ValidationReport& r) {
  std::string out = fmt::format("{} on {}: {}\n{}\ncaches: {}\n\n", r.model, r.hardware, r.scenario, r.source,
                                kCacheTreatment);
  for (const auto& n : r.notes) out += fmt::format("note: {}\n", n);
  if (!r.notes.empty()) out += "\n";
  const bool expected = r.calibration.has_value();
  std::vector<reports::Table::Column> cols = {
      {"w", reports::Align::left}, {"phase", reports::Align::left}, {"B"}, {"q"}, {"kv"}, {"op", reports::Align::left},
      {"kind", reports::Align::left}, {"levels", reports::Align::left}, {"predicted"}, {"bound", reports::Align::left},
      {"measured"}, {"min..max"}, {"n"}, {"achieved FLOP/s"}, {"achieved B/s"}, {"roof"},
      {"binding", reports::Align::left}, {"error"}};
  if (expected) {
    cols.push_back({"expected"});
    cols.push_back({"half", reports::Align::left});
  }
  reports::Table t(cols);
  for (const auto& row : r.rows) {
    std::vector<std::string> cells = {
        row.weights, std::string(to_string(row.step.phase)), std::to_string(row.step.batch), std::to_string(row.step.q_len),
        std::to_string(row.step.kv_len), row.op, std::string(to_string(row.kind)),
        fmt::format("{}/{}", row.stream_level, row.act_level), reports::duration(row.predicted_s),
        std::string(to_string(row.predicted_bound)), reports::duration(row.measured_s.median),
        fmt::format("{}..{}", reports::duration(row.measured_s.min), reports::duration(row.measured_s.max)),
        std::to_string(row.measured_s.samples), reports::si(row.achieved_flops_per_s, "FLOP/s"),
        reports::si(row.achieved_bytes_per_s, "B/s"), reports::percent(row.roof_fraction),
        std::string(to_string(row.binding)), fmt::format("{:+.0f}%", row.error() * 100)};
    if (expected) {
      cells.push_back(row.expected_s ? reports::duration(*row.expected_s) : "-");
      cells.push_back(row.half.empty() ? "-" : row.half);
    }
    t.add_row(cells);
  }
  out += t.render();
  out += "levels: weights+KV / activations; roof: predicted / measured; error: (predicted - measured) / measured; "
         "binding: the higher of achieved/peak and achieved/bandwidth; analyze bound agreement: share of ops whose "
         "main-memory bound (roofline analyze) is the binding resource\n\n";
  out += "accuracy of the roofline bound\n" + stats_table(r.stats, false);
  if (r.calibration) {
    reports::Table c({{"kind", reports::Align::left}, {"op", reports::Align::left}, {"weights", reports::Align::left},
                      {"phase", reports::Align::left}, {"compute efficiency"}, {"memory efficiency"}, {"overhead"},
                      {"points"}});
    auto any = [](const std::string& s) { return s.empty() ? std::string("any") : s; };
    for (const auto& f : r.calibration->fits)
      c.add_row({std::string(to_string(f.kind)), any(f.op), any(f.weights), any(f.phase), reports::percent(f.compute_efficiency),
                 reports::percent(f.memory_efficiency), reports::duration(f.overhead_s), std::to_string(f.points)});
    out += "\ncalibration (fitted on the fit half of the sweep): expected = overhead + max(compute time / compute "
           "efficiency, memory time / memory efficiency)\n" +
           c.render();
    out += "\nheld-out half: expected time against measured\n" + stats_table(r.held_out, true);
    for (const auto& g : r.held_out)
      if (g.kind == "all" && g.phase == "all" && g.expected_median_abs_error)
        out += fmt::format("held-out accuracy: median |error| {} (bound 10%: {}), p90 |error| {} (bound 25%: {})\n",
                           reports::percent(*g.expected_median_abs_error),
                           *g.expected_median_abs_error <= 0.10 ? "met" : "NOT met",
                           reports::percent(*g.expected_p90_abs_error),
                           *g.expected_p90_abs_error <= 0.25 ? "met" : "NOT met");
  }
  return out;
}

nlohmann::json validation_json(const ValidationReport& r) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["model"] = r.model;
  j["hardware"] = r.hardware;
  j["scenario"] = r.scenario;
  j["source"] = r.source;
  j["cache_treatment"] = kCacheTreatment;
  j["notes"] = r.notes;
  j["counting"] = "per op instance: one layer's call (or the per-step op's call); median over layers x repetitions";
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json x = {{"op", row.op}, {"weight_dtype", row.weights}, {"kernel_weights", row.kernel_weights},
                        {"kind", to_string(row.kind)}, {"phase", to_string(row.step.phase)},
                        {"batch", row.step.batch}, {"q_len", row.step.q_len}, {"kv_len", row.step.kv_len},
                        {"flops", row.flops}, {"bytes", row.bytes},
                        {"intensity_flops_per_byte", row.bytes > 0 ? row.flops / row.bytes : 0.0},
                        {"precision", hardware::to_string(row.precision)}, {"peak_flops_per_s", row.peak_flops_per_s},
                        {"stream_level", row.stream_level}, {"activation_level", row.act_level},
                        {"bytes_per_s", row.bytes_per_s}, {"compute_s", row.compute_s}, {"memory_s", row.memory_s},
                        {"predicted_s", row.predicted_s},
                        {"predicted_bound", to_string(row.predicted_bound)},
                        {"main_memory_predicted_s", row.main_memory_predicted_s},
                        {"main_memory_bound", to_string(row.main_memory_bound)},
                        {"measured_median_s", row.measured_s.median}, {"measured_min_s", row.measured_s.min},
                        {"measured_max_s", row.measured_s.max}, {"samples", row.measured_s.samples},
                        {"achieved_flops_per_s", row.achieved_flops_per_s},
                        {"achieved_bytes_per_s", row.achieved_bytes_per_s}, {"roof_fraction", row.roof_fraction},
                        {"binding", to_string(row.binding)}, {"error", row.error()}};
    if (row.expected_s) x["expected_s"] = *row.expected_s;
    if (!row.half.empty()) x["half"] = row.half;
    rows.push_back(x);
  }
  j["ops"] = rows;
  j["statistics"] = stats_json(r.stats);
  if (r.calibration) {
    j["calibration"] = hardware::to_json(*r.calibration);
    j["held_out_statistics"] = stats_json(r.held_out);
  }
  return j;
}

std::string validation_csv(const ValidationReport& r) {
  std::string out =
      "op,weight_dtype,kind,phase,batch,q_len,kv_len,flops,bytes,stream_level,activation_level,compute_s,memory_s,"
      "predicted_s,predicted_bound,"
      "measured_median_s,measured_min_s,measured_max_s,samples,achieved_flops_per_s,achieved_bytes_per_s,"
      "roof_fraction,binding,error,expected_s,half\n";
  for (const auto& row : r.rows)
    out += fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6g},{},{},{:.6g},{:.6g},{:.6g},{},{:.6g},{:.6g},{:.6g},{},{:.6g},{:.6g},{:.6g},{},{:.6g},{},{}\n",
                       row.op, row.weights, to_string(row.kind), to_string(row.step.phase), row.step.batch, row.step.q_len,
                       row.step.kv_len, row.flops, row.bytes, row.stream_level, row.act_level, row.compute_s,
                       row.memory_s, row.predicted_s,
                       to_string(row.predicted_bound), row.measured_s.median, row.measured_s.min, row.measured_s.max,
                       row.measured_s.samples, row.achieved_flops_per_s, row.achieved_bytes_per_s, row.roof_fraction,
                       to_string(row.binding), row.error(),
                       row.expected_s ? fmt::format("{:.6g}", *row.expected_s) : std::string(), row.half);
  return out;
}

}  // namespace roofline
