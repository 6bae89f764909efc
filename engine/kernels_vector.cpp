// Element-wise kernels: RMSNorm, residual add, SwiGLU activation, embedding gather, RoPE, softmax.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <omp.h>

#include "engine/kernels.hpp"
#include "engine/simd.hpp"

namespace engine {
namespace {

using simd::v16f;

// Below this many elements a kernel runs on the calling thread: waking the team costs more than it saves.
// Above it, each thread takes the same share of a row as the GEMV that wrote it (static schedules over the
// same index), so its inputs are already in its own cache. At 4K-64K elements (a decode step's residual
// stream) one thread reading what the other core had just written was slower than both in parallel
// (`roofline validate --model llama-2-7b --layers 1 --batch 4`, decode: act_mul 15.8 -> 12.1 us, rope 13.3 ->
// 8.5 us, medians of 9, when the threshold came down from 64K).
constexpr std::int64_t kParallelElements = std::int64_t{1} << 12;
constexpr std::int64_t kRowFusedElements = std::int64_t{1} << 17;  // add_rmsnorm: row by row below this (see there)

// One row: y = x * (1 / sqrt(mean(x^2) + eps)) * gamma, the mean accumulated in fp32 lanes. With delta, the row
// normalised is s = x + delta, written to `sum` in the same pass that sums the squares (the residual add fused into
// the norm: one pass over x and delta instead of an add that writes s and a norm that reads it back).
void rmsnorm_row(float* y, const float* x, const float* delta, float* sum, const float* gamma, std::int64_t d,
                 float eps) {
  v16f ss = {};
  std::int64_t i = 0;
  for (; i + 16 <= d; i += 16) {
    v16f v = simd::load(x + i);
    if (delta) {
      v += simd::load(delta + i);
      simd::store(sum + i, v);
    }
    ss += v * v;
  }
  float total = simd::hsum(ss);
  for (; i < d; ++i) {
    const float v = delta ? (sum[i] = x[i] + delta[i]) : x[i];
    total += v * v;
  }
  const float inv = 1.0f / std::sqrt(total / float(d) + eps);
  const float* s = delta ? sum : x;
  i = 0;
  for (; i + 16 <= d; i += 16) simd::store(y + i, simd::load(s + i) * inv * simd::load(gamma + i));
  for (; i < d; ++i) y[i] = s[i] * inv * gamma[i];
}

// y = rmsnorm(s) * gamma over rows of d, s = x (delta null) or x + delta written to `sum`.
void rmsnorm_rows(float* y, const float* x, const float* delta, float* sum, const float* gamma, std::int64_t rows,
                  std::int64_t d, float eps) {
  const std::int64_t threads = omp_get_max_threads();
  if (rows * d < kParallelElements || rows >= threads || d % 16 != 0) {
#pragma omp parallel for schedule(static) if (rows * d >= kParallelElements)
    for (std::int64_t r = 0; r < rows; ++r)
      rmsnorm_row(y + r * d, x + r * d, delta ? delta + r * d : nullptr, delta ? sum + r * d : nullptr, gamma, d, eps);
    return;
  }
  // Fewer rows than threads (a decode step): each thread takes the same slice of every row, sums its
  // squares, and after one barrier scales its slice by the row's 1 / rms.
  thread_local std::vector<float> partial;
  partial.assign(std::size_t(rows * threads), 0.0f);
  float* sums = partial.data();
  const float* s = delta ? sum : x;
#pragma omp parallel
  {
    // Slice [i0, i1) in whole vectors, as a static schedule over the row's vectors would share it out.
    const std::int64_t t = omp_get_thread_num(), team = omp_get_num_threads(), vectors = d / 16;
    const std::int64_t i0 = vectors * t / team * 16, i1 = vectors * (t + 1) / team * 16;
    for (std::int64_t r = 0; r < rows; ++r) {
      v16f ss = {};
      for (std::int64_t i = i0; i < i1; i += 16) {
        v16f v = simd::load(x + r * d + i);
        if (delta) {
          v += simd::load(delta + r * d + i);
          simd::store(sum + r * d + i, v);
        }
        ss += v * v;
      }
      sums[r * threads + t] = simd::hsum(ss);
    }
#pragma omp barrier
    for (std::int64_t r = 0; r < rows; ++r) {
      float total = 0;
      for (std::int64_t u = 0; u < team; ++u) total += sums[r * threads + u];
      const float inv = 1.0f / std::sqrt(total / float(d) + eps);
      for (std::int64_t i = i0; i < i1; i += 16)
        simd::store(y + r * d + i, simd::load(s + r * d + i) * inv * simd::load(gamma + i));
    }
  }
}

v16f silu_mul16(v16f g, v16f u) { return g / (1.0f + simd::exp(-g)) * u; }

}  // namespace

void rmsnorm(float* y, const float* x, const float* gamma, std::int64_t rows, std::int64_t d, float eps) {
  rmsnorm_rows(y, x, nullptr, nullptr, gamma, rows, d, eps);
}

void add_rmsnorm(float* y, float* x, const float* delta, const float* gamma, std::int64_t rows, std::int64_t d,
                 float eps) {
  // Row by row (each row's sum then its norm, while the row is in L1) below kRowFusedElements; above, the add over
  // every row and then the norms, in one parallel region: in a decode step of one Llama-2-7B layer (`roofline validate
  // --layers 1 --batch B --fuse add_norm` against --fuse none, B = 4 / 16 / 32 / 64, rows of 4096, two runs each)
  // row by row took 10.3 / 23-28 / 53-61 / 89-103 us against add + rmsnorm's 13-15 / 27-34 / 49-50 / 80-101, and the
  // two passes 12-14 / 27-29 / 50-52 / 86-88.
  if (rows * d >= kRowFusedElements && rows >= omp_get_max_threads()) {
    const std::int64_t n = rows * d, vec = n / 16 * 16;
#pragma omp parallel
    {
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < vec; i += 16) simd::store(x + i, simd::load(x + i) + simd::load(delta + i));
#pragma omp single
      for (std::int64_t i = vec; i < n; ++i) x[i] += delta[i];
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) rmsnorm_row(y + r * d, x + r * d, nullptr, nullptr, gamma, d, eps);
    }
    return;
  }
  rmsnorm_rows(y, x, delta, x, gamma, rows, d, eps);
}

void add(float* y, const float* a, const float* b, std::int64_t n) {
  const std::int64_t vec = n / 16 * 16;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < vec; i += 16) simd::store(y + i, simd::load(a + i) + simd::load(b + i));
  for (std::int64_t i = vec; i < n; ++i) y[i] = a[i] + b[i];
}

void silu_mul(float* y, const float* gate, const float* up, std::int64_t n) {
  const std::int64_t vec = n / 16 * 16;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < vec; i += 16) simd::store(y + i, silu_mul16(simd::load(gate + i), simd::load(up + i)));
  for (std::int64_t i = vec; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void gelu_tanh_mul(float* y, const float* gate, const float* up, std::int64_t n) {
  constexpr float k = 0.7978845608028654f, c = 0.044715f;  // sqrt(2 / pi)
  const std::int64_t vec = n / 16 * 16;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < vec; i += 16) {
    const v16f g = simd::load(gate + i);
    const v16f u = k * (g + c * g * g * g);
    simd::store(y + i, g / (1.0f + simd::exp(-2.0f * u)) * simd::load(up + i));
  }
  for (std::int64_t i = vec; i < n; ++i) {
    const float g = gate[i], u = k * (g + c * g * g * g);
    y[i] = g / (1.0f + std::exp(-2.0f * u)) * up[i];
  }
}

void softcap(float* x, std::int64_t n, float cap) {
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void embed(float* x, const float* table, const std::int32_t* tokens, std::int64_t count, std::int64_t d) {
  for (std::int64_t t = 0; t < count; ++t)
    std::memcpy(x + t * d, table + std::int64_t(tokens[t]) * d, std::size_t(d) * sizeof(float));
}

void rope(float* q, RowsOut k_out, const float* k, const std::int64_t* pos, std::int64_t tokens,
          std::int64_t n_heads, std::int64_t n_kv_heads, const RopeTable& table) {
  const std::int64_t half = table.half, hd = 2 * half;
  // rotate_half: out[i] = x[i] cos - x[i + half] sin, out[i + half] = x[i + half] cos + x[i] sin
  auto rotate = [half](float* out, const float* in, const float* c, const float* s) {
    std::int64_t i = 0;
    for (; i + 16 <= half; i += 16) {
      const v16f x1 = simd::load(in + i), x2 = simd::load(in + half + i);
      const v16f cv = simd::load(c + i), sv = simd::load(s + i);
      simd::store(out + i, x1 * cv - x2 * sv);
      simd::store(out + half + i, x2 * cv + x1 * sv);
    }
    for (; i < half; ++i) {
      const float x1 = in[i], x2 = in[half + i];
      out[i] = x1 * c[i] - x2 * s[i];
      out[half + i] = x2 * c[i] + x1 * s[i];
    }
  };
#pragma omp parallel for schedule(static) if (tokens > 1 && tokens * (n_heads + n_kv_heads) * hd >= kParallelElements)
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* c = table.cos + pos[t] * half;
    const float* s = table.sin + pos[t] * half;
    for (std::int64_t h = 0; h < n_heads; ++h) {
      float* qh = q + (t * n_heads + h) * hd;
      rotate(qh, qh, c, s);
    }
    for (std::int64_t h = 0; h < n_kv_heads; ++h) rotate(k_out.row(t) + h * hd, k + (t * n_kv_heads + h) * hd, c, s);
  }
}

void rope_strided(float* x, std::int64_t row_stride, std::int64_t head_stride, std::int64_t heads,
                  const std::int64_t* pos, std::int64_t tokens, const RopeTable& table, bool interleaved) {
  const std::int64_t half = table.half;
  // Element pair i: (2i, 2i + 1) interleaved, (i, i + half) rotate-half; a' = a cos - b sin, b' = b cos + a sin.
  const std::int64_t first = interleaved ? 2 : 1, second = interleaved ? 1 : half;
#pragma omp parallel for schedule(static) if (tokens * heads * 2 * half >= kParallelElements)
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* c = table.cos + pos[t] * half;
    const float* s = table.sin + pos[t] * half;
    for (std::int64_t h = 0; h < heads; ++h) {
      float* v = x + t * row_stride + h * head_stride;
      for (std::int64_t i = 0; i < half; ++i) {
        const float a = v[i * first], b = v[i * first + second];
        v[i * first] = a * c[i] - b * s[i];
        v[i * first + second] = b * c[i] + a * s[i];
      }
    }
  }
}

void rmsnorm_strided(RowsOut y, const float* x, std::int64_t x_stride, const float* gamma, std::int64_t rows,
                     std::int64_t d, float eps) {
#pragma omp parallel for schedule(static) if (rows * d >= kParallelElements)
  for (std::int64_t r = 0; r < rows; ++r) rmsnorm_row(y.row(r), x + r * x_stride, nullptr, nullptr, gamma, d, eps);
}

void softmax(float* x, std::int64_t rows, std::int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelElements)
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x + r * n;
    float m = row[0];
    for (std::int64_t i = 1; i < n; ++i) m = std::max(m, row[i]);
    const float inv = 1.0f / simd::exp_shifted(row, n, m);
    for (std::int64_t i = 0; i < n; ++i) row[i] *= inv;
  }
}

}  // namespace engine
