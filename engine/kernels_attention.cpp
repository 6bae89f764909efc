// Attention over the KV cache: fused (tiled online softmax; split-position decode) and naive (scores
// materialised, softmax, then P V). All heads of a GQA group read their KV head's rows once per tile.
#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include <omp.h>

#include "engine/kernels.hpp"
#include "engine/simd.hpp"

namespace engine {
namespace {

using simd::v16f;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Row pointers of every cached position of one sequence: k_rows[j] = start of position j's K row.
struct PositionRows {
  std::vector<const float*> k, v;
};
PositionRows position_rows(const AttentionSeq& seq, std::int64_t row_stride, std::int64_t v_stride) {
  const std::int64_t total = seq.start + seq.q_len;
  PositionRows rows;
  rows.k.reserve(std::size_t(total));
  rows.v.reserve(std::size_t(total));
  for (const KvRun& run : seq.runs)
    for (std::int64_t p = 0; p < run.count && std::int64_t(rows.k.size()) < total; ++p) {
      rows.k.push_back(run.k + p * row_stride);
      rows.v.push_back(run.v + p * v_stride);
    }
  return rows;
}
std::vector<PositionRows> all_rows(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  std::vector<PositionRows> rows;
  rows.reserve(seqs.size());
  for (const AttentionSeq& seq : seqs) {
    rows.push_back(position_rows(seq, s.row_stride, s.v_stride()));
  }
  return rows;
}

// x[i] = cap tanh(x[i] / cap), i < n: Gemma 2's soft-capping of attention scores (the caller checks cap > 0).
void softcap_scores(float* x, std::int64_t n, float cap) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

// Lane partials of dot(a, b), n a multiple of 16: their horizontal sum is the dot product.
v16f dot_lanes(const float* a, const float* b, std::int64_t n) {
  v16f acc0 = {}, acc1 = {};
  std::int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 += simd::load(a + i) * simd::load(b + i);
    acc1 += simd::load(a + i + 16) * simd::load(b + i + 16);
  }
  if (i < n) acc0 += simd::load(a + i) * simd::load(b + i);
  return acc0 + acc1;
}

// dot(a, b) over n elements: the lane partials of the whole vectors, then the tail.
float dot(const float* a, const float* b, std::int64_t n) {
  const std::int64_t whole = n / 16 * 16;
  float s = whole > 0 ? simd::hsum(dot_lanes(a, b, whole)) : 0.0f;
  for (std::int64_t i = whole; i < n; ++i) s += a[i] * b[i];
  return s;
}

// row[head] = scale * q_head . (the position's K row of head's KV head), every head. 16 heads at a time
// reduce their lane partials together (simd::hsum16): one horizontal sum per (position, head) cost more
// than the head's 8 FMAs, and left decode attention compute-bound below the DRAM bandwidth. The heads are
// visited in address order and their partials filed in hsum16's bit-reversed slots (the unrolled index
// is a constant): visiting them in slot order made the K row's reads jump about, which the hardware
// prefetcher follows worse than a straight stream (`bench_engine 3 core` sets the kernel against a plain
// read of its cache).
void position_scores(float* row, const float* q, const float* k_row, const AttentionShape& s) {
  const std::int64_t h = s.n_heads, hd = s.head_dim, rep = s.n_heads / s.n_kv_heads;
  std::int64_t head = 0;
  if (hd % 16 == 0)
    for (; head + 16 <= h; head += 16) {
      v16f part[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        part[simd::kBitReversed16[i]] = dot_lanes(q + (head + i) * hd, k_row + ((head + i) / rep) * hd, hd);
      simd::store(row + head, simd::hsum16(part) * s.scale);
    }
  for (; head < h; ++head) row[head] = s.scale * dot(q + head * hd, k_row + (head / rep) * hd, hd);
  if (s.softcap > 0) softcap_scores(row, h, s.softcap);
}

// Heads a pass of positions_scores4 accumulates: 4 x 4 vectors are 16 of AVX-512's 32 registers; AVX2's hold 8, so
// 4 x 1 beside the 4 keys (the K rows are reloaded from L1 by each pass). `bench_engine 1 mla` on a Zen 3, three runs
// alternating with 4 heads a pass: absorbed decode at batch 1 / 8 / 32 46-52 / 53-56 / 53-59 GFLOP/s against 32-44 /
// 41-47 / 37-43.
constexpr int kDecodeHeads = simd::kVectorRegisters >= 32 ? 4 : 1;

// rows[p * h + head] = scale * q_head . (k_rows[p]'s row of head's KV head), 4 positions p, every head, where h is a
// multiple of 4, the kDecodeHeads heads of a pass share a KV head (rep a multiple of kDecodeHeads) and hd is a multiple
// of 16. A register tile of 4 positions x
// 4 heads: per 16 lanes of d, 4 K loads and 4 q loads feed 16 FMAs, and the 16 lane partials reduce in one hsum16
// (position_scores loads a q and a K vector for every FMA, which left MLA's absorbed decode, 16 heads over one
// latent row, compute-bound at 0.26-0.31 of the fp32 peak in `bench_engine 3 mla`).
void positions_scores4(float* rows, const float* q, const float* const* k_rows, const AttentionShape& s) {
  const std::int64_t h = s.n_heads, hd = s.head_dim, rep = s.n_heads / s.n_kv_heads;
  for (std::int64_t head = 0; head < h; head += 4) {
    v16f part[16];  // acc[p][i] of position p, head + i, in hsum16's slot for lane 4 p + i
    for (int i0 = 0; i0 < 4; i0 += kDecodeHeads) {
      const std::int64_t at = ((head + i0) / rep) * hd;  // the KV head of heads head + i0 .. + kDecodeHeads - 1
      v16f acc[4][kDecodeHeads] = {};
      for (std::int64_t d = 0; d < hd; d += 16) {
        v16f k[4], qv[kDecodeHeads];
#pragma GCC unroll 4
        for (int p = 0; p < 4; ++p) k[p] = simd::load(k_rows[p] + at + d);
#pragma GCC unroll 4
        for (int i = 0; i < kDecodeHeads; ++i) qv[i] = simd::load(q + (head + i0 + i) * hd + d);
#pragma GCC unroll 4
        for (int p = 0; p < 4; ++p)
#pragma GCC unroll 4
          for (int i = 0; i < kDecodeHeads; ++i) acc[p][i] += qv[i] * k[p];
      }
#pragma GCC unroll 16
      for (int p = 0; p < 4; ++p)
        for (int i = 0; i < kDecodeHeads; ++i) part[simd::kBitReversed16[4 * p + i0 + i]] = acc[p][i];
    }
    const v16f sums = simd::hsum16(part) * s.scale;  // lane 4 p + i: position p, head + i
    for (int p = 0; p < 4; ++p)
      for (int i = 0; i < 4; ++i) rows[p * h + head + i] = sums[4 * p + i];
  }
  if (s.softcap > 0) softcap_scores(rows, 4 * h, s.softcap);
}

// y += a * x, n elements
void axpy(float* y, float a, const float* x, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) simd::store(y + i, simd::load(y + i) + a * simd::load(x + i));
  for (; i < n; ++i) y[i] += a * x[i];
}

// o[head] += sum over positions c < P of prob[c * h + head] * (v_rows[c]'s row of head's KV head), every
// head; o is [h][vd]. A head's output, 128 values at a time, stays in 8 registers while the P rows add
// into it, each read in address order: o is loaded and stored once per P rows (one position at a time,
// the stores bound the V pass), and the rows' reads do not interleave (that cost the prefetcher).
template <int P>
void accumulate_values(float* o, const float* prob, const float* const* v_rows, const AttentionShape& s) {
  constexpr int kBlock = 8;  // vectors of 16 values held per head
  const std::int64_t h = s.n_heads, hd = s.vd(), rep = s.n_heads / s.n_kv_heads;
  for (std::int64_t head = 0; head < h; ++head) {
    float* oh = o + head * hd;
    const std::int64_t at = (head / rep) * hd;
    std::int64_t d = 0;
    for (; d + 16 * kBlock <= hd; d += 16 * kBlock) {
      v16f acc[kBlock];
#pragma GCC unroll 8
      for (int b = 0; b < kBlock; ++b) acc[b] = simd::load(oh + d + 16 * b);
#pragma GCC unroll 8
      for (int c = 0; c < P; ++c) {
        const float* v = v_rows[c] + at + d;
        const float p = prob[c * h + head];
#pragma GCC unroll 8
        for (int b = 0; b < kBlock; ++b) acc[b] += p * simd::load(v + 16 * b);
      }
#pragma GCC unroll 8
      for (int b = 0; b < kBlock; ++b) simd::store(oh + d + 16 * b, acc[b]);
    }
    for (; d + 16 <= hd; d += 16) {
      v16f acc = simd::load(oh + d);
      for (int c = 0; c < P; ++c) acc += prob[c * h + head] * simd::load(v_rows[c] + at + d);
      simd::store(oh + d, acc);
    }
    for (; d < hd; ++d)
      for (int c = 0; c < P; ++c) oh[d] += prob[c * h + head] * v_rows[c][at + d];
  }
}

constexpr std::int64_t kAhead = 2;  // positions to prefetch ahead in the decode kernel

// Prefetches rows[j] (all `floats` of it) when it does not follow rows[j - 1] in memory: the first row of a
// block of a paged cache, where the hardware prefetcher's stream ends. Within a run the hardware streams
// on its own, and a software prefetch of every line cost as many instructions as the FMAs (0.71 of the
// DRAM bandwidth with it, 0.79-0.83 without).
void prefetch_run_start(const std::vector<const float*>& rows, std::int64_t j, std::int64_t floats) {
  const float* row = rows[std::size_t(j)];
  if (j > 0 && row == rows[std::size_t(j - 1)] + floats) return;
  for (std::int64_t i = 0; i < floats; i += 16) __builtin_prefetch(row + i, 0, 3);
}

// prefetch_run_start for positions [j + kAhead, j + kAhead + P) before end: ahead of a block of P positions.
void prefetch_ahead(const std::vector<const float*>& rows, std::int64_t j, std::int64_t p, std::int64_t end,
                    std::int64_t floats) {
  for (std::int64_t a = j + kAhead; a < std::min(end, j + kAhead + p); ++a) prefetch_run_start(rows, a, floats);
}

// accumulate_values over positions [j, j + P) of rows, the first rows of their runs prefetched kAhead positions ahead.
template <int P>
void accumulate_block(float* o, const float* prob, const std::vector<const float*>& rows, std::int64_t j,
                      std::int64_t end, const AttentionShape& s) {
  prefetch_ahead(rows, j, P, end, s.v_stride());
  accumulate_values<P>(o, prob, rows.data() + j, s);
}

// ---- decode: one query per sequence, positions split across work items ------------------------------
// Each item (sequence, chunk of positions) reads its K rows and V rows once, in position order, for all
// heads, and leaves a partial softmax per head (max m, sum l, unnormalised output o). The merge rescales
// the partials to the common max: l = sum l_c e^(m_c - m), o = sum o_c e^(m_c - m) / l.
void attention_decode(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  const std::int64_t h = s.n_heads, vd = s.vd();  // vd: a head's values and output
  const auto rows = all_rows(seqs, s);
  const std::int64_t threads = omp_get_max_threads();
  const std::int64_t n_seq = std::int64_t(seqs.size());
  const std::int64_t chunks = std::max<std::int64_t>(1, (2 * threads + n_seq - 1) / n_seq);
  const std::int64_t items = n_seq * chunks;
  // Per item and head: the output o[vd] (64-byte aligned rows: the V pass loads and stores them), m and l.
  Buffer<float> partial_o(std::size_t(items * h * vd));
  std::vector<float> partial_ml(std::size_t(items * h * 2));

  const bool parallel = items > 1;
  const std::int64_t rep = s.n_heads / s.n_kv_heads;
  const bool rep4 = rep % 4 == 0 && s.head_dim % 16 == 0;  // 4 heads share a KV head
  // positions_scores4 applies where the heads of each of its passes share a KV head: any grouping where a pass takes one
  // head (AVX2), which then reads 4 K rows side by side even for MHA: `scripts/kernel-ab.sh 3fae916 16 decode` on a Zen 3
  // (MHA, 8192 positions) timed it at 0.89-0.93 of position_scores's one row at a time (medians of two runs).
  const bool four_positions = rep % kDecodeHeads == 0 && s.n_heads % 4 == 0 && s.head_dim % 16 == 0;
#pragma omp parallel if (parallel)
  {
    std::vector<float> scores, stats;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t item = 0; item < items; ++item) {
      const std::int64_t si = item / chunks, c = item % chunks;
      const AttentionSeq& seq = seqs[std::size_t(si)];
      const std::int64_t p = seq.start, lo = first_key(p, s.window), keys = p + 1 - lo;
      const std::int64_t j0 = lo + keys * c / chunks, j1 = lo + keys * (c + 1) / chunks, n = j1 - j0;
      float* o = partial_o.data() + item * h * vd;
      float* ml = partial_ml.data() + item * h * 2;
      if (n == 0) {
        for (std::int64_t head = 0; head < h; ++head) {
          ml[2 * head] = kNegInf;
          ml[2 * head + 1] = 0;
        }
        std::fill_n(o, h * vd, 0.0f);
        continue;
      }
      scores.resize(std::size_t(h * n));
      const auto& kr = rows[std::size_t(si)].k;
      const auto& vr = rows[std::size_t(si)].v;
      // K rows in position order: scores[j - j0][head], a position's scores side by side. The first row of
      // each block is prefetched kAhead positions early: rows of a paged cache are not contiguous across
      // blocks, and the hardware prefetcher's stream stops there.
      std::int64_t jk = j0;
      if (four_positions)
        for (; jk + 4 <= j1; jk += 4) {
          prefetch_ahead(kr, jk, 4, j1, s.row_stride);
          positions_scores4(scores.data() + (jk - j0) * h, seq.q, kr.data() + jk, s);
        }
      for (; jk < j1; ++jk) {
        prefetch_ahead(kr, jk, 1, j1, s.row_stride);
        position_scores(scores.data() + (jk - j0) * h, seq.q, kr[std::size_t(jk)], s);
      }
      // Per head: m = max over the chunk, p = exp(score - m), l = sum of p.
      std::vector<float>& m = stats;
      m.assign(std::size_t(2 * h), 0.0f);
      float* mx = m.data();
      float* l = m.data() + h;
      std::fill_n(mx, h, kNegInf);
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t head = 0; head < h; ++head) mx[head] = std::max(mx[head], scores[std::size_t(j * h + head)]);
      for (std::int64_t j = 0; j < n; ++j) {
        float* row = scores.data() + j * h;
        std::int64_t head = 0;
        for (; head + 16 <= h; head += 16) {
          const v16f e = simd::exp(simd::load(row + head) - simd::load(mx + head));
          simd::store(row + head, e);
          simd::store(l + head, simd::load(l + head) + e);
        }
        for (; head < h; ++head) l[head] += row[head] = std::exp(row[head] - mx[head]);
      }
      for (std::int64_t head = 0; head < h; ++head) {
        ml[2 * head] = mx[head];
        ml[2 * head + 1] = l[head];
      }
      std::fill_n(o, h * vd, 0.0f);
      std::int64_t j = j0;
      // V rows in position order, 8 at a time, or 16 where heads share a KV head (their outputs, 32 KiB for MLA's 16
      // heads of 512, are loaded and stored half as often: `bench_engine 3 mla`, seven runs alternating, a mean 4-5%
      // faster; with one KV head a head, 16 lowered `bench_engine 5 attention` from 0.81-0.83 of the DRAM read to
      // 0.77-0.80 in three runs each).
      if (rep4)
        for (; j + 16 <= j1; j += 16) accumulate_block<16>(o, scores.data() + (j - j0) * h, vr, j, j1, s);
      for (; j + 8 <= j1; j += 8) accumulate_block<8>(o, scores.data() + (j - j0) * h, vr, j, j1, s);
      for (; j < j1; ++j) accumulate_values<1>(o, scores.data() + (j - j0) * h, vr.data() + j, s);
    }
  }
  for (std::int64_t si = 0; si < n_seq; ++si) {
    for (std::int64_t head = 0; head < h; ++head) {
      float m = kNegInf;
      for (std::int64_t c = 0; c < chunks; ++c) m = std::max(m, partial_ml[std::size_t(((si * chunks + c) * h + head) * 2)]);
      float* out = seqs[std::size_t(si)].out + head * vd;
      std::fill_n(out, vd, 0.0f);
      float l = 0;
      for (std::int64_t c = 0; c < chunks; ++c) {
        const std::int64_t at = (si * chunks + c) * h + head;
        const float* ml = partial_ml.data() + at * 2;
        if (ml[1] == 0) continue;
        const float w = std::exp(ml[0] - m);
        l += w * ml[1];
        axpy(out, w, partial_o.data() + at * vd, vd);
      }
      for (std::int64_t d = 0; d < vd; ++d) out[d] /= l;
    }
  }
}

// ---- prefill: tiles of queries against tiles of keys, online softmax -----------------------------------
constexpr std::int64_t BR = 64, BC = 64;  // query positions and keys per tile
constexpr int kCols = int(BC / 16);       // vectors across a key tile
// A register tile: kRows query rows x kTileCols vectors of scores or output columns. AVX-512: 4 x 4, 16 of the 32
// registers. AVX2 has 16 registers of half the width (a vector is two): 6 x 1 vectors is 12 of them, the tile of the
// GEMM (2 loads and 6 broadcasts per 12 FMAs), the rows left by 6-row tiles one tile of their own. The 2 x 2 tile it
// replaced held 8 accumulators and reloaded its keys from memory for every FMA (8 loads and 2 broadcasts per 8 FMAs):
// with the 8 x 8 key transposes and the V copy from 256 keys, `scripts/kernel-ab.sh f27b7ec 12 prefill` on a Zen 3
// timed 0.91 / 0.95 / 0.92 / 0.89 / 0.85 of the time before at 16 / 64 / 128 / 512 / 2048 tokens (29.9 / 58.0 / 71.3
// / 88.5 / 85.5 GFLOP/s; 4 x 4 spilled: 14-54). The row loops are unrolled 8 deep: unrolled 4, 6 rows stayed an
// array in memory.
constexpr int kRows = simd::kVectorRegisters >= 32 ? 4 : 6, kTileCols = simd::kVectorRegisters >= 32 ? kCols : 1;
static_assert(kCols % kTileCols == 0);

// sc[r][j] = scale * q_rows[r] . K[j] for R query rows and the first 16 C keys of the tile, K given transposed
// (kt[d][j]). A register tile of R x 16 C scores: each d loads C vectors of kt and broadcasts R query values for
// R x C FMAs, so the FMAs, not the loads, bound it (the row-at-a-time loop it replaced loaded once per FMA).
template <int R, int C>
void tile_scores(float* sc, const float* const* q_rows, const float* kt, std::int64_t hd, float scale) {
  v16f acc[R][C] = {};
  for (std::int64_t d = 0; d < hd; ++d) {
    v16f k[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) k[c] = simd::load(kt + d * BC + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const v16f q = simd::broadcast(q_rows[r][d]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] += q * k[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) simd::store(sc + r * BC + 16 * c, acc[r][c] * scale);
}

// The scores of R rows against the tile's first nk keys only, in whole vectors: a short prompt's one tile of 16
// keys computes 16 columns, not 64 (the columns past nk are masked before they are read).
template <int R>
void tile_scores(float* sc, const float* const* q_rows, const float* kt, std::int64_t hd, float scale, std::int64_t nk) {
  const int vectors = int((nk + 15) / 16);
  if constexpr (kTileCols == 4) {
    switch (vectors) {
      case 1: return tile_scores<R, 1>(sc, q_rows, kt, hd, scale);
      case 2: return tile_scores<R, 2>(sc, q_rows, kt, hd, scale);
      case 3: return tile_scores<R, 3>(sc, q_rows, kt, hd, scale);
      default: return tile_scores<R, 4>(sc, q_rows, kt, hd, scale);
    }
  } else {  // the key tile in register tiles of kTileCols vectors, then one of a single vector
    int c = 0;
    for (; c + kTileCols <= vectors; c += kTileCols) tile_scores<R, kTileCols>(sc + 16 * c, q_rows, kt + 16 * c, hd, scale);
    for (; c < vectors; ++c) tile_scores<R, 1>(sc + 16 * c, q_rows, kt + 16 * c, hd, scale);
  }
}

// The value pass of R rows: dst[r][:vd] = (src[r][:vd] + sum over j < n of p[r * BC + j] v_rows[j][:vd]) * scale[r],
// where a null src reads zeros (an item's first key tile: its outputs need no zero-filling) and a null scale is 1 (the
// last tile passes 1 / l and writes the attention output itself, with no pass of its own to normalise it). A register
// tile of R rows x 16 kTileCols output columns stays in registers over the tile's keys: per key kTileCols loads of V
// and R broadcasts of P for R x kTileCols FMAs (the axpy per key it replaced loaded and stored the output row for every key).
template <int R>
void tile_values(float* const* dst, const float* const* src, const float* scale, const float* p,
                 const float* const* v_rows, std::int64_t n, std::int64_t vd) {
  const auto start = [&](int r, std::int64_t c) { return src ? simd::load(src[r] + c) : v16f{}; };
  const auto finish = [&](int r, v16f acc) { return scale ? acc * scale[r] : acc; };
  std::int64_t c0 = 0;
  for (; c0 + 16 * kTileCols <= vd; c0 += 16 * kTileCols) {
    v16f acc[R][kTileCols];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < kTileCols; ++c) acc[r][c] = start(r, c0 + 16 * c);
    for (std::int64_t j = 0; j < n; ++j) {
      v16f v[kTileCols];
#pragma GCC unroll 8
      for (int c = 0; c < kTileCols; ++c) v[c] = simd::load(v_rows[j] + c0 + 16 * c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const v16f pr = simd::broadcast(p[r * BC + j]);
#pragma GCC unroll 8
        for (int c = 0; c < kTileCols; ++c) acc[r][c] += pr * v[c];
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < kTileCols; ++c) simd::store(dst[r] + c0 + 16 * c, finish(r, acc[r][c]));
  }
  for (; c0 + 16 <= vd; c0 += 16)
    for (int r = 0; r < R; ++r) {
      v16f acc = start(r, c0);
      for (std::int64_t j = 0; j < n; ++j) acc += p[r * BC + j] * simd::load(v_rows[j] + c0);
      simd::store(dst[r] + c0, finish(r, acc));
    }
  for (; c0 < vd; ++c0)
    for (int r = 0; r < R; ++r) {
      float acc = src ? src[r][c0] : 0.0f;
      for (std::int64_t j = 0; j < n; ++j) acc += p[r * BC + j] * v_rows[j][c0];
      dst[r][c0] = scale ? acc * scale[r] : acc;
    }
}

// kt[d][j] = k_rows[j][at + d] for the tile's nk keys (zero past them, up to a whole vector), d < hd. Whole W x W blocks
// (W the native vector's lanes) go through registers (W row loads, simd::transpose, W contiguous stores): element by
// element the stores land BC floats apart (`bench_engine 3 prefill` at 512 and 2048 tokens, 16 rows an item: 0.32-0.33
// of the fp32 peak packed element by element, 0.44-0.45 through the transposes, on a Zen 4). On AVX2 the blocks are
// 8 x 8: a 16 x 16 block's 32 registers spilled.
void pack_keys(float* kt, const float* const* k_rows, std::int64_t nk, std::int64_t at, std::int64_t hd) {
  constexpr int W = simd::kNativeLanes;
  const std::int64_t nk_whole = nk / W * W, hd_whole = hd / W * W;
  for (std::int64_t j = 0; j < nk_whole; j += W)
    for (std::int64_t d = 0; d < hd_whole; d += W) {
      simd::native r[W];
      for (int t = 0; t < W; ++t) r[t] = simd::load_vector<simd::native>(k_rows[j + t] + at + d);
      simd::transpose(r);
      for (int t = 0; t < W; ++t) simd::store_vector(kt + (d + t) * BC + j, r[t]);
    }
  for (std::int64_t j = 0; j < (nk + 15) / 16 * 16; ++j)
    for (std::int64_t d = j < nk_whole ? hd_whole : 0; d < hd; ++d) kt[d * BC + j] = j < nk ? k_rows[j][at + d] : 0.0f;
}

// The value pass reads the tile's V rows from a contiguous copy (vt [BC][vd], 64-byte aligned rows) where its
// register tile is narrower than the key tile (AVX2 hosts) and the item reads at least 256 keys: there the register
// tile passes over the V rows once for every 16 output columns, and in place each row lies in another page of the
// cache. With the 6 x 1 tile, builds that copied everywhere or never (not kept), each timed against the other in one
// process as scripts/kernel-ab.sh does (11 rounds, median ratio), put copying everywhere at 1.04-1.11x reading in
// place at 512 and 2048 tokens and 0.88-0.95x at 64 and 128; copying from 256 keys an item ran 1.05-1.06x the
// copy-everywhere build at 64 and 128 and within 3% of it at 256 to 2048. AVX-512 hosts read them in place, as
// measured on a Zen 4.
constexpr bool kPackValues = kTileCols < kCols;

// f(std::integral_constant<int, R>{}) for R = min(n, kRows), n the rows from a register tile's first to the item's
// last: a whole tile of kRows rows, or one tile of the rows left (taken a row at a time, the 4 rows that 6-row tiles
// leave of 64 cost more than the 10 tiles before them).
template <int R = 1, class F>
void with_rows(std::int64_t n, F&& f) {
  if constexpr (R < kRows) {
    if (n <= R) return f(std::integral_constant<int, R>{});
    return with_rows<R + 1>(n, std::forward<F>(f));
  } else {
    return f(std::integral_constant<int, R>{});
  }
}

// A thread's workspace, kept across its items: the packed key tile kt [hd][BC] and the outputs o, 64-byte aligned (the
// register tiles load a whole cache line a vector; as a std::vector, kt sat wherever malloc put it, and in the build
// that kept it for the thread's life `bench_engine 3 prefill` ran 512-2048-token prompts about 10% slower until it was
// aligned), and per head and row the running max m and sum l.
struct TileScratch {
  Buffer<float> kt, vt, o;
  std::vector<float> m, l;
};

// One work item: query positions [i0, i1) of one sequence, every head of KV head `g`. Per key tile: K packed
// transposed once for the group's heads; per head the scores of all the item's rows (tile_scores), then per row the
// mask, the soft-cap and the online-softmax update (rescaling the row's output by e^(m_old - m_new)), then O += P V
// (tile_values). Outputs live in o [rep][nq][vd] (64-byte aligned rows) between tiles: the first tile starts them
// from zero, the last writes them, divided by l, to the attention output.
void attention_tile(const AttentionSeq& seq, const PositionRows& rows, const AttentionShape& s, std::int64_t g,
                    std::int64_t i0, std::int64_t i1, TileScratch& scratch) {
  const std::int64_t hd = s.head_dim, vd = s.vd(), h = s.n_heads, rep = h / s.n_kv_heads, nq = i1 - i0;
  const std::int64_t vd_padded = (vd + 15) / 16 * 16;
  Buffer<float>& kt = scratch.kt;
  Buffer<float>& o = scratch.o;
  std::vector<float>& m = scratch.m;
  std::vector<float>& l = scratch.l;
  if (std::int64_t(kt.size()) < hd * BC) kt = Buffer<float>(std::size_t(hd * BC));
  const std::int64_t lo = first_key(seq.start + i0, s.window), hi = seq.start + i1;  // keys [lo, hi)
  // Each V row then serves at least BR query rows, and the item's rows span more pages than the TLB keeps near.
  const bool pack_values = kPackValues && nq * rep >= BR && hi - lo >= 4 * BC;
  if (pack_values && std::int64_t(scratch.vt.size()) < BC * vd_padded) scratch.vt = Buffer<float>(std::size_t(BC * vd_padded));
  if (std::int64_t(o.size()) < rep * BR * vd_padded) o = Buffer<float>(std::size_t(rep * BR * vd_padded));
  m.assign(std::size_t(rep * nq), kNegInf);
  l.assign(std::size_t(rep * nq), 0.0f);
  alignas(64) float sc[BR * BC];
  const float* q_rows[BR];
  float* o_rows[BR];
  float* out_rows[BR];
  float inv_l[BR];
  const float* v_rows[BC];
  for (std::int64_t j0 = lo; j0 < hi; j0 += BC) {
    const std::int64_t nk = std::min(BC, hi - j0);
    pack_keys(kt.data(), rows.k.data() + j0, nk, g * hd, hd);
    for (std::int64_t j = 0; j < nk; ++j) v_rows[j] = rows.v[std::size_t(j0 + j)] + g * vd;
    if (pack_values)
      for (std::int64_t j = 0; j < nk; ++j) {
        float* row = scratch.vt.data() + j * vd_padded;
        std::memcpy(row, v_rows[j], std::size_t(vd) * sizeof(float));
        v_rows[j] = row;
      }
    // The tile's keys query row i (of the item) can see: those before its position. A register tile of rows stops at
    // its last row's count: the causal triangle's keys past it are neither scored nor summed (P is zero there).
    const auto visible = [&](std::int64_t i) { return std::clamp<std::int64_t>(seq.start + i0 + i + 1 - j0, 0, nk); };
    // The keys row i's register tile scores and sums: its last row's visible keys (whole kRows tiles, then one of the
    // rows left). tile_scores, the softmax and tile_values all go by it.
    const auto tile_keys = [&](std::int64_t i) { return visible(std::min(i / kRows * kRows + kRows, nq) - 1); };
    // The online-softmax update of rows [i, i + n), n <= 16, of head r's scores, over the columns tile_scores wrote
    // for each row's register tile (its last row's visible keys in whole vectors, not all BC: a short prompt's one
    // tile of 16 keys had spent about a third of its time on 48 masked columns, in an rdtsc-instrumented build, one
    // thread, 16 tokens). Per row the mask and the row's max as a vector; then the rows' maxima, corrections and sums
    // go 16 at a time (hmax16, one vector exp, hsum16) rather than a horizontal max, a scalar exp and a horizontal
    // sum per row: 2-4% faster at 16 to 512 tokens in a throwaway one-thread harness (5 rounds alternating), within
    // the noise of `OMP_NUM_THREADS=1 bench_engine 3 prefill` (three runs each alternating: medians 42.2 / 66.2 / 71.9
    // / 78.0 / 65.3 GFLOP/s at 16 / 64 / 128 / 512 / 2048 tokens against 41.1 / 69.4 / 72.2 / 76.9 / 63.7).
    const auto softmax_rows = [&](std::int64_t i, std::int64_t n, std::int64_t r) {
      v16f row_max[16], row_sum[16];
      std::int64_t width[16] = {};
      std::uint32_t seen = 0;  // bit k: row i + k has a visible key in this tile
      for (int k = 0; k < 16; ++k) row_max[k] = v16f{} + kNegInf, row_sum[k] = v16f{};
      for (int k = 0; k < n; ++k) {
        const std::int64_t ik = i + k;
        width[k] = (tile_keys(ik) + 15) / 16 * 16;
        float* row = sc + ik * BC;
        const std::int64_t p = seq.start + i0 + ik, a = std::max(j0, first_key(p, s.window)), b = std::min(j0 + nk, p + 1);
        if (a >= b) {  // no visible key in this tile: the row's P is zero, its state unchanged
          std::fill_n(row, width[k], 0.0f);
          continue;
        }
        seen |= 1u << k;
        if (s.softcap > 0) softcap_scores(row, width[k], s.softcap);
        // Columns outside the visible keys [a, b) become -inf (exp gives 0), a vector at a time.
        const simd::v16i lo_col = simd::broadcast(std::int32_t(a - j0)), end_col = simd::broadcast(std::int32_t(b - j0));
        const simd::v16i lanes = simd::lane_index();
        for (std::int64_t c = 0; c < width[k]; c += 16) {
          const simd::v16i col = lanes + std::int32_t(c);
          const v16f x = simd::select((col >= lo_col) & (col < end_col), simd::load(row + c), simd::broadcast(kNegInf));
          simd::store(row + c, x);
          row_max[k] = simd::select(row_max[k] > x, row_max[k], x);
        }
      }
      if (seen == 0) return;
      const std::size_t at = std::size_t(r * nq + i);
      float m_rows[16], l_rows[16];  // the rows' running max and sum, -inf and 0 past the last row
      for (int k = 0; k < 16; ++k)
        m_rows[k] = k < n ? m[at + std::size_t(k)] : kNegInf, l_rows[k] = k < n ? l[at + std::size_t(k)] : 0.0f;
      const v16f m_old = simd::load(m_rows), l_old = simd::load(l_rows);
      v16f part[16];
      for (int k = 0; k < 16; ++k) part[simd::kBitReversed16[k]] = row_max[k];
      const v16f tile_max = simd::hmax16(part), m_new = simd::select(m_old > tile_max, m_old, tile_max);
      // e^(m_old - m_new), and 0 before a row's first visible key (m_old = -inf: its output is still zero; the -100
      // keeps -inf - -inf out of the exp, whose input below -87 gives 0)
      const v16f correction = simd::exp(simd::select(m_old == kNegInf, simd::broadcast(-100.0f), m_old - m_new));
      for (int k = 0; k < n; ++k) {
        if (!(seen >> k & 1u)) continue;
        if (m_old[k] != kNegInf && correction[k] != 1.0f)
          for (std::int64_t d = 0; d < vd_padded; d += 16)
            simd::store(o_rows[i + k] + d, simd::load(o_rows[i + k] + d) * correction[k]);
        row_sum[k] = simd::exp_shifted_lanes(sc + (i + k) * BC, width[k], m_new[k]);
      }
      for (int k = 0; k < 16; ++k) part[simd::kBitReversed16[k]] = row_sum[k];
      const v16f l_new = l_old * correction + simd::hsum16(part);
      for (int k = 0; k < n; ++k)
        if (seen >> k & 1u) m[at + std::size_t(k)] = m_new[k], l[at + std::size_t(k)] = l_new[k];
    };
    for (std::int64_t r = 0; r < rep; ++r) {
      const std::int64_t head = g * rep + r;
      for (std::int64_t i = 0; i < nq; ++i) {
        q_rows[i] = seq.q + (i0 + i) * h * hd + head * hd;
        o_rows[i] = o.data() + (r * nq + i) * vd_padded;
        out_rows[i] = seq.out + (i0 + i) * h * vd + head * vd;
      }
      for (std::int64_t i = 0; i < nq; i += kRows)
        if (const std::int64_t n = tile_keys(i); n > 0)
          with_rows(nq - i, [&](auto rows_) { tile_scores<rows_.value>(sc + i * BC, q_rows + i, kt.data(), hd, s.scale, n); });
      for (std::int64_t i = 0; i < nq; i += 16) softmax_rows(i, std::min<std::int64_t>(16, nq - i), r);
      const bool first = j0 == lo, last = j0 + BC >= hi;
      const float* const* src = first ? nullptr : o_rows;
      float* const* dst = last ? out_rows : o_rows;
      if (last)
        for (std::int64_t i = 0; i < nq; ++i) inv_l[i] = 1.0f / l[std::size_t(r * nq + i)];
      const float* scale = last ? inv_l : nullptr;
      for (std::int64_t i = 0; i < nq; i += kRows)
        with_rows(nq - i, [&](auto rows_) {
          tile_values<rows_.value>(dst + i, src ? src + i : nullptr, scale ? scale + i : nullptr, sc + i * BC, v_rows,
                                   tile_keys(i), vd);
        });
    }
  }
}


void attention_tiled(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  const auto rows = all_rows(seqs, s);
  struct Item {
    std::int64_t seq, g, i0, i1;
  };
  std::vector<Item> items;
  for (std::int64_t si = 0; si < std::int64_t(seqs.size()); ++si)
    for (std::int64_t g = 0; g < s.n_kv_heads; ++g)
      for (std::int64_t i0 = 0; i0 < seqs[std::size_t(si)].q_len; i0 += BR)
        items.push_back({si, g, i0, std::min(seqs[std::size_t(si)].q_len, i0 + BR)});
#pragma omp parallel
  {
    TileScratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t n = 0; n < items.size(); ++n) {
      const Item& it = items[n];
      attention_tile(seqs[std::size_t(it.seq)], rows[std::size_t(it.seq)], s, it.g, it.i0, it.i1, scratch);
    }
  }
}

// Score row of query i of a sequence: keys_total entries, key j at column j.
std::int64_t keys_total(const AttentionSeq& seq) { return seq.start + seq.q_len; }

template <class F>
void for_each_row(std::span<const AttentionSeq> seqs, const AttentionShape& s, F&& f) {
  // Offsets of each sequence's [head][q_len][keys] block in the score buffer.
  std::vector<std::int64_t> offset(seqs.size() + 1, 0);
  for (std::size_t i = 0; i < seqs.size(); ++i)
    offset[i + 1] = offset[i] + s.n_heads * seqs[i].q_len * keys_total(seqs[i]);
  const std::int64_t pairs = std::int64_t(seqs.size()) * s.n_heads;
#pragma omp parallel for schedule(dynamic, 1) if (offset.back() >= (1 << 14))
  for (std::int64_t sh = 0; sh < pairs; ++sh) {
    const std::int64_t si = sh / s.n_heads, head = sh % s.n_heads;
    const AttentionSeq& seq = seqs[std::size_t(si)];
    const std::int64_t kt = keys_total(seq);
    for (std::int64_t i = 0; i < seq.q_len; ++i) {
      const std::int64_t p = seq.start + i;
      f(si, head, i, offset[std::size_t(si)] + (head * seq.q_len + i) * kt, first_key(p, s.window), p + 1);
    }
  }
}

}  // namespace

std::int64_t first_key(std::int64_t p, const std::optional<std::int64_t>& window) {
  return window ? std::max<std::int64_t>(0, p - *window + 1) : 0;
}

void attention(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  const bool decode = std::all_of(seqs.begin(), seqs.end(), [](const AttentionSeq& q) { return q.q_len == 1; });
  if (decode)
    attention_decode(seqs, s);
  else
    attention_tiled(seqs, s);
}

std::int64_t score_elements(std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  std::int64_t n = 0;
  for (const AttentionSeq& seq : seqs) n += s.n_heads * seq.q_len * keys_total(seq);
  return n;
}

void qk_scores(float* scores, std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  const auto rows = all_rows(seqs, s);
  const std::int64_t hd = s.head_dim, rep = s.n_heads / s.n_kv_heads;
  for_each_row(seqs, s, [&](std::int64_t si, std::int64_t head, std::int64_t i, std::int64_t at, std::int64_t a,
                            std::int64_t b) {
    const float* q = seqs[std::size_t(si)].q + (i * s.n_heads + head) * hd;
    const auto& kr = rows[std::size_t(si)].k;
    for (std::int64_t j = a; j < b; ++j) {
      const float score = s.scale * dot(q, kr[std::size_t(j)] + (head / rep) * hd, hd);
      scores[at + j] = s.softcap > 0 ? s.softcap * std::tanh(score / s.softcap) : score;
    }
  });
}

void softmax_scores(float* scores, std::span<const AttentionSeq> seqs, const AttentionShape& s) {
  for_each_row(seqs, s, [&](std::int64_t, std::int64_t, std::int64_t, std::int64_t at, std::int64_t a, std::int64_t b) {
    softmax(scores + at + a, 1, b - a);
  });
}

void sv_product(std::span<const AttentionSeq> seqs, const float* scores, const AttentionShape& s) {
  const auto rows = all_rows(seqs, s);
  const std::int64_t hd = s.vd(), rep = s.n_heads / s.n_kv_heads;
  for_each_row(seqs, s, [&](std::int64_t si, std::int64_t head, std::int64_t i, std::int64_t at, std::int64_t a,
                            std::int64_t b) {
    float* out = seqs[std::size_t(si)].out + (i * s.n_heads + head) * hd;
    std::fill_n(out, hd, 0.0f);
    const auto& vr = rows[std::size_t(si)].v;
    for (std::int64_t j = a; j < b; ++j) axpy(out, scores[at + j], vr[std::size_t(j)] + (head / rep) * hd, hd);
  });
}

}  // namespace engine
