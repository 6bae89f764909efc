// Timing the reference engine at chosen step shapes for `roofline validate`: warm-up visits without the
// probe, then timed visits with it. Each repetition visits every point in turn (not one point's repetitions
// back to back): a stretch of seconds in which this shared kind of machine runs slow then lands on one sample
// of many points, not on every sample of a few (which a fit cannot tell from those shapes being slow). The
// points share one paged KV cache sized for the largest, its blocks taken and given back at each visit.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model.hpp"
#include "engine/probe.hpp"

namespace roofline {

struct EnginePoint {
  engine::Phase phase = engine::Phase::prefill;
  std::int64_t batch = 1;
  std::int64_t length = 1;  // prefill: prompt tokens per sequence; decode: tokens cached before the step
};

struct EngineTiming {
  int warmup = 1;       // untimed visits of every point before the repetitions
  int repetitions = 5;  // timed visits: samples per op = repetitions x instances (layers)
  // When > 0, a point stops repeating once its timed runs have taken this long and there were at least
  // min_repetitions (a 2048-token prefill of 7B layers takes seconds; a decode step, milliseconds).
  double point_seconds = 0;
  int min_repetitions = 3;
};

// Appends the probe records of every repetition at every point. Throws engine::EngineError.
void time_engine(engine::Model& model, const std::vector<EnginePoint>& points, const EngineTiming& timing,
                 engine::Probe& probe);

}  // namespace roofline
