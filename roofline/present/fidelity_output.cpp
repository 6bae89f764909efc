#include "roofline/present/fidelity_output.hpp"

#include <fmt/format.h>

#include "reports/table.hpp"

namespace roofline {
namespace {

std::string figure(const std::string& metric, double v) {
  return metric == "ttft_ms" ? fmt::format("{:.1f} ms", v) : fmt::format("{:.0f} tok/s", v);
}
std::string percent(double e) { return fmt::format("{:+.0f}%", 100 * e); }

reports::Table points_table(const Fidelity& f) {
  using reports::Align;
  reports::Table t({{"id", Align::left}, {"set", Align::left}, {"model", Align::left}, {"hw", Align::left},
                    {"tp"}, {"prec", Align::left}, {"batch"}, {"isl"}, {"osl"}, {"metric", Align::left}, {"measured"},
                    {"bound"}, {"expected"}, {"error"}, {"source", Align::left}});
  for (const FidelityPoint& p : f.points) {
    const FidelityRow& r = p.row;
    const auto e = p.error();
    t.add_row({r.id, r.set, r.model, r.hw, std::to_string(r.tp), r.precision, std::to_string(r.batch), std::to_string(r.isl),
               std::to_string(r.osl), r.metric == "ttft_ms" ? "TTFT" : "tok/s/GPU", figure(r.metric, r.measured),
               figure(r.metric, p.bound), p.expected ? figure(r.metric, *p.expected) : "-", e ? percent(*e) : "-",
               r.source});
  }
  return t;
}

reports::Table groups_table(const Fidelity& f) {
  using reports::Align;
  reports::Table t({{"set", Align::left}, {"hw", Align::left}, {"rows"}, {"judged"}, {"median |error|"},
                    {"max |error|"}, {"within 20%"}});
  for (const FidelityGroup& g : f.groups)
    t.add_row({g.set, g.hw, std::to_string(g.rows), std::to_string(g.judged),
               g.judged ? fmt::format("{:.1f}%", 100 * g.median_abs_error) : "-",
               g.judged ? fmt::format("{:.1f}%", 100 * g.max_abs_error) : "-",
               fmt::format("{} of {}", g.within_20, g.judged)});
  return t;
}

// A cell as Markdown: a '|' inside it would end the cell.
std::string escaped(const std::string& cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string markdown(const reports::Table& t) {
  auto row_of = [](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const auto& cell : cells) out.append(" ").append(escaped(cell)).append(" |");
    return out.append("\n");
  };
  std::vector<std::string> titles, rules;
  for (const auto& c : t.columns()) {
    titles.push_back(c.title);
    rules.push_back(c.align == reports::Align::left ? "---" : "---:");
  }
  std::string out = row_of(titles) + row_of(rules);
  for (const auto& row : t.rows()) out.append(row_of(row));
  return out;
}

reports::Table gemm_groups_table(const GemmFidelity& f) {
  using reports::Align;
  reports::Table t({{"hw", Align::left}, {"dtype", Align::left}, {"shapes"}, {"median |error|"}, {"p90 |error|"},
                    {"mean error"}, {"within 20%"}});
  for (const GemmGroup& g : f.groups)
    t.add_row({g.hw, g.dtype, std::to_string(g.rows), fmt::format("{:.1f}%", 100 * g.median_abs_error),
               fmt::format("{:.1f}%", 100 * g.p90_abs_error), fmt::format("{:+.1f}%", 100 * g.mean_error),
               fmt::format("{} of {}", g.within_20, g.rows)});
  return t;
}

}  // namespace

std::string render_table(const GemmFidelity& f) { return gemm_groups_table(f).render(); }
std::string render_markdown(const GemmFidelity& f) { return markdown(gemm_groups_table(f)); }

nlohmann::json to_json(const GemmFidelity& f) {
  nlohmann::json points = nlohmann::json::array();
  for (const GemmPoint& p : f.points)
    points.push_back({{"hw", p.row.hw}, {"dtype", p.row.dtype}, {"b", p.row.b}, {"m", p.row.m}, {"n", p.row.n},
                      {"k", p.row.k}, {"measured_s", p.measured_s}, {"expected_s", p.expected_s}, {"error", p.error()}});
  nlohmann::json groups = nlohmann::json::array();
  for (const GemmGroup& g : f.groups)
    groups.push_back({{"hw", g.hw}, {"dtype", g.dtype}, {"shapes", g.rows}, {"median_abs_error", g.median_abs_error},
                      {"p90_abs_error", g.p90_abs_error}, {"mean_error", g.mean_error},
                      {"within_20_percent", g.within_20}});
  return {{"schema_version", 1}, {"points", points}, {"groups", groups}};
}

std::string render_table(const Fidelity& f) {
  return points_table(f).render() + "\n" + groups_table(f).render();
}

std::string render_markdown(const Fidelity& f) {
  return markdown(points_table(f)) + "\n" + markdown(groups_table(f));
}

nlohmann::json to_json(const Fidelity& f) {
  nlohmann::json points = nlohmann::json::array();
  for (const FidelityPoint& p : f.points) {
    const FidelityRow& r = p.row;
    const auto e = p.error();
    points.push_back({{"id", r.id}, {"set", r.set}, {"model", r.model}, {"hw", r.hw}, {"tp", r.tp}, {"precision", r.precision},
                      {"batch", r.batch}, {"isl", r.isl}, {"osl", r.osl}, {"metric", r.metric},
                      {"measured", r.measured}, {"bound", p.bound},
                      {"expected", p.expected ? nlohmann::json(*p.expected) : nlohmann::json(nullptr)},
                      {"error", e ? nlohmann::json(*e) : nlohmann::json(nullptr)},
                      {"expectation_source", p.expectation_source}, {"source", r.source}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const FidelityGroup& g : f.groups)
    groups.push_back({{"set", g.set}, {"hw", g.hw}, {"rows", g.rows}, {"judged", g.judged},
                      {"median_abs_error", g.median_abs_error}, {"max_abs_error", g.max_abs_error},
                      {"within_20_percent", g.within_20}});
  return {{"schema_version", 1}, {"points", points}, {"groups", groups}};
}

}  // namespace roofline
