// MLA attention (DeepseekV2Attention / DeepseekV3Attention) over the paged latent cache, in either form:
//   naive:    K[j, h] = [W_UK[h] c_j ; k_pe_j], V[j, h] = W_UV[h] c_j for every position j attended (kv_b_proj), then
//             attention with keys of dn + dr and values of dv;
//   absorbed: q_lat[h] = [W_UK[h]^T q_nope[h] ; q_pe[h]] (q_absorb), attention over the cached rows [c_j ; k_pe_j]
//             themselves, one KV head of r + dr whose first r floats are the values, then o[h] = W_UV[h] out_lat[h]
//             (o_absorb).
// Both give the same scores, q_nope . W_UK c + q_pe . k_pe, and the same output, W_UV sum_j p_j c_j.
#include <algorithm>

#include "engine/model.hpp"
#include "engine/op_names.hpp"

namespace engine {

void Model::mla_attention(const LayerWeights& lw, std::int64_t l, KvCache& cache, std::span<const SequenceStep> step,
                          const float* xb, float* att, std::int64_t T, KernelRecord at, Probe* probe) {
  const Config& c = w_.config;
  const MlaConfig& a = *c.mla;
  const std::int64_t h = c.n_heads, rq = a.q_lora_rank, r = a.kv_lora_rank, dn = a.qk_nope_head_dim,
                     dr = a.qk_rope_head_dim, dv = a.v_head_dim, qk = dn + dr, qd = h * qk, lat = r + dr;
  const std::int64_t B = std::int64_t(step.size());
  const float eps = float(c.rms_norm_eps);
  auto time = [&](std::string_view op, auto&& f) {
    at.op = op;
    timed(probe, at, f);
  };
  float* q = sized(q_, T * qd);        // [T, h, dn + dr]
  float* ckv = sized(mla_ckv_, T * lat);  // [T, r + dr]: kv_a_proj's output
  if (rq > 0) {
    float* qa = sized(mla_qa_, T * rq);
    time(op::q_a_proj, [&] { linear(RowsOut{qa, rq, nullptr}, xb, T, lw.wq_a); });
    time(op::q_a_norm, [&] { rmsnorm(qa, qa, lw.q_a_norm.data(), T, rq, eps); });
    time(op::q_b_proj, [&] { linear(RowsOut{q, qd, nullptr}, qa, T, lw.wq_b); });
  } else {
    time(op::q_proj, [&] { linear(RowsOut{q, qd, nullptr}, xb, T, lw.wq); });
  }
  time(op::kv_a_proj, [&] { linear(RowsOut{ckv, lat, nullptr}, xb, T, lw.wkv_a); });
  // The normed latent goes straight into the cache rows [0, r).
  time(op::kv_a_norm, [&] { rmsnorm_strided(RowsOut{nullptr, 0, k_rows_.data()}, ckv, lat, lw.kv_a_norm.data(), T, r, eps); });
  const RopeTable table{dr / 2, cos_.data(), sin_.data()};
  time(op::rope, [&] {  // each head's q_pe in place; the shared k_pe into the cache rows [r, r + dr)
    rope_strided(q + dn, qd, qk, h, pos_.data(), T, table, a.rope_interleave);
    rope_strided(ckv + r, lat, 0, 1, pos_.data(), T, table, a.rope_interleave);
    for (std::int64_t t = 0; t < T; ++t) std::copy_n(ckv + t * lat + r, dr, k_rows_[std::size_t(t)] + r);
  });

  const bool decode = std::all_of(step.begin(), step.end(), [](const SequenceStep& s) { return s.tokens.size() == 1; });
  const bool absorbed = mla_ == MlaForm::absorbed || (mla_ == MlaForm::automatic && decode);
  const float scale = float(c.attention_scale());
  float* rows = sized(mla_rows_, T * std::max(dn, r));  // one head's rows, gathered for its GEMM
  if (absorbed) {
    float* qlat = sized(mla_q_, T * h * lat);  // [T, h, r + dr]
    float* olat = sized(mla_out_, T * h * r);  // [T, h, r]
    time(op::q_absorb, [&] {
      for (std::int64_t head = 0; head < h; ++head) {
        for (std::int64_t t = 0; t < T; ++t) std::copy_n(q + t * qd + head * qk, dn, rows + t * dn);
        linear(RowsOut{qlat + head * lat, h * lat, nullptr}, rows, T, lw.uk_t[std::size_t(head)]);
      }
      for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t head = 0; head < h; ++head)
          std::copy_n(q + t * qd + head * qk + dn, dr, qlat + (t * h + head) * lat + r);
    });
    for (std::int64_t t = 0, i = 0; i < B; ++i) {
      const SequenceStep& s = step[std::size_t(i)];
      const std::int64_t start = cache.length(s.seq), n = std::int64_t(s.tokens.size());
      cache.runs(s.seq, l, start + n, runs_[std::size_t(i)]);
      for (KvRun& run : runs_[std::size_t(i)]) run.v = run.k;  // the values are the latent itself
      seqs_[std::size_t(i)] = AttentionSeq{qlat + t * h * lat, olat + t * h * r, n, start, runs_[std::size_t(i)]};
      t += n;
    }
    AttentionShape shape{h, 1, lat, lat, std::nullopt, scale};
    shape.v_dim = r;
    attend(shape, at, probe);
    time(op::o_absorb, [&] {
      for (std::int64_t head = 0; head < h; ++head) {
        for (std::int64_t t = 0; t < T; ++t) std::copy_n(olat + (t * h + head) * r, r, rows + t * r);
        linear(RowsOut{att + head * dv, h * dv, nullptr}, rows, T, lw.uv[std::size_t(head)]);
      }
    });
    return;
  }
  // Naive: every position each sequence attends, its latent rows through kv_b_proj into per-head K and V.
  std::int64_t keys = 0;
  for (const SequenceStep& s : step) keys += cache.length(s.seq) + std::int64_t(s.tokens.size());
  float* latent = sized(mla_lat_, keys * r);            // [keys, r]
  float* kvb = sized(mla_kvb_, keys * h * (dn + dv));   // [keys, h, dn + dv]
  float* kn = sized(mla_k_, keys * qd);                  // [keys, h, dn + dr]
  float* vn = sized(mla_v_, keys * h * dv);              // [keys, h, dv]
  time(op::kv_b_proj, [&] {
    std::int64_t j = 0;
    for (const SequenceStep& s : step) {
      const std::int64_t len = cache.length(s.seq) + std::int64_t(s.tokens.size());
      for (std::int64_t p = 0; p < len; ++p, ++j) {
        const float* row = cache.k_row(s.seq, l, p);
        std::copy_n(row, r, latent + j * r);
        for (std::int64_t head = 0; head < h; ++head) std::copy_n(row + r, dr, kn + j * qd + head * qk + dn);
      }
    }
    linear(RowsOut{kvb, h * (dn + dv), nullptr}, latent, keys, lw.wkv_b);
    for (std::int64_t i = 0; i < keys; ++i)
      for (std::int64_t head = 0; head < h; ++head) {
        const float* src = kvb + (i * h + head) * (dn + dv);
        std::copy_n(src, dn, kn + i * qd + head * qk);
        std::copy_n(src + dn, dv, vn + (i * h + head) * dv);
      }
  });
  for (std::int64_t t = 0, j = 0, i = 0; i < B; ++i) {
    const SequenceStep& s = step[std::size_t(i)];
    const std::int64_t start = cache.length(s.seq), n = std::int64_t(s.tokens.size());
    runs_[std::size_t(i)].assign(1, KvRun{kn + j * qd, vn + j * h * dv, start + n});
    seqs_[std::size_t(i)] = AttentionSeq{q + t * qd, att + t * h * dv, n, start, runs_[std::size_t(i)]};
    t += n;
    j += start + n;
  }
  AttentionShape shape{h, h, qk, qd, std::nullopt, scale};
  shape.v_dim = dv;
  shape.v_row_stride = h * dv;
  attend(shape, at, probe);
}

}  // namespace engine
