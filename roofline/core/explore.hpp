// What the charts of an analysis show beside it, computed once as part of the result (so `plot`, `report` and
// `analyze --format json` show the same numbers, and writers compute nothing): the same request on further
// profiles, decode steps at further batches, the decode step against batch and against context, and memory
// against batch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hardware/profile.hpp"
#include "roofline/core/analysis.hpp"

namespace roofline {

struct ExploreSettings {
  std::vector<hardware::Profile> compare;   // further profiles, each given the same request
  std::vector<std::int64_t> sweep_batches;  // decode steps at these batches (none when empty)
  std::int64_t max_batch = 256;             // decode and memory curves: batch 1, 2, 4 ... max_batch
  std::int64_t max_context = 32768;         // context curve: 128, 256 ... max_context cached tokens
};

// first, 2 first, 4 first ... up to last.
std::vector<std::int64_t> powers_of_two(std::int64_t first, std::int64_t last);

// The decode step at one point of a curve.
struct DecodePoint {
  std::int64_t x = 0;         // the batch or the cached tokens, whichever the curve varies
  double step_s = 0;          // the decode step's time (the bound)
  double tokens_per_s = 0;    // batch / step_s
};
struct DecodeCurve {
  std::int64_t batch = 0, kv_len = 0;  // the analysis's values; the varied one is each point's x
  std::vector<DecodePoint> points;
};

struct MemoryPoint {
  std::int64_t batch = 0;
  double weights_bytes = 0, kv_cache_bytes = 0;
  double activations_bytes = 0;  // the analysis's peak, per sequence, times the batch
  double total_bytes() const { return weights_bytes + kv_cache_bytes + activations_bytes; }
};
struct MemoryCurve {
  std::int64_t context_tokens = 0;  // per sequence, the analysis's fullest
  std::vector<MemoryPoint> points;
  std::optional<std::int64_t> largest_fit_batch;  // the largest batch of the curve within the capacity
};

struct Exploration {
  std::vector<Analysis> compared;      // parallel to the settings' compare
  std::vector<StepResult> batch_sweep;  // decode at each of the sweep's batches, the analysis's context
  DecodeCurve by_batch;                // 1, 2, 4 ... max_batch at the analysis's decode context
  DecodeCurve by_context;              // 128, 256 ... max_context at the analysis's batch
  MemoryCurve memory;                  // 1, 2, 4 ... max_batch at the analysis's fullest context
};

// Throws as analyze() does (opmodel::ModelError, hardware::ProfileError) for a point the model cannot take.
Exploration explore(const Analysis& a, const ExploreSettings& settings);

}  // namespace roofline
