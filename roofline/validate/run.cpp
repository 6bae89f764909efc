#include "roofline/validate/run.hpp"

#include <algorithm>
#include <chrono>

#include "engine/kv_cache.hpp"

namespace roofline {
namespace {

constexpr std::int64_t kBlock = 16;  // positions per block of the shared paged cache

std::int64_t cached_of(const EnginePoint& pt) { return pt.phase == engine::Phase::prefill ? 0 : pt.length; }
std::int64_t queries_of(const EnginePoint& pt) { return pt.phase == engine::Phase::prefill ? pt.length : 1; }

// Distinct token ids across the whole step (up to the vocabulary): the embedding lookup then gathers as
// many different table rows as opmodel counts, not one row reused from cache by every sequence.
std::vector<std::int32_t> step_tokens(const EnginePoint& pt, std::int64_t vocab) {
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(pt.batch * queries_of(pt)));
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = std::int32_t((i * 7919 + 1) % std::size_t(vocab));
  return tokens;
}

}  // namespace

void time_engine(engine::Model& model, const std::vector<EnginePoint>& points, const EngineTiming& timing,
                 engine::Probe& probe) {
  const engine::Config& c = model.config();
  // One cache for every point, sized for the largest (points take turns): each visit takes blocks for its
  // sequences and gives them back. The decode context is not prefilled: attention's time does not depend
  // on the values, and a prefill of 8192 tokens per sequence would dominate a sweep; whatever earlier
  // visits left in the blocks (zeros at first: Buffer zero-fills) keeps the softmax finite.
  std::int64_t blocks = 1, max_batch = 1, max_logits = 1;
  std::vector<std::vector<std::int32_t>> tokens;
  for (const EnginePoint& pt : points) {
    blocks = std::max(blocks, pt.batch * ((cached_of(pt) + queries_of(pt) + kBlock - 1) / kBlock));
    max_batch = std::max(max_batch, pt.batch);
    max_logits = std::max(max_logits, pt.batch * c.vocab_size);
    tokens.push_back(step_tokens(pt, c.vocab_size));
  }
  engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, kBlock, blocks);
  std::vector<std::int64_t> ids;  // sequence ids, reused by every visit
  for (std::int64_t b = 0; b < max_batch; ++b) ids.push_back(cache.add_sequence());
  std::vector<float> logits(static_cast<std::size_t>(max_logits));

  // One run of the step at point i; returns the seconds of the forward pass.
  auto visit = [&](std::size_t i, engine::Probe* p) {
    const EnginePoint& pt = points[i];
    const std::int64_t cached = cached_of(pt), q = queries_of(pt);
    std::vector<engine::SequenceStep> step;
    for (std::int64_t b = 0; b < pt.batch; ++b) {
      const std::int64_t id = ids[std::size_t(b)];
      cache.reserve(id, cached + q);
      cache.set_length(id, cached);
      step.push_back({id, std::span<const std::int32_t>(tokens[i]).subspan(std::size_t(b * q), std::size_t(q))});
    }
    const auto t0 = std::chrono::steady_clock::now();
    model.forward(cache, step, logits.data(), pt.phase, p);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (std::int64_t b = 0; b < pt.batch; ++b) cache.release(ids[std::size_t(b)]);
    return seconds;
  };

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
      const double s = visit(i, warm ? &probe : nullptr);
      if (warm) {
        p.timed_s += s;
        ++p.runs;
      }
    }
  }
}

}  // namespace roofline
