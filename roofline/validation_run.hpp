// Timing the reference engine at chosen step shapes for `roofline validate`: warm-up runs without the probe,
// then repetitions with it, each re-running the same step (the cache length is reset, as
// bench/bench_engine.cpp does), so every repetition times the same shape with warm caches.
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
  int warmup = 1;       // untimed runs before the repetitions
  int repetitions = 5;  // timed runs: samples per op = repetitions x instances (layers)
  // When > 0, a point stops repeating once its timed runs have taken this long and there were at least
  // min_repetitions (a 2048-token prefill of 7B layers takes seconds; a decode step, milliseconds).
  double point_seconds = 0;
  int min_repetitions = 3;
};

// Appends the probe records of every repetition at every point. Throws engine::EngineError.
void time_engine(engine::Model& model, const std::vector<EnginePoint>& points, const EngineTiming& timing,
                 engine::Probe& probe);

}  // namespace roofline
