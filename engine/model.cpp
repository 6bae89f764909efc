#include "engine/model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/op_names.hpp"

namespace engine {
namespace {

// yarn (transformers' _compute_yarn_parameters): each frequency blends its extrapolated (theta^(-2i/d)) and
// interpolated (/ factor) values by a linear ramp over the dims between the two that turn beta_fast and beta_slow
// times over the original context: dim(n) = d ln(L / (2 pi n)) / (2 ln theta).
std::vector<float> yarn_frequencies(const Config& c, const RopeScaling& s) {
  const std::int64_t d = c.rope_dim(), half = d / 2;
  const double L = double(s.original_max_position_embeddings), base = c.rope_theta;
  auto correction_dim = [&](double rotations) {
    return double(d) * std::log(L / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
  };
  double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(d - 1));
  if (low == high) high += 0.001;
  std::vector<float> f(static_cast<std::size_t>(half));
  for (std::int64_t i = 0; i < half; ++i) {
    const double extrapolated = 1.0 / std::pow(base, double(2 * i) / double(d)), interpolated = extrapolated / s.factor;
    const double keep = 1 - std::clamp((double(i) - low) / (high - low), 0.0, 1.0);  // 1: extrapolated
    f[std::size_t(i)] = float(interpolated * (1 - keep) + extrapolated * keep);
  }
  return f;
}

// yarn's factor on cos and sin: mscale(mscale) / mscale(mscale_all_dim) when both are given, else mscale(1)
// (transformers' attention_factor). 1 without yarn.
float rope_attention_factor(const Config& c) {
  if (!c.rope_scaling || c.rope_scaling->type != RopeScaling::Type::yarn) return 1;
  const RopeScaling& s = *c.rope_scaling;
  if (s.mscale > 0 && s.mscale_all_dim > 0) return float(s.yarn_mscale(s.mscale) / s.yarn_mscale(s.mscale_all_dim));
  return float(s.yarn_mscale(1));
}

// inv_freq[i] = theta^(-2i / d) over the rotated dims d; Llama 3's rope_scaling divides the low frequencies by
// `factor` and blends the band between (the transformers "llama3" rope_type); yarn as above.
std::vector<float> inverse_frequencies(const Config& c) {
  if (c.rope_scaling && c.rope_scaling->type == RopeScaling::Type::yarn) return yarn_frequencies(c, *c.rope_scaling);
  const std::int64_t half = c.rope_dim() / 2;
  std::vector<float> f(static_cast<std::size_t>(half));
  for (std::int64_t i = 0; i < half; ++i) {
    double freq = 1.0 / std::pow(c.rope_theta, double(2 * i) / double(c.rope_dim()));
    if (c.rope_scaling) {
      const RopeScaling& s = *c.rope_scaling;
      const double old_len = double(s.original_max_position_embeddings);
      const double wavelen = 2 * std::numbers::pi / freq;
      const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
      if (wavelen > low_wavelen) {
        freq /= s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        freq = (1 - smooth) * freq / s.factor + smooth * freq;
      }
    }
    f[std::size_t(i)] = float(freq);
  }
  return f;
}

}  // namespace

Model::Model(const Weights& w, AttentionKind attention, MlaForm mla, AddNorm add_norm)
    : w_(w), attention_(attention), mla_(mla), add_norm_(add_norm) {
  inv_freq_ = inverse_frequencies(w.config);
  rope_factor_ = rope_attention_factor(w.config);
  const std::vector<bool>& sliding = w.config.local;
  local_names_ = std::find(sliding.begin(), sliding.end(), false) != sliding.end();
}

void Model::ensure_rope(std::int64_t positions) {
  if (positions <= rope_positions_) return;
  const std::int64_t n = std::max(positions, 2 * rope_positions_), half = std::int64_t(inv_freq_.size());
  Buffer<float> c(std::size_t(n * half)), s(std::size_t(n * half));
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t i = 0; i < half; ++i) {
      // HF: freqs = position * inv_freq in fp32, then cos and sin
      const float angle = float(p) * inv_freq_[std::size_t(i)];
      c[std::size_t(p * half + i)] = std::cos(angle) * rope_factor_;  // yarn's attention factor (1 otherwise)
      s[std::size_t(p * half + i)] = std::sin(angle) * rope_factor_;
    }
  cos_ = std::move(c);
  sin_ = std::move(s);
  rope_positions_ = n;
}

void Model::moe_mlp(const LayerWeights& lw, const float* xb, float* out, std::int64_t T, KernelRecord at,
                    Probe* probe) {
  const MoeConfig& m = *w_.config.moe;
  const std::int64_t d = w_.config.dim, E = m.experts, k = m.top_k, fe = m.hidden, R = T * k;
  float* logits = sized(logits_, T * E);
  float* xs = sized(moe_x_, R * d);
  float* gate = sized(moe_gate_, R * fe);
  float* up = sized(moe_up_, R * fe);
  float* ys = sized(moe_y_, R * d);
  route_experts_.resize(std::size_t(R));
  route_rows_.resize(std::size_t(R));
  route_weights_.resize(std::size_t(R));
  row_weights_.resize(std::size_t(R));
  expert_offsets_.resize(std::size_t(E + 1));
  const std::int64_t* offset = expert_offsets_.data();
  // Expert e's rows are [offset[e], offset[e + 1]) of the routed rows; an expert no token chose is skipped.
  auto each_expert = [&](auto&& f) {
    for (std::int64_t e = 0; e < E; ++e)
      if (offset[e + 1] > offset[e]) f(std::size_t(e), offset[e], offset[e + 1] - offset[e]);
  };
  at.op = op::router;
  timed(probe, at, [&] {
    linear(RowsOut{logits, E, nullptr}, xb, T, lw.router);
    const Routing r{k, m.groups, m.top_groups, m.sigmoid, m.top2_sum, m.renormalize, float(m.scale),
                    lw.router_bias.empty() ? nullptr : lw.router_bias.data()};
    route_top_k(route_experts_.data(), route_weights_.data(), logits, T, E, r);
    group_by_expert(expert_offsets_.data(), route_rows_.data(), row_weights_.data(), route_experts_.data(),
                    route_weights_.data(), T, E, k);
  });
  at.experts = 0;
  for (std::int64_t e = 0; e < E; ++e) at.experts += offset[e + 1] > offset[e] ? 1 : 0;
  at.op = op::expert_gate_proj;
  timed(probe, at, [&] {
    gather_rows(xs, xb, route_rows_.data(), R, d);
    each_expert([&](std::size_t e, std::int64_t first, std::int64_t n) {
      linear(RowsOut{gate + first * fe, fe, nullptr}, xs + first * d, n, lw.e_gate[e]);
    });
  });
  at.op = op::expert_up_proj;
  timed(probe, at, [&] {
    each_expert([&](std::size_t e, std::int64_t first, std::int64_t n) {
      linear(RowsOut{up + first * fe, fe, nullptr}, xs + first * d, n, lw.e_up[e]);
    });
  });
  at.op = op::expert_act_mul;
  timed(probe, at, [&] { silu_mul(gate, gate, up, R * fe); });
  at.op = op::expert_down_proj;
  timed(probe, at, [&] {
    each_expert([&](std::size_t e, std::int64_t first, std::int64_t n) {
      linear(RowsOut{ys + first * d, d, nullptr}, gate + first * fe, n, lw.e_down[e]);
    });
    std::fill_n(out, T * d, 0.0f);
    scatter_add_rows(out, ys, route_rows_.data(), row_weights_.data(), R, d);
  });
  if (m.shared_hidden == 0) return;
  // The shared expert, scaled by its sigmoid gate (Qwen2MoeSparseMoeBlock) or not (DeepSeek), and added.
  const std::int64_t fs = m.shared_hidden;
  float* g = m.shared_gated ? sized(shared_g_, T) : nullptr;  // [T]: each token's gate, when there is one
  float* sg = sized(shared_gate_, T * fs);
  float* su = sized(shared_up_, T * fs);
  float* sy = sized(shared_y_, T * d);
  at.experts = 0;
  at.op = op::shared_gate;
  if (g)
    timed(probe, at, [&] {
      linear(RowsOut{g, 1, nullptr}, xb, T, lw.s_router);
      for (std::int64_t t = 0; t < T; ++t) g[t] = 1.0f / (1.0f + std::exp(-g[t]));
    });
  at.op = op::shared_gate_proj;
  timed(probe, at, [&] { linear(RowsOut{sg, fs, nullptr}, xb, T, lw.s_gate); });
  at.op = op::shared_up_proj;
  timed(probe, at, [&] { linear(RowsOut{su, fs, nullptr}, xb, T, lw.s_up); });
  at.op = op::shared_act_mul;
  timed(probe, at, [&] { silu_mul(sg, sg, su, T * fs); });
  at.op = op::shared_down_proj;
  timed(probe, at, [&] {
    linear(RowsOut{sy, d, nullptr}, sg, T, lw.s_down);
    for (std::int64_t t = 0; t < T; ++t) {
      const float scale = g ? g[t] : 1.0f;
      for (std::int64_t c = 0; c < d; ++c) out[t * d + c] += scale * sy[t * d + c];
    }
  });
}

void Model::gqa_attention(const LayerWeights& lw, std::int64_t l, KvCache& cache, std::span<const SequenceStep> step,
                          const float* xb, float* att, std::int64_t T, KernelRecord at, Probe* probe) {
  const Config& c = w_.config;
  const std::int64_t qd = c.q_dim(), kvd = c.kv_dim();
  const float eps = float(c.rms_norm_eps);
  auto time = [&](std::string_view op, auto&& f) {
    at.op = op;
    timed(probe, at, f);
  };
  float* q = sized(q_, T * qd);   // [T, h, hd]
  float* k = sized(k_, T * kvd);  // [T, g, hd], before RoPE writes it to the cache
  time(op::q_proj, [&] { linear(RowsOut{q, qd, nullptr}, xb, T, lw.wq); });
  time(op::k_proj, [&] { linear(RowsOut{k, kvd, nullptr}, xb, T, lw.wk); });
  time(op::v_proj, [&] { linear(RowsOut{nullptr, 0, v_rows_.data()}, xb, T, lw.wv); });
  if (c.qk_norm) {  // each head's q and k over head_dim, before RoPE
    time(op::q_norm, [&] { rmsnorm(q, q, lw.q_norm.data(), T * c.n_heads, c.head_dim, eps); });
    time(op::k_norm, [&] { rmsnorm(k, k, lw.k_norm.data(), T * c.n_kv_heads, c.head_dim, eps); });
  }
  const RopeTable table{c.head_dim / 2, cos_.data(), sin_.data()};
  time(op::rope, [&] { rope(q, RowsOut{nullptr, 0, k_rows_.data()}, k, pos_.data(), T, c.n_heads, c.n_kv_heads, table); });
  for (std::int64_t t = 0, i = 0; i < std::int64_t(step.size()); ++i) {
    const SequenceStep& s = step[std::size_t(i)];
    const std::int64_t start = cache.length(s.seq), n = std::int64_t(s.tokens.size());
    cache.runs(s.seq, l, start + n, runs_[std::size_t(i)]);
    seqs_[std::size_t(i)] = AttentionSeq{q + t * qd, att + t * qd, n, start, runs_[std::size_t(i)]};
    t += n;
  }
  AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, kvd, c.sliding(l) ? c.sliding_window : std::nullopt,
                       float(c.attention_scale())};
  shape.softcap = float(c.attn_softcap);
  attend(shape, at, probe);
}

void Model::attend(const AttentionShape& shape, KernelRecord at, Probe* probe) {
  const bool local = shape.window && local_names_;
  if (attention_ == AttentionKind::tiled) {
    at.op = local ? op::local_attention : op::attention;
    timed(probe, at, [&] { attention(seqs_, shape); });
    return;
  }
  float* scores = sized(scores_, score_elements(seqs_, shape));
  at.op = local ? op::local_qk_matmul : op::qk_matmul;
  timed(probe, at, [&] { qk_scores(scores, seqs_, shape); });
  at.op = local ? op::local_softmax : op::softmax;
  timed(probe, at, [&] { softmax_scores(scores, seqs_, shape); });
  at.op = local ? op::local_sv_matmul : op::sv_matmul;
  timed(probe, at, [&] { sv_product(seqs_, scores, shape); });
}

void Model::forward(KvCache& cache, std::span<const SequenceStep> step, float* logits, Phase phase, Probe* probe) {
  const Config& c = w_.config;
  const std::int64_t d = c.dim, f = c.hidden_dim, B = std::int64_t(step.size());
  if (B == 0) throw EngineError("forward", "batch", "no sequences in the step");
  // Check everything before touching the cache.
  std::int64_t T = 0, max_q = 0, max_start = 0, max_pos = 0;
  for (const SequenceStep& s : step) {
    if (s.tokens.empty()) throw EngineError("forward", "tokens", fmt::format("sequence {} has no new tokens", s.seq));
    for (std::int32_t t : s.tokens)
      if (t < 0 || t >= c.vocab_size)
        throw EngineError("forward", "tokens", fmt::format("token id {} is outside the vocabulary [0, {})", t, c.vocab_size));
    const std::int64_t start = cache.length(s.seq), n = std::int64_t(s.tokens.size());
    T += n;
    max_q = std::max(max_q, n);
    max_start = std::max(max_start, start);
    max_pos = std::max(max_pos, start + n);
  }
  for (const SequenceStep& s : step) cache.reserve(s.seq, cache.length(s.seq) + std::int64_t(s.tokens.size()));
  ensure_rope(max_pos);

  float* x = sized(x_, T * d);
  float* xb = sized(xb_, T * d);
  float* xb2 = sized(xb2_, T * d);
  float* att = sized(att_, T * c.attn_out_dim());
  float* hb = sized(hb_, T * f);
  float* hb2 = sized(hb2_, T * f);
  pos_.resize(std::size_t(T));
  k_rows_.resize(std::size_t(T));
  v_rows_.resize(std::size_t(T));
  runs_.resize(std::size_t(B));
  seqs_.resize(std::size_t(B));
  std::vector<std::int32_t>& tokens = tokens_;
  tokens.clear();
  for (const SequenceStep& s : step) {
    const std::int64_t start = cache.length(s.seq);
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      pos_[tokens.size()] = start + std::int64_t(i);
      tokens.push_back(s.tokens[i]);
    }
  }

  auto rec = [&](std::string_view op, std::int64_t layer, std::int64_t rows) {
    return KernelRecord{op, layer, phase, B, max_q, max_start, rows, 0, 0};
  };
  const float eps = float(c.rms_norm_eps);
  const bool fused = add_norm_ == AddNorm::fused;  // residual adds inside the norms after them
  auto out = [](float* base, std::int64_t stride) { return RowsOut{base, stride, nullptr}; };

  timed(probe, rec(op::embed, -1, T), [&] {
    embed(x, w_.embed.data(), tokens.data(), T, d);
    if (c.embed_scale) {  // Gemma: times sqrt(hidden_size), the normalizer rounded to the hidden dtype first
      const float normalizer = float(std::sqrt(double(d)));
      for (std::int64_t i = 0; i < T * d; ++i) x[i] *= normalizer;
    }
  });
  for (std::int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w_.layers[std::size_t(l)];
    // Where this layer's new K and V rows go in the cache.
    for (std::int64_t t = 0, i = 0; i < B; ++i)
      for (std::size_t j = 0; j < step[std::size_t(i)].tokens.size(); ++j, ++t) {
        k_rows_[std::size_t(t)] = cache.k_row(step[std::size_t(i)].seq, l, pos_[std::size_t(t)]);
        v_rows_[std::size_t(t)] = cache.v_row(step[std::size_t(i)].seq, l, pos_[std::size_t(t)]);
      }
    if (fused && l > 0)  // the previous layer's mlp_add: x += xb2, then its norm
      timed(probe, rec(op::add_norm, l, T), [&] { add_rmsnorm(xb, x, xb2, lw.attn_norm.data(), T, d, eps); });
    else
      timed(probe, rec(op::attn_norm, l, T), [&] { rmsnorm(xb, x, lw.attn_norm.data(), T, d, eps); });
    if (c.mla)
      mla_attention(lw, l, cache, step, xb, att, T, rec(op::attention, l, T), probe);
    else
      gqa_attention(lw, l, cache, step, xb, att, T, rec(op::attention, l, T), probe);
    timed(probe, rec(op::o_proj, l, T), [&] { linear(out(xb2, d), att, T, lw.wo); });
    if (c.post_norms)
      timed(probe, rec(op::post_attn_norm, l, T), [&] { rmsnorm(xb2, xb2, lw.post_attn_norm.data(), T, d, eps); });
    if (fused) {
      timed(probe, rec(op::add_norm, l, T), [&] { add_rmsnorm(xb, x, xb2, lw.mlp_norm.data(), T, d, eps); });
    } else {
      timed(probe, rec(op::attn_add, l, T), [&] { add(x, x, xb2, T * d); });
      timed(probe, rec(op::mlp_norm, l, T), [&] { rmsnorm(xb, x, lw.mlp_norm.data(), T, d, eps); });
    }
    if (c.sparse(l)) {
      moe_mlp(lw, xb, xb2, T, rec(op::router, l, T), probe);
    } else {
      timed(probe, rec(op::gate_proj, l, T), [&] { linear(out(hb, f), xb, T, lw.w_gate); });
      timed(probe, rec(op::up_proj, l, T), [&] { linear(out(hb2, f), xb, T, lw.w_up); });
      timed(probe, rec(op::act_mul, l, T), [&] {
        if (c.gelu_tanh) gelu_tanh_mul(hb, hb, hb2, T * f);
        else silu_mul(hb, hb, hb2, T * f);
      });
      timed(probe, rec(op::down_proj, l, T), [&] { linear(out(xb2, d), hb, T, lw.w_down); });
    }
    if (c.post_norms)
      timed(probe, rec(op::post_mlp_norm, l, T), [&] { rmsnorm(xb2, xb2, lw.post_mlp_norm.data(), T, d, eps); });
    if (!fused) timed(probe, rec(op::mlp_add, l, T), [&] { add(x, x, xb2, T * d); });
  }
  if (fused)  // the last layer's mlp_add
    timed(probe, rec(op::add_norm, -1, T), [&] { add_rmsnorm(xb, x, xb2, w_.final_norm.data(), T, d, eps); });
  else
    timed(probe, rec(op::final_norm, -1, T), [&] { rmsnorm(xb, x, w_.final_norm.data(), T, d, eps); });
  float* last = sized(last_, B * d);
  for (std::int64_t t = 0, i = 0; i < B; ++i) {  // each sequence's last row feeds lm_head
    t += std::int64_t(step[std::size_t(i)].tokens.size());
    std::copy_n(xb + (t - 1) * d, d, last + i * d);
  }
  timed(probe, rec(op::lm_head, -1, B), [&] {
    linear(out(logits, c.vocab_size), last, B, w_.lm_head);
    if (c.final_softcap > 0) softcap(logits, B * c.vocab_size, float(c.final_softcap));
  });
  for (const SequenceStep& s : step) cache.set_length(s.seq, cache.length(s.seq) + std::int64_t(s.tokens.size()));
}

}  // namespace engine
