// Mixture-of-experts routing and the row movement around the experts' GEMMs (the GEMMs are linear()'s).
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.hpp"

namespace engine {

void route_top_k(std::int32_t* experts, float* weights, const float* logits, std::int64_t tokens, std::int64_t E,
                 const Routing& r) {
  const std::int64_t per_group = E / r.groups;
  std::vector<float> score(static_cast<std::size_t>(E)), choice(score.size()), group_rate(std::size_t(r.groups));
  std::vector<char> group_kept(std::size_t(r.groups));
  // The index of the largest of n values v[i] (i not yet taken), ties to the lower index: k passes of a max
  // search, as k is small (1 to 10).
  auto best_of = [](const float* v, std::int64_t n, auto&& taken) {
    std::int64_t best = -1;
    for (std::int64_t i = 0; i < n; ++i)
      if (!taken(i) && (best < 0 || v[i] > v[best])) best = i;
    return best;
  };
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* z = logits + t * E;
    if (r.sigmoid) {
      for (std::int64_t e = 0; e < E; ++e) score[std::size_t(e)] = 1.0f / (1.0f + std::exp(-z[e]));
    } else {
      const float top = *std::max_element(z, z + E);
      float sum = 0;
      for (std::int64_t e = 0; e < E; ++e) sum += score[std::size_t(e)] = std::exp(z[e] - top);
      for (float& v : score) v /= sum;
    }
    for (std::int64_t e = 0; e < E; ++e) choice[std::size_t(e)] = score[std::size_t(e)] + (r.bias ? r.bias[e] : 0.0f);
    if (r.groups > 1) {
      for (std::int64_t g = 0; g < r.groups; ++g) {
        const float* c = choice.data() + g * per_group;
        const std::int64_t a = best_of(c, per_group, [](std::int64_t) { return false; });
        float rate = c[a];
        if (r.top2_sum) rate += c[best_of(c, per_group, [a](std::int64_t i) { return i == a; })];
        group_rate[std::size_t(g)] = rate;
      }
      std::fill(group_kept.begin(), group_kept.end(), 0);
      for (std::int64_t j = 0; j < r.top_groups; ++j)
        group_kept[std::size_t(best_of(group_rate.data(), r.groups, [&](std::int64_t g) { return group_kept[std::size_t(g)] != 0; }))] = 1;
      for (std::int64_t e = 0; e < E; ++e)
        if (!group_kept[std::size_t(e / per_group)]) choice[std::size_t(e)] = 0.0f;
    }
    std::int32_t* chosen = experts + t * r.k;
    float* w = weights + t * r.k;
    float kept = 0;
    for (std::int64_t j = 0; j < r.k; ++j) {
      const std::int64_t e = best_of(choice.data(), E, [&](std::int64_t i) {
        return std::find(chosen, chosen + j, std::int32_t(i)) != chosen + j;
      });
      chosen[j] = std::int32_t(e);
      w[j] = score[std::size_t(e)];
      kept += w[j];
    }
    for (std::int64_t j = 0; j < r.k; ++j) w[j] = (r.renormalize ? w[j] / (kept + 1e-20f) : w[j]) * r.scale;
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
