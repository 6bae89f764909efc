// The shapes of `roofline validate --sweep`: both sides of the ridge for every op kind, split into a half
// the calibration is fitted on and a held-out half it is judged on.
//
// Prefill: prompts of 16..2048 tokens at batch 1, and short prompts at batch 4, 16 and 64 (the GEMMs whose
// M = batch x prompt crosses the ridge). Decode: contexts of 128..8192 at batch 1, 4, 16 and 64 (GEMV below
// kGemvMaxRows rows, GEMM above; attention always on the memory slope). A decode point whose KV cache would
// exceed the budget is skipped and listed (batch 64 x 8192 positions of Llama-2-7B is 17 GB per layer).
// The halves alternate along the list, so each spans every range of lengths and batches.
#pragma once

#include <cstdint>
#include <vector>

#include "roofline/validate/validation.hpp"
#include "roofline/validate/run.hpp"

namespace roofline {

struct SweepPlan {
  std::vector<EnginePoint> points;   // in run order
  std::vector<EnginePoint> skipped;  // decode points over the KV budget
  std::vector<StepKey> held_out;     // the step shapes of the held-out half
  bool is_held_out(const StepKey& k) const;
};

// kv_bytes_per_token: K and V of one token over every layer (2 x layers x kv_dim x bytes per element).
SweepPlan sweep_plan(double kv_bytes_per_token, double kv_budget_bytes);

StepKey step_key(const EnginePoint& p);

}  // namespace roofline
