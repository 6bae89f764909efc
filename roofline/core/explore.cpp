#include "roofline/core/explore.hpp"

#include <algorithm>

#include "opmodel/footprint.hpp"

namespace roofline {

std::vector<std::int64_t> powers_of_two(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> v;
  for (std::int64_t x = first; x <= last; x *= 2) v.push_back(x);
  return v;
}

namespace {

enum class Varied { batch, context };

// The analysis's decode step: one new token per sequence after the decode context.
opmodel::Scenario decode_scenario(const Analysis& a) {
  opmodel::Scenario s = a.request.scenario;
  s.q_len = 1;
  s.kv_len = a.request.decode_context();
  return s;
}

// The decode step at powers of two of batch or context, the other held at the analysis's value.
DecodeCurve decode_curve(const Analysis& a, Varied over, std::int64_t first, std::int64_t last) {
  const Roofs roofs = Roofs::of(a.hardware);
  opmodel::Scenario s = decode_scenario(a);
  DecodeCurve c{s.batch, s.kv_len, {}};
  StepResult st;
  for (std::int64_t x = first; x <= last; x *= 2) {
    (over == Varied::batch ? s.batch : s.kv_len) = x;
    opmodel::validate(s);
    analyze_step(a.model, s, roofs, Phase::decode, st);
    c.points.push_back({x, st.time_s, double(s.batch) / st.time_s});
  }
  return c;
}

MemoryCurve memory_curve(const Analysis& a, std::int64_t max_batch) {
  MemoryCurve c;
  c.context_tokens = std::max<std::int64_t>(a.memory.context_tokens, 1);
  opmodel::Scenario s = a.request.scenario;
  for (std::int64_t b = 1; b <= max_batch; b *= 2) {
    s.batch = b;
    MemoryPoint p;
    p.batch = b;
    p.weights_bytes = opmodel::weight_bytes(a.model, s);
    p.kv_cache_bytes = opmodel::kv_cache_bytes(a.model, s, c.context_tokens);
    // Activations scale with the tokens in flight: the analysis's peak, per sequence, times the batch.
    p.activations_bytes = a.memory.activations_bytes / double(a.request.scenario.batch) * double(b);
    if (a.memory.capacity_bytes && p.total_bytes() <= *a.memory.capacity_bytes) c.largest_fit_batch = b;
    c.points.push_back(p);
  }
  return c;
}

}  // namespace

Exploration explore(const Analysis& a, const ExploreSettings& settings) {
  Exploration e;
  for (const auto& hw : settings.compare) e.compared.push_back(analyze(a.model, hw, a.request));
  const Roofs roofs = Roofs::of(a.hardware);
  opmodel::Scenario s = decode_scenario(a);
  for (const std::int64_t b : settings.sweep_batches) {
    s.batch = b;
    analyze_step(a.model, s, roofs, Phase::decode, e.batch_sweep.emplace_back());
  }
  e.by_batch = decode_curve(a, Varied::batch, 1, settings.max_batch);
  e.by_context = decode_curve(a, Varied::context, 128, settings.max_context);
  e.memory = memory_curve(a, settings.max_batch);
  return e;
}

}  // namespace roofline
