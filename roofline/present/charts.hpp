// Roofline charts of an analysis (reports::RooflineChart data; reports/ renders them).
#pragma once

#include <cstdint>
#include <vector>

#include "reports/roofline_chart.hpp"
#include "roofline/core/analysis.hpp"

namespace roofline {

// The roofs of a profile: one ceiling per precision (or only `precisions` when given), the main-memory slope
// first, then one slope per cache level with a bandwidth.
void add_roofs(reports::RooflineChart& chart, const hardware::Profile& hw,
               const std::vector<hardware::Precision>& precisions = {});

// One point per op of each step at (intensity, attainable FLOP/s), labelled with the op name.
void add_steps(reports::RooflineChart& chart, const Analysis& a, bool labels);

// What the charts of an analysis show beside it (the options of `plot` and `report`).
struct ChartSettings {
  std::vector<hardware::Profile> compare;   // further profiles overlaid on the roofline chart
  std::vector<std::int64_t> sweep_batches;  // decode batches added to the roofline chart (none when empty)
  std::int64_t max_batch = 256;             // batch and memory charts: batch 1, 2, 4 ... max_batch
  std::int64_t max_context = 32768;         // context chart: 128, 256 ... max_context cached tokens
};

// first, 2 first, 4 first ... up to last.
std::vector<std::int64_t> powers_of_two(std::int64_t first, std::int64_t last);

// The analysis's chart, with the settings' overlays: each compared profile's roofs (at the precisions the ops
// use) and the same request's points on it, and the sweep's decode batches.
reports::RooflineChart roofline_chart(const Analysis& a, const ChartSettings& settings = {});

// Decode points of the linear and attention ops at each batch (one series per batch; a batch the analysis
// already shows adds no series), joined per op, the last batch labelled.
void add_batch_sweep(reports::RooflineChart& chart, const Analysis& a, const std::vector<std::int64_t>& batches);

}  // namespace roofline

#include "reports/xy_chart.hpp"

namespace roofline {

// Share of each phase's time per op (stacked bars, one per phase; total time in the bar's name).
reports::BarChart breakdown_chart(const Analysis& a);
// Decode step time and tokens/s against batch 1, 2, 4, ... max_batch, at the analysis's decode context.
reports::XYChart batch_chart(const Analysis& a, std::int64_t max_batch);
// Decode step time and tokens/s against the cached context 128, 256, ... max_context, at the analysis's batch.
reports::XYChart context_chart(const Analysis& a, std::int64_t max_context);
// Weights, KV cache and activations against batch at the analysis's fullest context; the device capacity and
// the largest batch that fits are marked.
reports::XYChart memory_chart(const Analysis& a, std::int64_t max_batch);

}  // namespace roofline
