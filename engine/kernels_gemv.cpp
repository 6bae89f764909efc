// GEMV for the linear layers (decode, up to kGemvMaxRows rows): y[m, n] = x[m, k] W^T + bias, W stored
// [n, k] in f32, bf16 or int8, streamed once per call.
// GCC 12 flags the self-initialised _mm512_undefined_* inside the AVX-512 widening intrinsics once they are
// inlined into the int8 kernels (GCC bug 105593, a false -Wmaybe-uninitialized): silenced for this file only.
#if !defined(__clang__)  // clang has no such warning (the fuzz build compiles with it)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <bit>

#include <omp.h>

#include "engine/kernels.hpp"
#include "engine/scale_to_float.hpp"
#include "engine/simd.hpp"

namespace engine {
namespace {

using detail::scale_to_float;
using simd::v16f;

// W row `row` from column `col`, in its stored type: what the loads, prefetches and the scalar tail read.
template <WeightFormat F>
inline const auto* weights_at(const Linear& w, std::int64_t row, std::int64_t col) {
  if constexpr (F == WeightFormat::f32) return w.f32.data() + row * w.k + col;
  if constexpr (F == WeightFormat::bf16) return w.bf16.data() + row * w.k + col;
  if constexpr (F == WeightFormat::int8) return w.i8.data() + row * w.k + col;
}

template <WeightFormat F>
inline v16f load_w(const Linear& w, std::int64_t row, std::int64_t col) {
  if constexpr (F == WeightFormat::f32) return simd::load(weights_at<F>(w, row, col));
  if constexpr (F == WeightFormat::bf16) return simd::load_bf16(weights_at<F>(w, row, col));
  if constexpr (F == WeightFormat::int8) return simd::load_i8(weights_at<F>(w, row, col));
}

template <WeightFormat F>
constexpr std::int64_t kElementBytes = F == WeightFormat::f32 ? 4 : F == WeightFormat::bf16 ? 2 : 1;
// Software prefetch distance, and lines prefetched per step of 64 or 128 weights: every line for bf16 and
// int8, at 4 KiB; f32 one line in four at 2 KiB, where more gained nothing. With one line in four for all,
// bf16 and int8 moved 0.86-0.94 of f32's weight bytes/s (`bench_engine 3 gemv`, the README's earlier
// table); with every line, 0.89-1.03.
template <WeightFormat F>
constexpr std::int64_t kPrefetchBytes = F == WeightFormat::f32 ? 2048 : 4096;
template <WeightFormat F>
constexpr std::int64_t kPrefetchElements = kPrefetchBytes<F> / kElementBytes<F>;
template <WeightFormat F, int Step>
constexpr int kPrefetchLines = F == WeightFormat::f32 ? 1 : int(Step * kElementBytes<F> / 64);

template <WeightFormat F>
inline void prefetch_w(const Linear& w, std::int64_t row, std::int64_t col) {
  __builtin_prefetch(weights_at<F>(w, row, col), 0, 3);
}

template <WeightFormat F>
inline float scalar_w(const Linear& w, std::int64_t row, std::int64_t col) {
  if constexpr (F == WeightFormat::bf16) return bf16_to_float(*weights_at<F>(w, row, col));
  return float(*weights_at<F>(w, row, col));
}

// y[m0 + i][n] = the horizontal sum of acc[.][i] + tail[i] + bias, for MB rows of x.
template <int MB>
inline void store_dots(RowsOut y, const v16f (&acc)[4][MB], const float (&tail)[MB], const Linear& w,
                       std::int64_t n, std::int64_t m0) {
  const float b = w.bias.empty() ? 0.0f : w.bias[std::size_t(n)];
  for (int i = 0; i < MB; ++i)
    y.row(m0 + i)[n] = simd::hsum((acc[0][i] + acc[1][i]) + (acc[2][i] + acc[3][i])) + tail[i] + b;
}

// sum[u][i] += lane partial products of W row n and x row m0 + i over columns [c0, c1), 64 per step into
// the 4 accumulators u (FMA latency is hidden); tail[i] += the columns past the last multiple of 16. A
// software prefetch runs kPrefetchBytes ahead in the stream, inside the matrix (elements_left of it).
template <WeightFormat F, int MB, int Step = 64, bool Tails = true>
inline void dot_span(v16f (&sum)[4][MB], float (&tail)[MB], const float* x, const Linear& w, std::int64_t n,
                     std::int64_t m0, std::int64_t c0, std::int64_t c1, std::int64_t elements_left) {
  const std::int64_t k = w.k;
  std::int64_t c = c0;
  for (; c + Step <= c1; c += Step) {
    for (int line = 0; line < kPrefetchLines<F, Step>; ++line) {
      const std::int64_t ahead = c + line * (64 / kElementBytes<F>) + kPrefetchElements<F>;
      if (ahead < elements_left) prefetch_w<F>(w, n, ahead);
    }
    for (int u = 0; u < Step / 16; ++u) {
      const v16f wv = load_w<F>(w, n, c + 16 * u);
      for (int i = 0; i < MB; ++i) sum[u % 4][i] += wv * simd::load(x + (m0 + i) * k + c + 16 * u);
    }
  }
  if constexpr (!Tails) return;
  for (; c + 16 <= c1; c += 16) {
    const v16f wv = load_w<F>(w, n, c);
    for (int i = 0; i < MB; ++i) sum[0][i] += wv * simd::load(x + (m0 + i) * k + c);
  }
  for (; c < c1; ++c)
    for (int i = 0; i < MB; ++i) tail[i] += scalar_w<F>(w, n, c) * x[(m0 + i) * k + c];
}

// y[m0 + i][n] = dot(W row n, x row m0 + i) + bias, for MB rows of x. One weight row at a time, so each
// thread reads one sequential stream (rows are contiguous): several rows at once are several streams a
// page apart, which the hardware prefetchers follow badly (int8 and bf16 fell to half the f32 bandwidth).
// int8 keeps the scale out of the per-weight work: the row's dot product is sum over groups g of
// scale_g * sum_{i in g} q_i x_i, so each group is summed from the exactly converted integers (|q| <= 127)
// and its 4 lane sums scaled once into 4 accumulators (one accumulator chained a group's sum through a
// single FMA per group and ran at 60% of the rate). Per 16 weights that leaves widen, convert and FMA: the
// scale multiply was a quarter of the ops, and the int8 kernel is compute-bound.
template <WeightFormat F, int MB>
void gemv_row(RowsOut y, const float* x, const Linear& w, std::int64_t n, std::int64_t m0) {
  const std::int64_t k = w.k, elements_left = (w.n - n) * k;
  v16f acc[4][MB] = {};
  float acc_tail[MB] = {};
  if constexpr (F != WeightFormat::int8) {
    dot_span<F, MB>(acc, acc_tail, x, w, n, m0, 0, k, elements_left);
  } else {
    const std::uint16_t* scales = w.scales.data() + n * (k / w.group);  // walked by pointer: no divisions
    for (std::int64_t c0 = 0; c0 < k; c0 += w.group) {
      v16f sum[4][MB] = {};
      float tail[MB] = {};
      if (w.group % 128 == 0)
        dot_span<F, MB, 128, false>(sum, tail, x, w, n, m0, c0, c0 + w.group, elements_left);
      else if (w.group % 64 == 0)
        dot_span<F, MB, 64, false>(sum, tail, x, w, n, m0, c0, c0 + w.group, elements_left);
      else
        dot_span<F, MB>(sum, tail, x, w, n, m0, c0, c0 + w.group, elements_left);
      const float scale = scale_to_float(*scales++);
      for (int i = 0; i < MB; ++i) {
        for (int u = 0; u < 4; ++u) acc[u][i] += sum[u][i] * scale;
        acc_tail[i] += tail[i] * scale;
      }
    }
  }
  store_dots<MB>(y, acc, acc_tail, w, n, m0);
}

// Every weight row against every row of x, B rows of x at a time (the row of W stays in L1 between
// blocks): row(n, m0) with MB = B, then the last m % B (< 4) rows, each a compile-time count. Weight rows
// are dealt to the threads in contiguous shares, so each reads one sequential stream; weights below
// kParallelWeightBytes are not worth waking the team for (a few microseconds of fork/join).
constexpr std::size_t kParallelWeightBytes = std::size_t{1} << 18;

template <int B, class Row>
void for_rows(std::int64_t m, const Linear& w, const Row& row) {
  static_assert(B <= 4);
  const bool parallel = w.weight_bytes() >= kParallelWeightBytes;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t n = 0; n < w.n; ++n) {
    std::int64_t m0 = 0;
    for (; m0 + B <= m; m0 += B) row.template operator()<B>(n, m0);
    const std::int64_t rest = m - m0;
    if constexpr (B > 3) {
      if (rest == 3) row.template operator()<3>(n, m0);
    }
    if constexpr (B > 2) {
      if (rest == 2) row.template operator()<2>(n, m0);
    }
    if (rest == 1) row.template operator()<1>(n, m0);
  }
}

// int8 takes 2 x rows at a time: its group sums double the accumulators, and 4 x 2 x 4 of them would spill.
template <WeightFormat F>
constexpr int kRowBlock = F == WeightFormat::int8 ? 2 : 4;

#if defined(__AVX512BW__) || defined(__AVX2__)
// int8 GEMV on in-lane byte shuffles, for k and the group a multiple of 64. 64 weights load as one vector (two
// halves on AVX2); shuffle j puts byte 4e + j of each 16-byte lane at the top of dword e, so cvtdq2ps gives
// q * 2^24 exactly (|q| <= 127) for the 16 weights c + 4E + j (E the dword's place in the 64 bytes: both ISAs
// shuffle within 16-byte lanes, so the order is the same), and the 2^-24 joins the group's scale. x is permuted
// once per call to match: xp[c + 16j + E] = x[c + 4E + j] in each block of 64. Per 16 weights this is an in-lane
// shuffle, a convert and an FMA, where widening each weight (vpmovsxbd) crosses lanes. int8 is still the format
// nearest to compute-bound: one AVX-512 thread reads about 37 GB/s of weights from cache (f32: 104), barely above
// its cold rate, level with f32's (`bench_engine 3 core`).
constexpr std::array<std::array<std::int8_t, 64>, 4> kTopByte = [] {
  std::array<std::array<std::int8_t, 64>, 4> t{};
  for (int j = 0; j < 4; ++j)
    for (int b = 0; b < 64; ++b)  // bytes 0-2 of each dword zeroed (high bit set), byte 3 takes 4e + j
      t[j][b] = b % 4 == 3 ? std::int8_t(4 * (b % 16 / 4) + j) : std::int8_t(-128);
  return t;
}();

#if defined(__AVX512BW__)
using I8Block = __m512i;  // 64 weights
using I8Mask = __m512i;
inline I8Mask top_byte_mask(int j) { return _mm512_loadu_si512(kTopByte[std::size_t(j)].data()); }
inline I8Block load_block(const std::int8_t* p) { return _mm512_loadu_si512(p); }
inline v16f top_bytes(I8Block q, I8Mask mask) {  // weights 4E + j (mask j) as floats times 2^24
  return std::bit_cast<v16f>(_mm512_cvtepi32_ps(_mm512_shuffle_epi8(q, mask)));
}
// 32 zmm registers: 4 group sums and 4 accumulators for each of 2 rows of x, the row of W read once for both.
constexpr int kI8Sums = 4, kI8Rows = 2;
#else
struct I8Block {  // 64 weights as two AVX2 halves
  __m256i lo, hi;
};
using I8Mask = __m256i;  // the 16-byte lane pattern repeats, so the first 32 bytes serve both halves
inline I8Mask top_byte_mask(int j) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTopByte[std::size_t(j)].data()));
}
inline I8Block load_block(const std::int8_t* p) {
  const auto* v = reinterpret_cast<const __m256i*>(p);
  return {_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)};
}
inline v16f top_bytes(I8Block q, I8Mask mask) {
  return simd::join(std::bit_cast<simd::v8f>(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(q.lo, mask))),
                    std::bit_cast<simd::v8f>(_mm256_cvtepi32_ps(_mm256_shuffle_epi8(q.hi, mask))));
}
// 16 ymm registers: 2 group sums and 2 accumulators (2 halves each), the 4 masks and the weights of one row of x.
// The software prefetch stays on both ISAs: without it the Zen 3 took about 1.2x the time (`scripts/kernel-ab.sh
// f1eaad3 16 gemv-int8`), unlike the f32 GEMV, whose several streams it slowed. Two rows at once (two streams, the x
// vectors loaded once for both) took 1.14x the time of one.
constexpr int kI8Sums = 2, kI8Rows = 1;
#endif

void permute_x_i8(float* xp, const float* x, std::int64_t m, std::int64_t k) {  // xp, x: [m, k]
  for (std::int64_t i = 0; i < m * k; i += 64)
    for (int j = 0; j < 4; ++j)
      for (int e = 0; e < 16; ++e) xp[i + 16 * j + e] = x[i + 4 * e + j];
}

// y[m0 + i][n] = dot(W row n, x row m0 + i) + bias for MB rows, xp permuted by permute_x_i8.
template <int MB>
void gemv_row_i8_shuffled(RowsOut y, const float* xp, const Linear& w, std::int64_t n, std::int64_t m0) {
  const std::int64_t k = w.k, bytes_left = (w.n - n) * k;
  I8Mask top[4];
  for (int j = 0; j < 4; ++j) top[j] = top_byte_mask(j);
  const std::int8_t* row = w.i8.data() + n * k;
  const std::uint16_t* scales = w.scales.data() + n * (k / w.group);
  v16f acc[4][MB] = {};  // store_dots sums 4; the first kI8Sums are used
  for (std::int64_t c0 = 0; c0 < k; c0 += w.group) {
    v16f sum[kI8Sums][MB] = {};
    for (std::int64_t c = c0; c < c0 + w.group; c += 64) {
      if (c + kPrefetchBytes<WeightFormat::int8> < bytes_left)
        __builtin_prefetch(row + c + kPrefetchBytes<WeightFormat::int8>, 0, 3);
      const I8Block q = load_block(row + c);
      for (int j = 0; j < 4; ++j) {
        const v16f wv = top_bytes(q, top[j]);
        for (int i = 0; i < MB; ++i) sum[j % kI8Sums][i] += wv * simd::load(xp + (m0 + i) * k + c + 16 * j);
      }
    }
    const float scale = scale_to_float(*scales++) * 0x1p-24f;
    for (int i = 0; i < MB; ++i)
      for (int u = 0; u < kI8Sums; ++u) acc[u][i] += sum[u][i] * scale;
  }
  const float no_tail[MB] = {};
  store_dots<MB>(y, acc, no_tail, w, n, m0);
}

void gemv_i8_shuffled(RowsOut y, const float* x, std::int64_t m, const Linear& w) {
  thread_local Buffer<float> xp;  // lives with the thread: no allocation per call
  if (std::int64_t(xp.size()) < m * w.k) xp = Buffer<float>(std::size_t(m * w.k));
  permute_x_i8(xp.data(), x, m, w.k);
  const float* xs = xp.data();
  for_rows<kI8Rows>(m, w, [&]<int MB>(std::int64_t n, std::int64_t m0) { gemv_row_i8_shuffled<MB>(y, xs, w, n, m0); });
}
#endif

// Weight rows a GEMV of one x row reads at once. On an AVX2 host (a Zen 3) one thread's single stream with the
// software prefetch above left DRAM bandwidth unused: `scripts/kernel-ab.sh 486c509 10 gemv` (f32, weights cold, N =
// 4096 / 11008, K = 4096) timed a row at a time without the prefetch at 0.78 / 0.79 of the kernel above, and 2, 4 or 8
// rows at once at 0.64-0.77, level with OpenBLAS's sgemv in the same rounds (which reads 4 rows at once). AVX-512 hosts
// keep the single stream they were measured with (f32 0.96-1.03x OpenBLAS on a Zen 4); x blocks of several rows keep
// it too, and so does int8 (compute-bound on AVX2: 4 rows at once read 0.47 / 0.40 of f32's bytes/s in `bench_engine 3
// gemv` in a build that took them so, against 0.53 / 0.47 for the single stream, where bf16 went from 0.73 / 0.61 to
// 0.81 / 0.86; one run each).
constexpr int kStreams = simd::kVectorRegisters >= 32 ? 1 : 4;

// y[0][n + r] = dot(W row n + r, x) + bias for r < R, one row of x, f32 or bf16 weights: R sequential streams, 32
// columns a step (two accumulators a row), no software prefetch.
template <WeightFormat F, int R>
void gemv_rows(RowsOut y, const float* x, const Linear& w, std::int64_t n) {
  static_assert(F != WeightFormat::int8, "int8 sums its groups apart: gemv_row");
  const std::int64_t k = w.k;
  v16f acc[R][2] = {};
  std::int64_t c = 0;
  for (; c + 32 <= k; c += 32)
    for (int h = 0; h < 2; ++h) {
      const v16f xv = simd::load(x + c + 16 * h);
      for (int r = 0; r < R; ++r) acc[r][h] += load_w<F>(w, n + r, c + 16 * h) * xv;
    }
  for (int r = 0; r < R; ++r) {
    float dot = simd::hsum(acc[r][0] + acc[r][1]);
    for (std::int64_t t = c; t < k; ++t) dot += scalar_w<F>(w, n + r, t) * x[t];
    y.row(0)[n + r] = dot + (w.bias.empty() ? 0.0f : w.bias[std::size_t(n + r)]);
  }
}

template <WeightFormat F>
void gemv_format(RowsOut y, const float* x, std::int64_t m, const Linear& w) {
  if constexpr (kStreams > 1 && F != WeightFormat::int8) {
    if (m == 1) {  // groups of kStreams rows dealt to the threads in contiguous shares; the last rows one by one
      const std::int64_t groups = (w.n + kStreams - 1) / kStreams;
#pragma omp parallel for schedule(static) if (w.weight_bytes() >= kParallelWeightBytes)
      for (std::int64_t g = 0; g < groups; ++g) {
        const std::int64_t n = g * kStreams;
        if (n + kStreams <= w.n)
          gemv_rows<F, kStreams>(y, x, w, n);
        else
          for (std::int64_t r = n; r < w.n; ++r) gemv_rows<F, 1>(y, x, w, r);
      }
      return;
    }
  }
  for_rows<kRowBlock<F>>(m, w, [&]<int MB>(std::int64_t n, std::int64_t m0) { gemv_row<F, MB>(y, x, w, n, m0); });
}

}  // namespace

void gemv(RowsOut y, const float* x, std::int64_t m, const Linear& w) {
  switch (w.format) {
    case WeightFormat::f32: gemv_format<WeightFormat::f32>(y, x, m, w); break;
    case WeightFormat::bf16: gemv_format<WeightFormat::bf16>(y, x, m, w); break;
    case WeightFormat::int8:
#if defined(__AVX512BW__) || defined(__AVX2__)
      if (w.k % 64 == 0 && w.group % 64 == 0) {
        gemv_i8_shuffled(y, x, m, w);
        break;
      }
#endif
      gemv_format<WeightFormat::int8>(y, x, m, w);
      break;
  }
}

}  // namespace engine
