// Roofline charts of an analysis (reports::RooflineChart data; reports/ renders them).
#pragma once

#include <cstdint>
#include <vector>

#include "reports/roofline_chart.hpp"
#include "roofline/analysis.hpp"

namespace roofline {

// The roofs of a profile: one ceiling per precision (or only `precisions` when given), the main-memory slope
// first, then one slope per cache level with a bandwidth.
void add_roofs(reports::RooflineChart& chart, const hardware::Profile& hw,
               const std::vector<hardware::Precision>& precisions = {});

// One point per op of each step at (intensity, attainable FLOP/s), labelled with the op name.
void add_steps(reports::RooflineChart& chart, const Analysis& a, bool labels);

// The analysis's chart; with `compare`, the same request on each further profile (its roofs at the
// precisions the ops use, and its points) is overlaid.
reports::RooflineChart roofline_chart(const Analysis& a, const std::vector<hardware::Profile>& compare = {});

// Decode points of the linear and attention ops for batch = 1, 2, 4, ... max_batch, joined per op.
void add_batch_sweep(reports::RooflineChart& chart, const Analysis& a, std::int64_t max_batch);

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
