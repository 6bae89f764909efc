// Generation: prefill the batch's prompts in one step, then one decode step per new token, sampling each
// sequence's next token from its logits. As transformers' max_new_tokens: gen tokens per sequence, the
// first from the prefill's logits, so gen - 1 decode steps.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model.hpp"
#include "engine/sampler.hpp"

namespace engine {

struct GenerationResult {
  std::vector<std::vector<std::int32_t>> tokens;  // [batch][gen] new tokens
  double prefill_s = 0;                           // prefill step and first sampling: time to first token
  std::vector<double> decode_step_s;              // each decode step, forward and sampling
  double decode_tokens_per_s() const;             // batch * steps / sum of decode steps
};

// Runs the prompts as one batch, each in a new sequence of `cache` (released at the end).
GenerationResult generate(Model& model, KvCache& cache, const std::vector<std::vector<std::int32_t>>& prompts,
                          std::int64_t gen, const SamplerOptions& sampler, Probe* probe);

}  // namespace engine
