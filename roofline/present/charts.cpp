#include "roofline/present/charts.hpp"

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
  for (std::size_t k = 0; k < a.steps.size(); ++k) {
    const StepResult& st = a.steps[k];
    reports::PointSeries s;
    s.group = a.hardware.name;
    s.marker = st.phase == Phase::prefill ? 7 : 5;  // filled circle, filled square
    // Points of an overlaid profile (no labels) name their device in the legend.
    s.name = fmt::format("{}{}", labels ? "" : a.hardware.name + " ",
                         st.phase == Phase::prefill ? fmt::format("prefill: batch {}, {} tokens", st.batch, st.q_len)
                                                    : fmt::format("decode: batch {}, {} cached", st.batch, st.kv_len));
    for (const OpPoint& p : st)
      s.points.push_back({p.intensity, p.attainable_flops_per_s, labels ? std::string(p.cost.name) : ""});
    // Expected times (a calibration or the preset's published efficiencies): the same ops, hollow markers, at
    // the rate they are expected to attain (below their bound points); for the main profile only.
    reports::PointSeries e;
    if (labels && k < a.expected.size()) {
      e.group = a.hardware.name;
      e.marker = st.phase == Phase::prefill ? 6 : 4;  // open circle, open square
      e.name = s.name + " (expected)";
      for (std::size_t i = 0; i < st.op_count; ++i)
        if (const auto& rate = a.expected[k].op_flops_per_s[i]; rate && st.ops[i].intensity > 0)
          e.points.push_back({st.ops[i].intensity, *rate, ""});
    }
    chart.series.push_back(std::move(s));
    if (!e.points.empty()) chart.series.push_back(std::move(e));
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

reports::RooflineChart roofline_chart(const Analysis& a, const Exploration& e) {
  reports::RooflineChart chart;
  const auto& r = a.request;
  const bool compare = !e.compared.empty();
  chart.title = fmt::format("{} on {}: batch {}, weights {}, activations {}, KV {}, attention {}", a.model.name,
                            compare ? a.hardware.name + " vs others" : a.hardware.name, r.scenario.batch,
                            opmodel::describe_weights(r.scenario), to_string(r.scenario.act_dtype),
                            to_string(r.scenario.kv_dtype), to_string(r.scenario.attention));
  const auto used = compare ? used_precisions(a) : std::vector<hardware::Precision>{};
  add_roofs(chart, a.hardware, used);
  add_steps(chart, a, true);
  for (const Analysis& other : e.compared) {
    add_roofs(chart, other.hardware, used);
    add_steps(chart, other, false);
  }
  if (!e.batch_sweep.empty()) add_batch_sweep(chart, a, e.batch_sweep);
  return chart;
}

void add_batch_sweep(reports::RooflineChart& chart, const Analysis& a, const std::vector<StepResult>& sweep) {
  // Open markers, so the sweep reads apart from the analysis's own (filled) points.
  static constexpr int kMarkers[] = {8, 12, 10, 14, 4, 6, 1, 2, 3};
  std::map<std::string, reports::Polyline> per_op;
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    const StepResult& step = sweep[i];
    const bool shown = a.request.decode && a.request.scenario.batch == step.batch;
    reports::PointSeries series;
    series.name = fmt::format("decode: batch {}, {} cached (linear, attention)", step.batch, step.kv_len);
    series.marker = kMarkers[i % std::size(kMarkers)];
    series.group = a.hardware.name;
    for (const OpPoint& p : step) {
      if (p.cost.kind != opmodel::OpKind::linear && p.cost.kind != opmodel::OpKind::attention) continue;
      const bool last = i + 1 == sweep.size();
      series.points.push_back({p.intensity, p.attainable_flops_per_s,
                               last ? fmt::format("{} @{}", p.cost.name, step.batch) : std::string()});
      auto& line = per_op[std::string(p.cost.name)];
      line.group = a.hardware.name;
      line.points.push_back({p.intensity, p.attainable_flops_per_s, ""});
    }
    if (!shown) chart.series.push_back(std::move(series));
  }
  for (auto& [name, line] : per_op) chart.lines.push_back(std::move(line));
}

}  // namespace roofline


namespace roofline {

reports::BarChart breakdown_chart(const Analysis& a) {
  reports::BarChart c;
  c.title = fmt::format("{} on {}: where each step's time goes (batch {})", a.model.name, a.hardware.name,
                        a.request.scenario.batch);
  c.y_label = "share of the step's time (%)";
  std::vector<std::string> names;
  for (const StepResult& st : a.steps)
    for (const OpPoint& p : st)
      if (std::find(names.begin(), names.end(), p.cost.name) == names.end()) names.emplace_back(p.cost.name);
  for (const auto& n : names) c.segments.push_back({n, std::vector<double>(a.steps.size(), 0.0)});
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const StepResult& st = a.steps[i];
    c.categories.push_back(fmt::format("{} ({})", to_string(st.phase), reports::duration(st.time_s)));
    for (const OpPoint& p : st) {
      auto it = std::find(names.begin(), names.end(), p.cost.name);
      c.segments[std::size_t(it - names.begin())].values[i] += 100 * double(p.cost.count) * p.time_s / st.time_s;
    }
  }
  return c;
}

namespace {

// Decode step time (ms, left axis) and tokens/s (right axis) along a curve.
enum class Varied { batch, context };

reports::XYChart decode_chart(const Analysis& a, const DecodeCurve& curve, Varied over) {
  reports::XYChart c;
  c.title = over == Varied::batch
                ? fmt::format("{} on {}: decode step at {} cached tokens against batch", a.model.name, a.hardware.name,
                              curve.kv_len)
                : fmt::format("{} on {}: decode step at batch {} against context", a.model.name, a.hardware.name,
                              curve.batch);
  c.x_label = over == Varied::batch ? "batch (sequences)" : "cached tokens per sequence";
  c.y_label = "decode step time (ms)";
  c.y2_label = "output tokens/s";
  c.log_x = true;
  reports::XYSeries latency{"time per output token (ms)", {}, false, false, {}, false}, rate{"tokens/s (batch / step time)", {}, true, false, {}, false};
  for (const DecodePoint& p : curve.points) {
    latency.points.emplace_back(double(p.x), 1e3 * p.step_s);
    rate.points.emplace_back(double(p.x), p.tokens_per_s);
  }
  c.series = {latency, rate};
  return c;
}

}  // namespace

reports::XYChart batch_chart(const Analysis& a, const Exploration& e) {
  reports::XYChart c = decode_chart(a, e.by_batch, Varied::batch);
  if (a.decode_compute_bound_batch)
    c.vertical.push_back({fmt::format("linears compute-bound from batch {}", *a.decode_compute_bound_batch),
                          double(*a.decode_compute_bound_batch)});
  return c;
}

reports::XYChart context_chart(const Analysis& a, const Exploration& e) {
  return decode_chart(a, e.by_context, Varied::context);
}

reports::XYChart memory_chart(const Analysis& a, const Exploration& e) {
  const MemoryCurve& m = e.memory;
  reports::XYChart c;
  c.title = fmt::format("{} on {}: memory at {} tokens per sequence against batch", a.model.name, a.hardware.name,
                        m.context_tokens);
  c.x_label = "batch (sequences)";
  c.y_label = "memory (GB)";
  c.log_x = true;
  reports::XYSeries weights{"weights", {}, false, false, {}, false}, kv{"KV cache", {}, false, false, {}, false}, act{"activations", {}, false, false, {}, false},
      total{"total", {}, false, false, {}, false};
  for (const MemoryPoint& p : m.points) {
    const double b = double(p.batch);
    weights.points.emplace_back(b, p.weights_bytes / 1e9);
    kv.points.emplace_back(b, p.kv_cache_bytes / 1e9);
    act.points.emplace_back(b, p.activations_bytes / 1e9);
    total.points.emplace_back(b, p.total_bytes() / 1e9);
  }
  c.series = {weights, kv, act, total};
  if (a.memory.capacity_bytes)
    c.horizontal.push_back({fmt::format("capacity {}", reports::si(*a.memory.capacity_bytes, "B")),
                            *a.memory.capacity_bytes / 1e9});
  if (m.largest_fit_batch)
    c.vertical.push_back({fmt::format("largest power-of-two batch that fits: {}", *m.largest_fit_batch),
                          double(*m.largest_fit_batch)});
  return c;
}

}  // namespace roofline
