#include "roofline/validate/engine_run.hpp"

#include <omp.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "engine/generate.hpp"
#include "engine/kv_cache.hpp"
#include "engine/model.hpp"
#include "engine/op_names.hpp"

namespace roofline {

namespace {

// Kernel time per (phase, op), phases and ops in execution order, with each op's share of its phase.
std::vector<KernelTime> kernel_times(const engine::Probe& probe) {
  std::map<std::pair<int, std::size_t>, KernelTime> totals;
  std::map<int, double> phase_total;
  for (const auto& rec : probe.records) {
    const auto order = std::size_t(std::find(engine::op::kTimed.begin(), engine::op::kTimed.end(), rec.op) -
                                   engine::op::kTimed.begin());
    KernelTime& t = totals[{int(rec.phase), order}];
    t.phase = engine::to_string(rec.phase);
    t.op = engine::op::kTimed[order];
    ++t.calls;
    t.seconds += double(rec.ns) * 1e-9;
  }
  for (const auto& [key, t] : totals) phase_total[key.first] += t.seconds;
  std::vector<KernelTime> out;
  for (auto& [key, t] : totals) {
    t.phase_share = t.seconds / phase_total[key.first];
    out.push_back(t);
  }
  return out;
}

}  // namespace

std::vector<std::string> run_warnings(const EngineRunSetup& s) {
  std::int64_t longest = 0;
  for (const auto& p : s.prompts) longest = std::max(longest, std::int64_t(p.size()));
  const std::int64_t tokens = longest + s.gen;
  if (s.config.max_seq_len <= 0 || tokens <= s.config.max_seq_len) return {};
  return {fmt::format("{} tokens per sequence (prompt {} + gen {}) exceed {}'s max_position_embeddings of {}: "
                      "positions the model was not trained for",
                      tokens, longest, s.gen, s.config_text.origin, s.config.max_seq_len)};
}

EngineRunReport run_engine(const EngineRunSetup& s) {
  const engine::Config& c = s.config;
  const engine::Weights weights = engine_weights(c, s.checkpoint, s.seed, s.weights);
  if (s.save_weights) engine::save_checkpoint(weights, s.config_text.text, *s.save_weights);

  std::int64_t longest = 0;
  for (const auto& p : s.prompts) longest = std::max(longest, std::int64_t(p.size()));
  const std::int64_t capacity = longest + s.gen, B = std::int64_t(s.prompts.size()), block = s.block_size;
  const engine::KvRowDims dims{c.cache_k_dim(), c.cache_v_dim()};
  engine::KvCache cache = s.paged ? engine::KvCache(c.n_layers, dims, block, B * ((capacity + block - 1) / block))
                                  : engine::KvCache::contiguous(c.n_layers, dims, B, capacity);
  engine::Model model(weights, s.flash ? engine::AttentionKind::tiled : engine::AttentionKind::naive, s.mla,
                      s.add_norm);
  engine::Probe probe;
  const engine::GenerationResult g = engine::generate(model, cache, s.prompts, s.gen, s.sampler, &probe);

  EngineRunReport r;
  r.model = s.config_text.origin;
  r.layers = c.n_layers;
  r.dim = c.dim;
  r.heads = c.n_heads;
  r.kv_heads = c.n_kv_heads;
  r.vocab_size = c.vocab_size;
  r.checkpoint = s.checkpoint;
  r.seed = s.seed;
  r.weight_format = engine::to_string(s.weights.format);
  r.attention = s.flash ? "flash" : "naive";
  r.kv_cache = s.paged ? "paged" : "contiguous";
  r.threads = omp_get_max_threads();
  r.tokens = g.tokens;
  r.prefill_s = g.prefill_s;
  r.decode_step_s = g.decode_step_s;
  for (double t : g.decode_step_s) r.decode_s += t;
  r.decode_tokens_per_s = g.decode_tokens_per_s();
  r.kernels = kernel_times(probe);
  r.warnings = run_warnings(s);
  return r;
}

}  // namespace roofline
