#include "roofline/charts.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "reports/units.hpp"

namespace roofline {

void add_roofs(reports::RooflineChart& chart, const hardware::Profile& hw,
               const std::vector<hardware::Precision>& precisions) {
  const std::string group = hw.name;
  const std::string prefix = chart.ceilings.empty() && precisions.empty() ? "" : hw.name + " ";
  for (hardware::Precision p : hw.precisions()) {
    if (!precisions.empty() && std::find(precisions.begin(), precisions.end(), p) == precisions.end()) continue;
    chart.ceilings.push_back(
        {fmt::format("{}{} {}", prefix, to_string(p), reports::si(hw.peak(p)->value, "FLOP/s")), hw.peak(p)->value,
         group});
  }
  const std::string mem = hw.memory.name.empty() ? "memory" : hw.memory.name;
  chart.slopes.push_back({fmt::format("{}{} {}", prefix, mem, reports::si(hw.memory_bytes_per_s(), "B/s")),
                          hw.memory_bytes_per_s(), group});
  for (const auto& c : hw.caches)
    if (c.bytes_per_s)
      chart.slopes.push_back(
          {fmt::format("{}{} {}", prefix, c.name, reports::si(c.bytes_per_s->value, "B/s")), c.bytes_per_s->value, group});
}

void add_steps(reports::RooflineChart& chart, const Analysis& a, bool labels) {
  for (const StepResult& st : a.steps) {
    reports::PointSeries s;
    s.group = a.hardware.name;
    s.marker = st.phase == Phase::prefill ? 7 : 5;  // filled circle, filled square
    s.name = st.phase == Phase::prefill
                 ? fmt::format("{}prefill: batch {}, {} tokens", chart.ceilings.size() > 8 ? a.hardware.name + " " : "",
                               st.batch, st.q_len)
                 : fmt::format("decode: batch {}, {} cached", st.batch, st.kv_len);
    if (!labels) s.name = a.hardware.name + " " + s.name;
    for (const OpPoint& p : st)
      s.points.push_back({p.intensity, p.attainable_flops_per_s, labels ? std::string(p.cost.name) : ""});
    chart.series.push_back(std::move(s));
  }
}

namespace {
std::vector<hardware::Precision> used_precisions(const Analysis& a) {
  std::vector<hardware::Precision> used;
  for (const StepResult& st : a.steps)
    for (const OpPoint& p : st)
      if (std::find(used.begin(), used.end(), p.precision) == used.end()) used.push_back(p.precision);
  return used;
}
}  // namespace

reports::RooflineChart roofline_chart(const Analysis& a, const std::vector<hardware::Profile>& compare) {
  reports::RooflineChart chart;
  const auto& r = a.request;
  chart.title = fmt::format("{} on {}: batch {}, weights {}, activations {}, KV {}, attention {}", a.model.name,
                            compare.empty() ? a.hardware.name : a.hardware.name + " vs others", r.scenario.batch,
                            to_string(r.scenario.weight_dtype), to_string(r.scenario.act_dtype),
                            to_string(r.scenario.kv_dtype), to_string(r.scenario.attention));
  if (compare.empty()) {
    add_roofs(chart, a.hardware);
    add_steps(chart, a, true);
    return chart;
  }
  const auto used = used_precisions(a);
  add_roofs(chart, a.hardware, used);
  add_steps(chart, a, true);
  for (const auto& hw : compare) {
    const Analysis other = analyze(a.model, hw, a.request);
    add_roofs(chart, hw, used);
    add_steps(chart, other, false);
  }
  return chart;
}

void add_batch_sweep(reports::RooflineChart& chart, const Analysis& a, std::int64_t max_batch) {
  const Roofs roofs = Roofs::of(a.hardware);
  opmodel::Scenario s = a.request.scenario;
  s.q_len = 1;
  s.kv_len = a.request.kv_len ? *a.request.kv_len : a.request.prompt.value_or(0);
  std::map<std::string, reports::Polyline> per_op;
  reports::PointSeries series;
  series.name = fmt::format("decode batch sweep 1..{} ({} cached)", max_batch, s.kv_len);
  series.marker = 1;
  series.group = a.hardware.name;
  StepResult step;
  for (std::int64_t b = 1; b <= max_batch; b *= 2) {
    s.batch = b;
    analyze_step(a.model, s, roofs, Phase::decode, step);
    for (const OpPoint& p : step) {
      if (p.cost.kind != opmodel::OpKind::linear && p.cost.kind != opmodel::OpKind::attention) continue;
      const bool last = b * 2 > max_batch;
      series.points.push_back({p.intensity, p.attainable_flops_per_s,
                               last ? fmt::format("{} @{}", p.cost.name, b) : std::string()});
      auto& line = per_op[std::string(p.cost.name)];
      line.group = a.hardware.name;
      line.points.push_back({p.intensity, p.attainable_flops_per_s, ""});
    }
  }
  chart.series.push_back(std::move(series));
  for (auto& [name, line] : per_op) chart.lines.push_back(std::move(line));
}

}  // namespace roofline
