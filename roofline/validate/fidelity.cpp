#include "roofline/validate/fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "common/quantile.hpp"
#include "common/strict_number.hpp"
#include "hardware/layers.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/analysis.hpp"

namespace roofline {
namespace {

constexpr const char* kHeader = "id,model,hw,precision,batch,isl,osl,metric,measured,set,source";
constexpr std::int64_t kMaxTokens = std::int64_t{1} << 20;

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// The figure in the metric's unit from a request's prefill and decode times.
double metric_value(const FidelityRow& r, double ttft_s, double tpot_s) {
  if (r.metric == "ttft_ms") return ttft_s * 1e3;
  return double(r.batch * r.osl) / (ttft_s + double(r.osl - 1) * tpot_s);  // out_tok_s_per_gpu
}

}  // namespace

std::optional<double> FidelityPoint::error() const {
  if (!expected) return std::nullopt;
  return *expected / row.measured - 1;
}

std::vector<FidelityRow> parse_fidelity_csv(const std::string& text, const std::string& origin) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    throw FidelityError(origin, "header", fmt::format("must be '{}'", kHeader));
  std::vector<FidelityRow> rows;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", origin, n);
    const auto cells = split(line);
    if (cells.size() != 11)
      throw FidelityError(where, "", fmt::format("expected 11 columns, got {} (fields may not hold commas)", cells.size()));
    auto integer = [&](const char* column, const std::string& s) {
      std::int64_t v = 0;
      if (const std::string problem = common::integer_in_range(s, 1, kMaxTokens, v); !problem.empty())
        throw FidelityError(where, std::string("column '") + column + "'", problem);
      return v;
    };
    FidelityRow r;
    r.id = cells[0];
    r.model = cells[1];
    r.hw = cells[2];
    r.precision = cells[3];
    r.batch = integer("batch", cells[4]);
    r.isl = integer("isl", cells[5]);
    r.osl = integer("osl", cells[6]);
    r.metric = cells[7];
    const auto measured = common::parse_real(cells[8]);
    if (!measured.ok() || !(measured.value > 0))
      throw FidelityError(where, "column 'measured'", fmt::format("expected a positive number, got '{}'", cells[8]));
    r.measured = measured.value;
    r.set = cells[9];
    r.source = cells[10];
    if (r.precision != "fp16" && r.precision != "fp8")
      throw FidelityError(where, "column 'precision'", fmt::format("expected fp16 or fp8, got '{}'", r.precision));
    if (r.metric != "ttft_ms" && r.metric != "out_tok_s_per_gpu")
      throw FidelityError(where, "column 'metric'", fmt::format("expected ttft_ms or out_tok_s_per_gpu, got '{}'",
                                                                r.metric));
    if (r.set != "primary" && r.set != "held_out")
      throw FidelityError(where, "column 'set'", fmt::format("expected primary or held_out, got '{}'", r.set));
    if (r.id.empty() || r.source.empty()) throw FidelityError(where, "", "id and source must not be empty");
    rows.push_back(r);
  }
  if (rows.empty()) throw FidelityError(origin, "", "has no rows");
  return rows;
}

Fidelity judge_fidelity(const std::vector<FidelityRow>& rows) {
  Fidelity f;
  for (const FidelityRow& r : rows) {
    const auto model = opmodel::resolve_model(r.model);
    const auto hw = hardware::build_profile({r.hw, std::nullopt, {}, false});
    AnalysisRequest req;
    const opmodel::DType d = r.precision == "fp8" ? opmodel::DType::fp8 : opmodel::DType::fp16;
    req.scenario.batch = r.batch;
    req.scenario.weight_dtype = req.scenario.act_dtype = req.scenario.kv_dtype = d;
    req.prompt = r.isl;
    if (r.metric == "out_tok_s_per_gpu" && r.osl > 1) req.gen = r.osl - 1;
    else req.decode = false;
    const Analysis a = analyze(model, hw, req);
    FidelityPoint p;
    p.row = r;
    const double ttft = a.steps.front().time_s;
    const double tpot = a.whole_request ? a.whole_request->tpot_s : 0;
    p.bound = metric_value(r, ttft, tpot);
    if (const hardware::Calibration* c = hw.expectations()) p.expectation_source = c->source;
    const std::optional<double> e_ttft = a.expected.empty() ? std::nullopt : a.expected.front().total_s;
    const std::optional<double> e_tpot = a.whole_request ? a.whole_request->expected_tpot_s : std::optional(0.0);
    if (e_ttft && e_tpot) p.expected = metric_value(r, *e_ttft, *e_tpot);
    f.points.push_back(p);
  }
  // Groups: each set per hardware, then each set over all of it.
  std::map<std::pair<std::string, std::string>, std::vector<const FidelityPoint*>> by;
  for (const FidelityPoint& p : f.points) {
    by[{p.row.set, p.row.hw}].push_back(&p);
    by[{p.row.set, "all"}].push_back(&p);
  }
  for (const auto& [key, points] : by) {
    FidelityGroup g;
    g.set = key.first;
    g.hw = key.second;
    g.rows = points.size();
    std::vector<double> errors;
    for (const FidelityPoint* p : points)
      if (const auto e = p->error()) errors.push_back(std::abs(*e));
    g.judged = errors.size();
    if (!errors.empty()) {
      g.median_abs_error = common::quantile(errors, 0.5);
      g.max_abs_error = *std::max_element(errors.begin(), errors.end());
      g.within_20 = std::size_t(std::count_if(errors.begin(), errors.end(), [](double e) { return e <= 0.2; }));
    }
    f.groups.push_back(g);
  }
  return f;
}

}  // namespace roofline
