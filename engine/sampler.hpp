// Sampler: turns one sequence's logits into its next token. Order as in transformers' generate, with
// OpenAI/vLLM-style additive penalties: repetition penalty over prompt and output (logit / p if positive,
// * p if negative), presence and frequency penalties over the output (logit -= presence * [count > 0] +
// frequency * count), then greedy argmax at temperature 0, else logits / temperature, top-k, softmax,
// top-p (the smallest prefix of the sorted probabilities reaching p), and a seeded draw.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace engine {

struct SamplerOptions {
  double temperature = 0;  // 0: greedy
  std::int64_t top_k = 0;  // 0: off
  double top_p = 1;        // 1: off
  double repetition_penalty = 1;
  double presence_penalty = 0;
  double frequency_penalty = 0;
  std::uint64_t seed = 0;
};

// Throws EngineError("sampler", field, ...) for a value outside its range.
void validate(const SamplerOptions& o);

class Sampler {
 public:
  Sampler(const SamplerOptions& o, std::int64_t vocab, std::uint64_t stream);  // one stream per sequence
  // The next token; `logits` [vocab] is modified. prompt and output are the sequence's tokens so far.
  std::int32_t sample(float* logits, std::span<const std::int32_t> prompt, std::span<const std::int32_t> output);

 private:
  SamplerOptions o_;
  std::int64_t vocab_;
  std::mt19937_64 rng_;
  std::vector<std::int32_t> counts_;
  std::vector<std::int32_t> order_;
};

}  // namespace engine
