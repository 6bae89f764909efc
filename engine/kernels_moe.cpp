// Mixture-of-experts routing and the row movement around the experts' GEMMs (the GEMMs are linear()'s).
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.hpp"

namespace engine {

void route_top_k(std::int32_t* experts, float* weights, const float* logits, std::int64_t tokens, std::int64_t E,
                 std::int64_t k, bool renormalize) {
  std::vector<float> p(static_cast<std::size_t>(E));
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* z = logits + t * E;
    const float top = *std::max_element(z, z + E);
    float sum = 0;
    for (std::int64_t e = 0; e < E; ++e) sum += p[std::size_t(e)] = std::exp(z[e] - top);
    for (float& v : p) v /= sum;
    std::int32_t* chosen = experts + t * k;
    float* w = weights + t * k;
    // k passes of a max search: k is small (2 to 10) and this keeps the lower expert on ties.
    float kept = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      std::int64_t best = -1;
      for (std::int64_t e = 0; e < E; ++e) {
        if (std::find(chosen, chosen + j, std::int32_t(e)) != chosen + j) continue;
        if (best < 0 || p[std::size_t(e)] > p[std::size_t(best)]) best = e;
      }
      chosen[j] = std::int32_t(best);
      w[j] = p[std::size_t(best)];
      kept += w[j];
    }
    if (renormalize)
      for (std::int64_t j = 0; j < k; ++j) w[j] /= kept;
  }
}

void group_by_expert(std::int64_t* offsets, std::int32_t* rows, float* row_weight, const std::int32_t* experts,
                     const float* weights, std::int64_t tokens, std::int64_t E, std::int64_t k) {
  std::fill(offsets, offsets + E + 1, 0);
  for (std::int64_t i = 0; i < tokens * k; ++i) ++offsets[experts[i] + 1];
  for (std::int64_t e = 0; e < E; ++e) offsets[e + 1] += offsets[e];
  std::vector<std::int64_t> next(offsets, offsets + E);
  for (std::int64_t t = 0; t < tokens; ++t)  // tokens ascending within each expert
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int64_t at = next[std::size_t(experts[t * k + j])]++;
      rows[at] = std::int32_t(t);
      row_weight[at] = weights[t * k + j];
    }
}

void gather_rows(float* y, const float* x, const std::int32_t* rows, std::int64_t n, std::int64_t d) {
#pragma omp parallel for schedule(static) if (n * d >= (1 << 14))
  for (std::int64_t i = 0; i < n; ++i) std::copy_n(x + std::int64_t(rows[i]) * d, d, y + i * d);
}

void scatter_add_rows(float* y, const float* x, const std::int32_t* rows, const float* w, std::int64_t n,
                      std::int64_t d) {
  // In order: a token's k contributions add up as the reference adds them, expert after expert.
  for (std::int64_t i = 0; i < n; ++i) {
    float* out = y + std::int64_t(rows[i]) * d;
    const float* in = x + i * d;
    const float wi = w[i];
    for (std::int64_t c = 0; c < d; ++c) out[c] += in[c] * wi;
  }
}

}  // namespace engine
