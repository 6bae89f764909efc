#include "roofline/present/validation_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "reports/table.hpp"
#include "reports/units.hpp"

namespace roofline {
namespace {

using Json = nlohmann::ordered_json;
using Terms = std::vector<std::pair<std::string, std::string>>;

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

std::string json_cell(const std::string& key, const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_number_integer()) return v.dump();
  if (!v.is_number()) return v.dump();  // booleans, and whatever nests deeper than a table
  const double x = v.get<double>();
  if (ends_with(key, "_per_s")) return reports::si(x, "/s");
  if (ends_with(key, "_s")) return reports::duration(x);
  for (const char* share : {"error", "fraction", "agreement", "efficiency", "share"})
    if (key.find(share) != std::string::npos) return reports::percent(x);
  return fmt::format("{:.4g}", x);
}

bool is_table(const Json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_object(); });
}

std::string table_html(const Json& rows, const std::string& caption) {
  std::vector<std::string> text_keys, other_keys;
  for (const Json& row : rows)
    for (const auto& [key, value] : row.items()) {
      auto& keys = value.is_string() ? text_keys : other_keys;
      if (std::find(text_keys.begin(), text_keys.end(), key) == text_keys.end() &&
          std::find(other_keys.begin(), other_keys.end(), key) == other_keys.end())
        keys.push_back(key);
    }
  std::vector<reports::Table::Column> columns;
  for (const auto& k : text_keys) columns.push_back({k, reports::Align::left});
  for (const auto& k : other_keys) columns.push_back({k, reports::Align::right});
  reports::Table t(columns);
  for (const Json& row : rows) {
    std::vector<std::string> cells;
    for (const auto& c : columns) cells.push_back(row.contains(c.title) ? json_cell(c.title, row[c.title]) : "-");
    t.add_row(cells);
  }
  return reports::html_table(t, caption);
}

reports::HtmlSection context_section(const ValidationFile& v, const std::optional<hardware::Profile>& hw,
                                     const ReportInfo& info) {
  Terms t{{"Model", v.model},         {"Hardware", v.hardware}, {"Scenario", v.scenario},
          {"Source", v.source},       {"Caches", v.cache_treatment},
          {"Validation file", fmt::format("{} ({} ops)", v.origin, v.ops.size())}};
  for (const auto& note : v.notes) t.push_back({"Note", note});
  if (hw) {
    t.push_back({"Roofs drawn", fmt::format("{} ({})", hw->description.empty() ? hw->name
                                                                               : fmt::format("{}: {}", hw->name, hw->description),
                                            hw->origin)});
    for (auto& term : roof_terms(*hw)) t.push_back(std::move(term));
  } else {
    t.push_back({"Roofs drawn", "the peaks the validation predicted with (no profile given: --hw adds the memory slopes)"});
  }
  t.push_back({"Made by", fmt::format("roofline {}, {}", info.version, info.generated_at)});
  t.push_back({"Command", info.command});
  return {"validation-context", "Validation context", reports::html_terms(t)};
}

reports::HtmlSection ops_section(const ValidationFile& v) {
  const bool expected = std::any_of(v.ops.begin(), v.ops.end(), [](const MeasuredOp& op) { return op.expected_s; });
  std::vector<reports::Table::Column> cols = {
      {"weights", reports::Align::left}, {"phase", reports::Align::left}, {"B"}, {"q"}, {"kv"},
      {"op", reports::Align::left}, {"kind", reports::Align::left}, {"FLOP/B"}, {"predicted"},
      {"bound", reports::Align::left}, {"measured"}, {"achieved FLOP/s"}, {"achieved B/s"}, {"roof"}, {"error"}};
  if (expected) cols.push_back({"expected"});
  reports::Table t(cols);
  for (const MeasuredOp& op : v.ops) {
    std::vector<std::string> cells = {
        op.weight_dtype, op.phase, std::to_string(op.batch), std::to_string(op.q_len), std::to_string(op.kv_len),
        op.op, op.kind, fmt::format("{:.3g}", op.intensity_flops_per_byte), reports::duration(op.predicted_s),
        op.predicted_bound, reports::duration(op.measured_median_s), reports::si(op.achieved_flops_per_s, "FLOP/s"),
        reports::si(op.achieved_bytes_per_s, "B/s"), reports::percent(op.roof_fraction),
        fmt::format("{:+.0f}%", op.error() * 100)};
    if (expected) cells.push_back(op.expected_s ? reports::duration(*op.expected_s) : "-");
    t.add_row(cells);
  }
  std::string body = reports::html_paragraph(
      "Per op instance (one layer's call): predicted is the roofline bound, measured the median; roof: the share "
      "of the attainable performance reached (predicted / measured); error: (predicted - measured) / measured.");
  return {"validation-ops", "Per-op predicted and measured time", body + reports::html_table(t)};
}

reports::HtmlSection chart_section(const ValidationFile& v, const std::optional<hardware::Profile>& hw,
                                   const MeasuredSelection& selection) {
  const auto ops = select_ops(v, selection);
  const auto chart = measured_roofline_chart(v, ops, hw);
  const std::string shown =
      selection.all ? "every row that passes the filter"
                    : "one step shape per phase: the first weight dtype in the file, the median batch and the median "
                      "length at that batch (--measured-points all shows every row)";
  const std::string caption = fmt::format(
      "Each op's predicted point (filled: intensity, flops / predicted_s) and measured point (open: achieved "
      "FLOP/s), joined by a dotted line: its gap to the roof. Shown: {} of {} rows, {}; an op without FLOPs "
      "(embed) has no point on the log axes.",
      ops.size(), v.ops.size(), shown);
  return {"validation-chart", "Roofline with measured points",
          reports::html_figure(reports::inline_svg(reports::render_svg(chart), "validation-chart-", chart.title),
                               caption)};
}

}  // namespace

std::string json_html(const Json& value, const std::string& caption) {
  if (is_table(value)) return table_html(value, caption);
  if (value.is_object()) {
    Terms scalars;
    std::string nested;
    for (const auto& [key, v] : value.items()) {
      if (v.is_structured() && !v.empty()) nested += json_html(v, caption.empty() ? key : fmt::format("{}: {}", caption, key));
      else scalars.push_back({key, json_cell(key, v)});
    }
    std::string html = caption.empty() ? "" : reports::html_paragraph(caption);
    if (!scalars.empty()) html += reports::html_terms(scalars);
    return html + nested;
  }
  if (value.is_array()) {
    std::string items;
    for (const Json& e : value) {
      if (!items.empty()) items += ", ";
      items += json_cell("", e);
    }
    return reports::html_paragraph(fmt::format("{}{}", caption.empty() ? "" : caption + ": ",
                                               items.empty() ? "none" : items));
  }
  return reports::html_paragraph(fmt::format("{}{}", caption.empty() ? "" : caption + ": ", json_cell("", value)));
}

std::string validation_title(const ValidationFile& v) { return fmt::format("validation of {} on {}", v.model, v.hardware); }

std::vector<reports::HtmlSection> validation_sections(const ValidationFile& v, const std::optional<hardware::Profile>& hw,
                                                      const MeasuredSelection& selection, const ReportInfo& info) {
  std::vector<reports::HtmlSection> s{context_section(v, hw, info)};
  s.push_back({"validation-statistics", "Accuracy of the roofline bound",
               json_html(v.statistics, "per op kind and phase: |predicted - measured| / measured")});
  if (v.held_out_statistics)
    s.push_back({"validation-held-out", "Held-out accuracy",
                 json_html(*v.held_out_statistics, "the shapes the calibration was not fitted on")});
  if (v.calibration) s.push_back({"validation-calibration", "Calibration", json_html(*v.calibration, "")});
  s.push_back(ops_section(v));
  s.push_back(chart_section(v, hw, selection));
  return s;
}

}  // namespace roofline
