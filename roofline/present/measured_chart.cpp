#include "roofline/present/measured_chart.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/units.hpp"
#include "roofline/present/charts.hpp"

namespace roofline {
namespace {

constexpr const char* kFilterKeys[] = {"op", "weight_dtype", "kind", "phase", "precision", "batch", "q_len", "kv_len"};

std::string field(const MeasuredOp& op, const std::string& key) {
  if (key == "op") return op.op;
  if (key == "weight_dtype") return op.weight_dtype;
  if (key == "kind") return op.kind;
  if (key == "phase") return op.phase;
  if (key == "precision") return op.precision;
  if (key == "batch") return std::to_string(op.batch);
  if (key == "q_len") return std::to_string(op.q_len);
  return std::to_string(op.kv_len);  // parse_measured_filter admits no other key
}

bool passes(const MeasuredOp& op, const std::vector<std::pair<std::string, std::string>>& filter) {
  std::map<std::string, bool> any_matched;  // per key: one of its alternatives holds
  for (const auto& [key, value] : filter) any_matched[key] = any_matched[key] || field(op, key) == value;
  return std::all_of(any_matched.begin(), any_matched.end(), [](const auto& kv) { return kv.second; });
}

using Shape = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // batch, q_len, kv_len
Shape shape_of(const MeasuredOp& op) { return {op.batch, op.q_len, op.kv_len}; }

// The legend's words for a step shape: what `plot` says of an analysis's steps.
std::string shape_text(const MeasuredOp& op) {
  return op.phase == "prefill" ? fmt::format("batch {}, {} tokens", op.batch, op.q_len)
                               : fmt::format("batch {}, {} cached", op.batch, op.kv_len);
}

// The middle of the distinct values, the lower one of an even count; v non-empty.
template <class T>
T lower_median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v[(v.size() - 1) / 2];
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_measured_filter(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> filter;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw std::invalid_argument(fmt::format("expected key=value, got '{}'", item));
    const std::string key = item.substr(0, eq);
    if (std::find(std::begin(kFilterKeys), std::end(kFilterKeys), key) == std::end(kFilterKeys))
      throw std::invalid_argument(fmt::format("unknown key '{}' (known: {})", key, fmt::join(kFilterKeys, ", ")));
    filter.emplace_back(key, item.substr(eq + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return filter;
}

std::vector<const MeasuredOp*> select_ops(const ValidationFile& v, const MeasuredSelection& selection) {
  std::vector<const MeasuredOp*> rows;
  for (const MeasuredOp& op : v.ops)
    if (passes(op, selection.filter)) rows.push_back(&op);
  if (selection.all || rows.empty()) return rows;
  // Per phase: the first weight dtype, its median batch, then the median shape at that batch (the lower one of
  // an even count), so a sweep's middle is shown rather than the end of one batch's lengths.
  std::map<std::string, std::pair<std::string, Shape>> chosen;
  for (const MeasuredOp* op : rows) {
    if (chosen.count(op->phase)) continue;
    std::vector<Shape> shapes;
    for (const MeasuredOp* other : rows)
      if (other->phase == op->phase && other->weight_dtype == op->weight_dtype) shapes.push_back(shape_of(*other));
    std::vector<std::int64_t> batches;
    for (const Shape& s : shapes) batches.push_back(std::get<0>(s));
    const std::int64_t batch = lower_median(batches);
    std::erase_if(shapes, [&](const Shape& s) { return std::get<0>(s) != batch; });
    chosen[op->phase] = {op->weight_dtype, lower_median(shapes)};
  }
  std::erase_if(rows, [&](const MeasuredOp* op) {
    const auto& [dtype, shape] = chosen.at(op->phase);
    return op->weight_dtype != dtype || shape_of(*op) != shape;
  });
  return rows;
}

reports::RooflineChart measured_roofline_chart(const ValidationFile& v, const std::vector<const MeasuredOp*>& ops,
                                               const std::optional<hardware::Profile>& hw) {
  reports::RooflineChart chart;
  const std::string group = hw ? hw->name : v.hardware;
  chart.title = fmt::format("{} on {}: predicted (filled) and measured (open) time per op", v.model, v.hardware);
  if (hw) {
    add_roofs(chart, *hw);
  } else {
    std::vector<std::pair<std::string, double>> peaks;
    for (const MeasuredOp* op : ops)
      if (std::find(peaks.begin(), peaks.end(), std::pair{op->precision, op->peak_flops_per_s}) == peaks.end())
        peaks.emplace_back(op->precision, op->peak_flops_per_s);
    for (const auto& [precision, peak] : peaks)
      chart.ceilings.push_back(
          {fmt::format("{} {} (the validation's peak)", precision, reports::si(peak, "FLOP/s")), peak, group});
  }

  // One pair of series per phase and weight dtype, in the file's order.
  std::vector<std::pair<std::string, std::string>> keys;
  for (const MeasuredOp* op : ops)
    if (std::find(keys.begin(), keys.end(), std::pair{op->phase, op->weight_dtype}) == keys.end())
      keys.emplace_back(op->phase, op->weight_dtype);
  // A pair's predicted and measured points, and the lines joining them, share a colour, set apart from the roofs'.
  static constexpr const char* kPairColors[] = {"#c0392b", "#6a3d9a", "#b15928", "#e7298a", "#33a02c", "#1f78b4"};
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const auto& [phase, dtype] = keys[k];
    const std::string color = kPairColors[k % std::size(kPairColors)];
    std::vector<const MeasuredOp*> mine;
    for (const MeasuredOp* op : ops)
      if (op->phase == phase && op->weight_dtype == dtype) mine.push_back(op);
    std::vector<Shape> shapes;
    for (const MeasuredOp* op : mine)
      if (std::find(shapes.begin(), shapes.end(), shape_of(*op)) == shapes.end()) shapes.push_back(shape_of(*op));
    const std::string what = fmt::format("{}: {}, weights {}", phase,
                                         shapes.size() == 1 ? shape_text(*mine.front())
                                                            : fmt::format("{} shapes", shapes.size()),
                                         dtype);
    // Filled markers on the roof, open ones where the kernel got: circles for prefill, squares for decode.
    const bool prefill = phase == "prefill";
    reports::PointSeries predicted{what + ": predicted", {}, prefill ? 7 : 5, group, color};
    reports::PointSeries measured{what + ": measured", {}, prefill ? 6 : 4, group, color};
    reports::Polyline joins{{}, group, color, true};
    // Op names label one shape's points; across many shapes they would repeat at every point (filter by op).
    const bool labelled = shapes.size() == 1;
    for (const MeasuredOp* op : mine) {
      const reports::ChartPoint on_roof{op->intensity_flops_per_byte, op->predicted_flops_per_s(), ""},
          reached{op->intensity_flops_per_byte, op->achieved_flops_per_s, labelled ? op->op : ""};
      predicted.points.push_back(on_roof);
      measured.points.push_back(reached);
      joins.points.insert(joins.points.end(), {on_roof, reached});
    }
    chart.series.push_back(std::move(predicted));
    chart.series.push_back(std::move(measured));
    chart.lines.push_back(std::move(joins));
  }

  chart.notes.push_back(fmt::format("predicted and measured per op instance, from {} (values as the file gives them; "
                                    "the predicted FLOP/s is flops / predicted_s)",
                                    v.origin));
  chart.notes.push_back(fmt::format("{} on {}: {}", v.model, v.hardware, v.scenario));
  chart.notes.push_back("op phase weight_dtype batch q_len kv_len flops bytes intensity_flops_per_byte predicted_s "
                        "measured_median_s achieved_flops_per_s");
  auto number = reports::gnuplot_number;
  for (const MeasuredOp* op : ops)
    chart.notes.push_back(fmt::format("{} {} {} {} {} {} {} {} {} {} {} {}", op->op, op->phase, op->weight_dtype,
                                      op->batch, op->q_len, op->kv_len, number(op->flops), number(op->bytes),
                                      number(op->intensity_flops_per_byte), number(op->predicted_s),
                                      number(op->measured_median_s), number(op->achieved_flops_per_s)));
  return chart;
}

}  // namespace roofline
