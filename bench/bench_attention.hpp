// The attention call the engine benchmarks time: queries over a paged KV cache, set up once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "bench/bench_common.hpp"
#include "engine/kernels.hpp"
#include "engine/kv_cache.hpp"

namespace bench {

// n queries at positions start .. start + n - 1 of one sequence over h heads of 128 (MHA), fp32, the cache (blocks
// of 16) holding every position up to the last query: a prompt (start 0) or a decode step (n 1 after start cached).
// K and V rows are one random row repeated (the kernels' time does not depend on the values).
struct PromptAttention {
  static constexpr std::int64_t hd = 128;
  std::int64_t n, h, start;
  engine::KvCache cache;
  std::vector<engine::KvRun> runs;
  std::vector<float> q, out;
  engine::AttentionSeq seq;
  engine::AttentionShape shape;
  PromptAttention(std::int64_t tokens, std::int64_t heads, std::int64_t cached = 0)
      : n(tokens), h(heads), start(cached), cache(1, heads * hd, 16, (cached + tokens) / 16 + 1),
        shape{heads, heads, hd, heads * hd, std::nullopt, 1.0f / std::sqrt(float(hd))} {
    const std::int64_t id = cache.add_sequence(), positions = start + n;
    cache.reserve(id, positions);
    cache.set_length(id, positions);
    const auto kv = random_floats(std::size_t(h * hd), 9);
    for (std::int64_t p = 0; p < positions; ++p) {
      std::copy(kv.begin(), kv.end(), cache.k_row(id, 0, p));
      std::copy(kv.begin(), kv.end(), cache.v_row(id, 0, p));
    }
    cache.runs(id, 0, positions, runs);
    q = random_floats(std::size_t(n * h * hd), 10);
    out.assign(q.size(), 0.0f);
    seq = engine::AttentionSeq{q.data(), out.data(), n, start, runs};
  }
  void call() const { engine::attention({&seq, 1}, shape); }
  // Query i sees start + i + 1 keys, 4 hd FLOP a head each (QK^T and PV): n start + n (n + 1) / 2 pairs a head.
  double flops() const {
    return 4.0 * double(hd) * double(h) * (double(n) * double(start) + double(n) * double(n + 1) / 2);
  }
  // K and V of every position, read once by a decode step.
  double kv_bytes() const { return 2.0 * double(start + n) * double(h * hd) * sizeof(float); }
};

}  // namespace bench
