#include "roofline/validate/validation.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/csv_line.hpp"
#include "common/quantile.hpp"
#include "common/strict_number.hpp"
#include "opmodel/op_names.hpp"
#include "opmodel/step_ops.hpp"

namespace roofline {

std::string fusion_text(const opmodel::Fusion& f) {
  return f.qkv || f.add_norm || f.swiglu ? "fused: " + opmodel::to_string(f) : "unfused";
}

namespace {

Phase phase_of(engine::Phase p) { return p == engine::Phase::prefill ? Phase::prefill : Phase::decode; }

using Key = std::pair<std::string, StepKey>;

std::vector<Measurement> flatten(std::map<Key, std::vector<double>>& groups) {
  std::vector<Measurement> out;
  out.reserve(groups.size());
  for (auto& [key, seconds] : groups) out.push_back({key.first, key.second, std::move(seconds)});
  return out;
}


double parse_number(const std::string& text, const std::string& where) {
  const auto v = common::parse_real(text);
  if (!v.ok()) throw ValidationError(fmt::format("{}: '{}' is not a number", where, text));
  return v.value;
}

std::int64_t parse_count(const std::string& text, const std::string& where, std::int64_t min) {
  const double v = parse_number(text, where);
  if (v != std::floor(v) || v < double(min) || v > 1e12)
    throw ValidationError(fmt::format("{}: '{}' is not an integer >= {}", where, text, min));
  return std::int64_t(v);
}

}  // namespace

namespace {

ValidationRow row_of(const OpPoint& p, const opmodel::Scenario& s, const StepKey& step, double stream_bytes,
                     const hardware::Profile& hw, const Roofs& roofs, const Measurement& m) {
  ValidationRow r;
  r.op = m.op;
  r.weights = std::string(opmodel::to_string(s.weight_dtype));
  r.kind = kernel_class(p.cost, s);
  r.kernel_weights = kernel_weights(p.cost, s);
  r.step = step;
  r.flops = p.cost.flops;
  r.bytes = p.cost.bytes.total();
  r.precision = p.precision;
  r.peak_flops_per_s = roofs.peak(p.precision);
  const HierarchicalTimes t = hierarchical_times(p.cost, r.peak_flops_per_s, stream_bytes, hw);
  r.stream_level = std::string(t.stream_level);
  r.act_level = std::string(t.act_level);
  r.bytes_per_s = t.memory_s > 0 ? r.bytes / t.memory_s : roofs.bytes_per_s;
  r.compute_s = t.compute_s;
  r.memory_s = t.memory_s;
  r.predicted_s = std::max(t.compute_s, t.memory_s);
  r.predicted_bound = t.compute_s > t.memory_s ? Bound::compute : Bound::memory;
  r.main_memory_predicted_s = p.time_s;
  r.main_memory_bound = p.bound;
  r.measured_s = spread_of(m.seconds);
  const double t_s = r.measured_s.median;
  r.achieved_flops_per_s = t_s > 0 ? r.flops / t_s : 0;
  r.achieved_bytes_per_s = t_s > 0 ? r.bytes / t_s : 0;
  r.roof_fraction = t_s > 0 ? r.predicted_s / t_s : 0;
  r.binding = r.achieved_flops_per_s / r.peak_flops_per_s > r.achieved_bytes_per_s / r.bytes_per_s ? Bound::compute
                                                                                                  : Bound::memory;
  return r;
}

}  // namespace

std::vector<Measurement> measurements_from_records(std::span<const engine::KernelRecord> records) {
  std::map<Key, std::vector<double>> groups;
  for (const auto& r : records)
    groups[{std::string(r.op), StepKey{phase_of(r.phase), r.batch, r.q_len, r.kv_len}}].push_back(double(r.ns) * 1e-9);
  return flatten(groups);
}

std::vector<Measurement> parse_measured_csv(const std::string& text, const std::string& origin) {
  static const std::vector<std::string> kHeader = {"op", "phase", "batch", "q_len", "kv_len", "seconds"};
  std::map<Key, std::vector<double>> groups;
  std::stringstream in(text);
  std::string line;
  std::int64_t number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto fields = common::split_csv_line(line);
    const std::vector<std::string> cells(fields.begin(), fields.end());
    const std::string where = fmt::format("{}:{}", origin, number);
    if (!header) {
      if (cells != kHeader)
        throw ValidationError(fmt::format("{}: expected the header '{}'", where, fmt::join(kHeader, ",")));
      header = true;
      continue;
    }
    if (cells.size() != kHeader.size())
      throw ValidationError(fmt::format("{}: {} fields, expected {}", where, cells.size(), kHeader.size()));
    StepKey k;
    if (cells[1] == "prefill")
      k.phase = Phase::prefill;
    else if (cells[1] == "decode")
      k.phase = Phase::decode;
    else
      throw ValidationError(fmt::format("{}: phase '{}' is not prefill or decode", where, cells[1]));
    k.batch = parse_count(cells[2], where, 1);
    k.q_len = parse_count(cells[3], where, 1);
    k.kv_len = parse_count(cells[4], where, 0);
    const double s = parse_number(cells[5], where);
    if (s <= 0) throw ValidationError(fmt::format("{}: seconds must be positive, got {}", where, cells[5]));
    if (cells[0].empty()) throw ValidationError(fmt::format("{}: empty op name", where));
    groups[{cells[0], k}].push_back(s);
  }
  if (!header) throw ValidationError(fmt::format("{}: empty, expected the header '{}'", origin, fmt::join(kHeader, ",")));
  if (groups.empty()) throw ValidationError(fmt::format("{}: no measurements after the header", origin));
  return flatten(groups);
}

Spread spread_of(std::vector<double> v) {
  Spread s;
  s.samples = std::int64_t(v.size());
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  s.median = common::quantile(std::move(v), 0.5);
  return s;
}

std::vector<ValidationRow> validate_ops(const opmodel::ModelConfig& m, const opmodel::Scenario& base,
                                        const hardware::Profile& hw, std::span<const Measurement> measured) {
  const Roofs roofs = Roofs::of(hw);
  std::map<StepKey, std::vector<const Measurement*>> by_step;
  for (const auto& x : measured) by_step[x.step].push_back(&x);
  std::vector<ValidationRow> rows;
  std::vector<std::string> problems;
  for (const auto& [step, ms] : by_step) {
    opmodel::Scenario s = base;
    s.batch = step.batch;
    s.q_len = step.q_len;
    s.kv_len = step.kv_len;
    opmodel::validate(s);
    StepResult result;
    analyze_step(m, s, roofs, step.phase, result);
    const double stream_bytes = step_stream_bytes(result);
    const std::string where = fmt::format("{} batch {} q_len {} kv_len {}", to_string(step.phase), step.batch,
                                          step.q_len, step.kv_len);
    for (const Measurement* x : ms) {
      const OpPoint* p = std::find_if(result.begin(), result.end(), [&](const OpPoint& o) { return o.cost.name == x->op; });
      if (p == result.end()) {
        problems.push_back(fmt::format("{}: '{}' was measured but opmodel has no such op", where, x->op));
        continue;
      }
      rows.push_back(row_of(*p, s, step, stream_bytes, hw, roofs, *x));
    }
    // An op opmodel lists at no cost (MLA's other form, in a step with no tokens of that form) does no work to
    // measure; any other op must have been measured.
    for (const OpPoint& p : result)
      if (p.cost.flops > 0 || p.cost.bytes.total() > 0)
        if (std::none_of(ms.begin(), ms.end(), [&](const Measurement* x) { return x->op == p.cost.name; }))
        problems.push_back(fmt::format("{}: opmodel predicts '{}' but it was not measured", where, p.cost.name));
  }
  if (!problems.empty())
    throw ValidationError(fmt::format("measurements and predictions do not join:\n  {}", fmt::join(problems, "\n  ")));
  return rows;
}

std::vector<GroupStats> statistics(std::span<const ValidationRow> rows) {
  std::map<std::pair<std::string, std::string>, std::vector<const ValidationRow*>> groups;
  for (const auto& r : rows) {
    const std::string kind(to_string(r.kind)), phase(to_string(r.step.phase));
    for (const auto& k : {std::pair{kind, phase}, std::pair{kind, std::string("all")},
                          std::pair{std::string("all"), phase}, std::pair{std::string("all"), std::string("all")}})
      groups[k].push_back(&r);
  }
  std::vector<GroupStats> out;
  for (const auto& [key, rs] : groups) {
    GroupStats g;
    g.kind = key.first;
    g.phase = key.second;
    g.ops = std::int64_t(rs.size());
    std::vector<double> err, fraction, expected;
    double agree = 0;
    for (const ValidationRow* r : rs) {
      err.push_back(std::abs(r->error()));
      fraction.push_back(r->roof_fraction);
      if (auto e = r->expected_error()) expected.push_back(std::abs(*e));
      agree += r->main_memory_bound == r->binding ? 1 : 0;
    }
    g.median_abs_error = common::quantile(err, 0.5);
    g.p90_abs_error = common::quantile(err, 0.9);
    g.bound_agreement = agree / double(rs.size());
    g.median_roof_fraction = common::quantile(fraction, 0.5);
    if (!expected.empty()) {
      g.expected_median_abs_error = common::quantile(expected, 0.5);
      g.expected_p90_abs_error = common::quantile(expected, 0.9);
    }
    out.push_back(g);
  }
  return out;
}

}  // namespace roofline
