// The charts of an analysis and its exploration (reports/ data; reports/ renders them). They draw what the
// result holds and compute nothing of their own.
#pragma once

#include <cstdint>
#include <vector>

#include "reports/roofline_chart.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/core/explore.hpp"

namespace roofline {

// The roofs of a profile: one ceiling per precision (or only `precisions` when given), the main-memory slope
// first, then one slope per cache level with a bandwidth.
void add_roofs(reports::RooflineChart& chart, const hardware::Profile& hw,
               const std::vector<hardware::Precision>& precisions = {});

// One point per op of each step at (intensity, attainable FLOP/s), labelled with the op name.
void add_steps(reports::RooflineChart& chart, const Analysis& a, bool labels);

// The analysis's chart with the exploration's overlays: each compared profile's roofs (at the precisions the
// ops use) and the same request's points on it, and the sweep's decode batches.
reports::RooflineChart roofline_chart(const Analysis& a, const Exploration& e = {});

// Decode points of the linear and attention ops at each batch of the sweep (one series per batch; a batch the
// analysis already shows adds no series), joined per op, the last batch labelled.
void add_batch_sweep(reports::RooflineChart& chart, const Analysis& a, const std::vector<StepResult>& sweep);

}  // namespace roofline

#include "reports/xy_chart.hpp"

namespace roofline {

// Share of each phase's time per op (stacked bars, one per phase; total time in the bar's name).
reports::BarChart breakdown_chart(const Analysis& a);
// Decode step time and tokens/s against batch (the exploration's by_batch), the compute-bound batch marked.
reports::XYChart batch_chart(const Analysis& a, const Exploration& e);
// Decode step time and tokens/s against the cached context (the exploration's by_context).
reports::XYChart context_chart(const Analysis& a, const Exploration& e);
// Weights, KV cache and activations against batch at the analysis's fullest context; the device capacity and
// the largest batch that fits are marked.
reports::XYChart memory_chart(const Analysis& a, const Exploration& e);

}  // namespace roofline
