#include "roofline/validate/sweep.hpp"

#include <algorithm>

namespace roofline {

StepKey step_key(const EnginePoint& p) {
  const bool prefill = p.phase == engine::Phase::prefill;
  return {prefill ? Phase::prefill : Phase::decode, p.batch, prefill ? p.length : 1, prefill ? 0 : p.length};
}

bool SweepPlan::is_held_out(const StepKey& k) const {
  return std::find(held_out.begin(), held_out.end(), k) != held_out.end();
}

SweepPlan sweep_plan(double kv_bytes_per_token, double kv_budget_bytes) {
  std::vector<EnginePoint> all;
  for (std::int64_t len = 16; len <= 2048; len *= 2) all.push_back({engine::Phase::prefill, 1, len});
  for (std::int64_t len : {16, 64, 256}) all.push_back({engine::Phase::prefill, 4, len});
  for (std::int64_t len : {16, 64}) all.push_back({engine::Phase::prefill, 16, len});
  all.push_back({engine::Phase::prefill, 64, 16});
  for (std::int64_t b : {1, 4, 16, 64})
    for (std::int64_t ctx = 128; ctx <= 8192; ctx *= 2) all.push_back({engine::Phase::decode, b, ctx});
  SweepPlan plan;
  for (const EnginePoint& p : all) {
    // The cache holds the context and the step's own token for each sequence.
    const double kv_bytes = double(p.batch) * double(p.length + 1) * kv_bytes_per_token;
    if (p.phase == engine::Phase::decode && kv_bytes > kv_budget_bytes) {
      plan.skipped.push_back(p);
      continue;
    }
    if (plan.points.size() % 2 == 1) plan.held_out.push_back(step_key(p));
    plan.points.push_back(p);
  }
  return plan;
}

}  // namespace roofline
