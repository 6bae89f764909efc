// MLA's absorbed form, cut from kv_b_proj: with kv_b's rows per head [k_nope (dn rows); value (dv rows)] over the
// latent (r columns), a head's score q_nope . k_nope = q_nope . (W_UK c) = (W_UK^T q_nope) . c, so the query is
// carried into the latent by uk_t = W_UK^T [r, dn]; its output o = W_UV (P C) comes back through uv = W_UV [dv, r].
#include <fmt/format.h>

#include "engine/weights.hpp"

namespace engine {

void absorb_mla(LayerWeights& l, const Config& c, const float* kv_b, WeightFormat format, const WeightOptions& o) {
  const MlaConfig& a = *c.mla;
  const std::int64_t r = a.kv_lora_rank, dn = a.qk_nope_head_dim, dv = a.v_head_dim, per_head = dn + dv;
  auto group = [&](std::int64_t k) { return format == WeightFormat::int8 ? (o.group_size == 0 ? k : o.group_size) : 0; };
  l.uk_t.clear();
  l.uv.clear();
  Buffer<float> t(std::size_t(r * dn));
  for (std::int64_t h = 0; h < c.n_heads; ++h) {
    const float* w_uk = kv_b + h * per_head * r;  // [dn, r]
    for (std::int64_t i = 0; i < dn; ++i)
      for (std::int64_t j = 0; j < r; ++j) t[std::size_t(j * dn + i)] = w_uk[i * r + j];
    l.uk_t.push_back(make_linear(fmt::format("q_absorb head {}", h), t.data(), r, dn, format, group(dn), nullptr));
    l.uv.push_back(make_linear(fmt::format("o_absorb head {}", h), w_uk + dn * r, dv, r, format, group(r), nullptr));
  }
}

}  // namespace engine
