#include "engine/reference.hpp"

#include <cmath>
#include <vector>

namespace engine::reference {

void linear(float* y, const float* x, std::int64_t m, const Linear& w) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t n = 0; n < w.n; ++n) {
      double s = w.bias.empty() ? 0.0 : double(w.bias[std::size_t(n)]);
      for (std::int64_t k = 0; k < w.k; ++k) s += double(x[i * w.k + k]) * double(w.at(n, k));
      y[i * w.n + n] = float(s);
    }
}

void rmsnorm(float* y, const float* x, const float* gamma, std::int64_t rows, std::int64_t d, float eps) {
  for (std::int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (std::int64_t i = 0; i < d; ++i) ss += double(x[r * d + i]) * double(x[r * d + i]);
    const double inv = 1.0 / std::sqrt(ss / double(d) + double(eps));
    for (std::int64_t i = 0; i < d; ++i) y[r * d + i] = float(double(x[r * d + i]) * inv * double(gamma[i]));
  }
}

void add(float* y, const float* a, const float* b, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = float(double(a[i]) + double(b[i]));
}

void silu_mul(float* y, const float* gate, const float* up, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    y[i] = float(g / (1.0 + std::exp(-g)) * double(up[i]));
  }
}

void gelu_tanh_mul(float* y, const float* gate, const float* up, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = gate[i], u = std::sqrt(2.0 / 3.14159265358979323846) * (g + 0.044715 * g * g * g);
    y[i] = float(0.5 * g * (1.0 + std::tanh(u)) * double(up[i]));
  }
}

void softmax(float* x, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x + r * n;
    double m = row[0], sum = 0;
    for (std::int64_t i = 1; i < n; ++i) m = std::max(m, double(row[i]));
    for (std::int64_t i = 0; i < n; ++i) sum += std::exp(double(row[i]) - m);
    for (std::int64_t i = 0; i < n; ++i) row[i] = float(std::exp(double(row[i]) - m) / sum);
  }
}

void rope(float* q, float* k, const std::int64_t* pos, std::int64_t tokens, std::int64_t n_heads,
          std::int64_t n_kv_heads, std::int64_t head_dim, const float* inv_freq) {
  const std::int64_t half = head_dim / 2;
  auto rotate = [&](float* v, std::int64_t p) {
    for (std::int64_t i = 0; i < half; ++i) {
      const double angle = double(p) * double(inv_freq[i]);
      const double x1 = v[i], x2 = v[i + half];
      v[i] = float(x1 * std::cos(angle) - x2 * std::sin(angle));
      v[i + half] = float(x2 * std::cos(angle) + x1 * std::sin(angle));
    }
  };
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t h = 0; h < n_heads; ++h) rotate(q + (t * n_heads + h) * head_dim, pos[t]);
    for (std::int64_t h = 0; h < n_kv_heads; ++h) rotate(k + (t * n_kv_heads + h) * head_dim, pos[t]);
  }
}

void attention(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  const std::int64_t hd = s.head_dim, vd = s.vd(), rep = s.n_heads / s.n_kv_heads;
  for (const AttentionSeq& seq : seqs) {
    // Position j's row: walk the runs.
    std::vector<const float*> krow, vrow;
    for (const KvRun& run : seq.runs)
      for (std::int64_t p = 0; p < run.count; ++p) {
        krow.push_back(run.k + p * s.row_stride);
        vrow.push_back(run.v + p * s.v_stride());
      }
    for (std::int64_t i = 0; i < seq.q_len; ++i) {
      const std::int64_t p = seq.start + i, lo = first_key(p, s.window);
      for (std::int64_t h = 0; h < s.n_heads; ++h) {
        const float* q = seq.q + (i * s.n_heads + h) * hd;
        const std::int64_t g = h / rep;
        std::vector<double> score(std::size_t(p + 1 - lo));
        double m = -INFINITY, sum = 0;
        for (std::int64_t j = lo; j <= p; ++j) {
          double dot = 0;
          for (std::int64_t d = 0; d < hd; ++d) dot += double(q[d]) * double(krow[std::size_t(j)][g * hd + d]);
          const double scaled = dot * double(s.scale);
          score[std::size_t(j - lo)] = s.softcap > 0 ? double(s.softcap) * std::tanh(scaled / double(s.softcap)) : scaled;
          m = std::max(m, score[std::size_t(j - lo)]);
        }
        for (auto& x : score) sum += x = std::exp(x - m);
        float* out = seq.out + (i * s.n_heads + h) * vd;
        for (std::int64_t d = 0; d < vd; ++d) {
          double o = 0;
          for (std::int64_t j = lo; j <= p; ++j) o += score[std::size_t(j - lo)] * double(vrow[std::size_t(j)][g * vd + d]);
          out[d] = float(o / sum);
        }
      }
    }
  }
}

}  // namespace engine::reference
