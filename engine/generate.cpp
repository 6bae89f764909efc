#include "engine/generate.hpp"

#include <chrono>

#include <fmt/format.h>

#include "engine/error.hpp"

namespace engine {

double GenerationResult::decode_tokens_per_s() const {
  double total = 0;
  for (double s : decode_step_s) total += s;
  return total > 0 ? double(tokens.size() * decode_step_s.size()) / total : 0;
}

GenerationResult generate(Model& model, KvCache& cache, const std::vector<std::vector<std::int32_t>>& prompts,
                          std::int64_t gen, const SamplerOptions& sampler, Probe* probe) {
  validate(sampler);
  if (prompts.empty()) throw EngineError("generate", "batch", "no prompts");
  if (gen < 1) throw EngineError("generate", "gen", fmt::format("must be at least 1, got {}", gen));
  const std::int64_t B = std::int64_t(prompts.size()), V = model.config().vocab_size;
  std::vector<std::int64_t> ids;
  std::vector<Sampler> samplers;
  for (std::int64_t i = 0; i < B; ++i) {
    if (prompts[std::size_t(i)].empty()) throw EngineError("generate", "prompt", fmt::format("prompt {} is empty", i));
    ids.push_back(cache.add_sequence());
    samplers.emplace_back(sampler, V, std::uint64_t(i));
  }
  GenerationResult r;
  r.tokens.assign(std::size_t(B), {});
  std::vector<float> logits(std::size_t(B * V));
  std::vector<SequenceStep> step(static_cast<std::size_t>(B));
  std::vector<std::int32_t> next(static_cast<std::size_t>(B));
  using clock = std::chrono::steady_clock;

  auto run_step = [&](Phase phase) {
    const auto t0 = clock::now();
    model.forward(cache, step, logits.data(), phase, probe);
    for (std::int64_t i = 0; i < B; ++i) {
      auto& out = r.tokens[std::size_t(i)];
      next[std::size_t(i)] = samplers[std::size_t(i)].sample(logits.data() + i * V, prompts[std::size_t(i)], out);
      out.push_back(next[std::size_t(i)]);
    }
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  try {
    for (std::int64_t i = 0; i < B; ++i) step[std::size_t(i)] = {ids[std::size_t(i)], prompts[std::size_t(i)]};
    r.prefill_s = run_step(Phase::prefill);
    for (std::int64_t s = 1; s < gen; ++s) {
      for (std::int64_t i = 0; i < B; ++i)
        step[std::size_t(i)] = {ids[std::size_t(i)], std::span<const std::int32_t>(&next[std::size_t(i)], 1)};
      r.decode_step_s.push_back(run_step(Phase::decode));
    }
  } catch (...) {
    for (auto id : ids) cache.release(id);
    throw;
  }
  for (auto id : ids) cache.release(id);
  return r;
}

}  // namespace engine
