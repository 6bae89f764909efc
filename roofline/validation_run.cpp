#include "roofline/validation_run.hpp"

#include <algorithm>
#include <chrono>

#include "engine/kv_cache.hpp"

namespace roofline {

void time_engine(engine::Model& model, const std::vector<EnginePoint>& points, const EngineTiming& timing,
                 engine::Probe& probe) {
  const engine::Config& c = model.config();
  for (const EnginePoint& pt : points) {
    const bool prefill = pt.phase == engine::Phase::prefill;
    const std::int64_t cached = prefill ? 0 : pt.length, q = prefill ? pt.length : 1;
    engine::KvCache cache = engine::KvCache::contiguous(c.n_layers, c.kv_dim(), pt.batch, cached + q);
    std::vector<std::int64_t> ids;
    for (std::int64_t b = 0; b < pt.batch; ++b) {
      const std::int64_t id = cache.add_sequence();
      cache.reserve(id, cached + q);
      // The decode context is written directly, not prefilled: attention's time does not depend on the
      // values, and a prefill of 8192 tokens per sequence would dominate a sweep. Small constant rows keep
      // the softmax finite.
      for (std::int64_t layer = 0; layer < c.n_layers; ++layer)
        for (std::int64_t p = 0; p < cached; ++p) {
          std::fill_n(cache.k_row(id, layer, p), c.kv_dim(), 0.01f);
          std::fill_n(cache.v_row(id, layer, p), c.kv_dim(), 0.01f);
        }
      ids.push_back(id);
    }
    // Distinct token ids across the whole step (up to the vocabulary): the embedding lookup then gathers
    // as many different table rows as opmodel counts, not one row reused from cache by every sequence.
    std::vector<std::int32_t> tokens(static_cast<std::size_t>(pt.batch * q));
    for (std::size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = std::int32_t((i * 7919 + 1) % std::size_t(c.vocab_size));
    std::vector<engine::SequenceStep> step;
    for (std::size_t b = 0; b < ids.size(); ++b)
      step.push_back({ids[b], std::span<const std::int32_t>(tokens).subspan(b * std::size_t(q), std::size_t(q))});
    std::vector<float> logits(static_cast<std::size_t>(pt.batch * c.vocab_size));
    double timed_s = 0;
    for (int r = 0; r < timing.warmup + timing.repetitions; ++r) {
      const bool warm = r >= timing.warmup;
      if (warm && timing.point_seconds > 0 && r - timing.warmup >= timing.min_repetitions &&
          timed_s >= timing.point_seconds)
        break;
      for (std::int64_t id : ids) cache.set_length(id, cached);
      const auto t0 = std::chrono::steady_clock::now();
      model.forward(cache, step, logits.data(), pt.phase, warm ? &probe : nullptr);
      if (warm) timed_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }
}

}  // namespace roofline
