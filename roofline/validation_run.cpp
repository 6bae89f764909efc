#include "roofline/validation_run.hpp"

#include <algorithm>
#include <chrono>

#include "engine/kv_cache.hpp"

namespace roofline {
namespace {

constexpr std::int64_t kBlock = 16;  // positions per block of the shared paged cache

std::int64_t cached_of(const EnginePoint& pt) { return pt.phase == engine::Phase::prefill ? 0 : pt.length; }
std::int64_t queries_of(const EnginePoint& pt) { return pt.phase == engine::Phase::prefill ? pt.length : 1; }

// One run of the step at pt, its sequences' blocks taken from `cache` and given back after; returns the
// seconds of the forward pass. The decode context is not prefilled: attention's time does not depend on
// the values, and a prefill of 8192 tokens per sequence would dominate a sweep. Whatever earlier visits
// left in the blocks (zeros at first: Buffer zero-fills) keeps the softmax finite.
double run_point(engine::Model& model, engine::KvCache& cache, const EnginePoint& pt, engine::Probe* probe) {
  const engine::Config& c = model.config();
  const std::int64_t cached = cached_of(pt), q = queries_of(pt);
  std::vector<std::int64_t> ids;
  for (std::int64_t b = 0; b < pt.batch; ++b) {
    const std::int64_t id = cache.add_sequence();
    cache.reserve(id, cached + q);
    cache.set_length(id, cached);
    ids.push_back(id);
  }
  // Distinct token ids across the whole step (up to the vocabulary): the embedding lookup then gathers
  // as many different table rows as opmodel counts, not one row reused from cache by every sequence.
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(pt.batch * q));
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = std::int32_t((i * 7919 + 1) % std::size_t(c.vocab_size));
  std::vector<engine::SequenceStep> step;
  for (std::size_t b = 0; b < ids.size(); ++b)
    step.push_back({ids[b], std::span<const std::int32_t>(tokens).subspan(b * std::size_t(q), std::size_t(q))});
  std::vector<float> logits(static_cast<std::size_t>(pt.batch * c.vocab_size));
  const auto t0 = std::chrono::steady_clock::now();
  model.forward(cache, step, logits.data(), pt.phase, probe);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::int64_t id : ids) cache.release(id);
  return seconds;
}

}  // namespace

void time_engine(engine::Model& model, const std::vector<EnginePoint>& points, const EngineTiming& timing,
                 engine::Probe& probe) {
  const engine::Config& c = model.config();
  std::int64_t blocks = 1;  // the largest point's: points take turns, so one cache serves them all
  for (const EnginePoint& pt : points)
    blocks = std::max(blocks, pt.batch * ((cached_of(pt) + queries_of(pt) + kBlock - 1) / kBlock));
  engine::KvCache cache(c.n_layers, c.kv_dim(), kBlock, blocks);
  struct Progress {
    double timed_s = 0;
    int runs = 0;
  };
  std::vector<Progress> progress(points.size());
  for (int r = 0; r < timing.warmup + timing.repetitions; ++r) {
    const bool warm = r >= timing.warmup;
    for (std::size_t i = 0; i < points.size(); ++i) {
      Progress& p = progress[i];
      if (warm && timing.point_seconds > 0 && p.runs >= timing.min_repetitions && p.timed_s >= timing.point_seconds)
        continue;
      const double s = run_point(model, cache, points[i], warm ? &probe : nullptr);
      if (warm) {
        p.timed_s += s;
        ++p.runs;
      }
    }
  }
}

}  // namespace roofline
