// GEMM for the linear layers (prefill, and decode past kGemvMaxRows rows): y[m, n] = x[m, k] W^T + bias, W
// stored [n, k] in f32, bf16 or int8; and linear(), which picks the GEMM or the GEMV (kernels_gemv.cpp).
// GCC 12 flags the self-initialised _mm512_undefined_* inside the AVX-512 widening intrinsics once they are
// inlined into pack_w (GCC bug 105593, a false -Wmaybe-uninitialized): silenced for this file only.
#if !defined(__clang__)  // clang has no such warning (the fuzz build compiles with it)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <cstring>

#include <omp.h>

#include "engine/kernels.hpp"
#include "engine/scale_to_float.hpp"
#include "engine/simd.hpp"

namespace engine {
namespace {

using detail::scale_to_float;
using simd::v16f;

// ---- GEMM ----------------------------------------------------------------------------------------------
// Goto/BLIS blocking: a KC x NC block of W^T is packed into NR-wide panels (dequantized: the micro-kernel
// is fp32 only), an MC x KC block of x into MR-tall panels, and an MR x NR tile of y is accumulated in
// registers (AVX-512): 14 x 32 = 28 vector accumulators, 2 vector loads and 14 broadcasts per 28 FMAs (of the 32 vector
// registers; `bench_engine 3 gemm`, 14- and 12-row binaries alternating three times: medians 0.934 / 0.911 and
// 0.910 / 0.892 of OpenBLAS's rate at N = 4096 / 11008).
// KC is long because each K block reloads and restores every tile of y, which is larger than L2. `bench_engine 3
// gemm` on a Zen 4 host, this binary alternating with KC = 256 / MC = 224: 1.01-1.02 of OpenBLAS's SkylakeX sgemm
// against 0.89-0.92 (a throwaway harness that swept KC put 512 between them). A packed W panel
// (KC x NR x 4 B = 128 KiB) and an x block (MC x KC x 4 B = 448 KiB) then share a 1 MiB L2; the FMAs need
// 6.6 B a cycle of them, which L2 streams.
// An AVX2 host has 16 vector registers of 8 lanes, and a 64-byte vector no register at all (GCC keeps an array of
// them on the stack: 3 GFLOP/s on a Zen 3): there the tile is 6 x 16, in the native 8-lane type, 12 accumulators,
// 2 loads and 6 broadcasts per 12 FMAs (the Haswell-class shape BLIS uses). NV: vectors across a tile row.
using Vec = simd::native;
constexpr std::int64_t MR = simd::kVectorRegisters == 32 ? 14 : 6, MC = simd::kVectorRegisters == 32 ? 112 : 120;
constexpr std::int64_t kVecLanes = simd::kNativeLanes, NV = 2, NR = NV * kVecLanes, KC = 1024, NC = 2048;
static_assert(NR % 16 == 0 && MC % MR == 0, "W panels are packed in 16-column blocks; x blocks hold whole panels");
constexpr auto load_vec = simd::load_vector<Vec>;
constexpr auto store_vec = simd::store_vector<Vec>;

// W[row][col .. col + 16) as fp32; int8 dequantized with scale group g (the 16 columns lie in one group).
inline v16f load_w16(const Linear& w, std::int64_t row, std::int64_t col, std::int64_t g) {
  switch (w.format) {
    case WeightFormat::f32: return simd::load(w.f32.data() + row * w.k + col);
    case WeightFormat::bf16: return simd::load_bf16(w.bf16.data() + row * w.k + col);
    case WeightFormat::int8: break;
  }
  return simd::load_i8(w.i8.data() + row * w.k + col) * scale_to_float(w.scales[std::size_t(row * w.groups_per_row() + g)]);
}

// One element of W as fp32.
inline float w_at(const Linear& w, std::int64_t row, std::int64_t col) {
  const std::size_t at = std::size_t(row * w.k + col);
  switch (w.format) {
    case WeightFormat::f32: return w.f32[at];
    case WeightFormat::bf16: return bf16_to_float(w.bf16[at]);
    case WeightFormat::int8: break;
  }
  return float(w.i8[at]) * half_to_float(w.scales[std::size_t(row * w.groups_per_row() + col / w.group)]);
}

// Packs rows [n0, n0 + nc) x columns [k0, k0 + kc) of W as panels p: dst[p][kk][j] = W[n0 + p*NR + j][k0 + kk],
// zero beyond n. Whole 16 x 16 blocks go through registers: 16 row loads, a transpose, 16 contiguous stores
// (element by element the stores are NR floats apart, and below 64 rows of x the packing, not the FMAs, set
// the GEMM's time; `bench_engine 3 smallm` shows where it now meets the GEMV). The rest, element by element.
void pack_w(float* dst, const Linear& w, std::int64_t n0, std::int64_t nc, std::int64_t k0, std::int64_t kc) {
  const bool blocks = k0 % 16 == 0 && (w.format != WeightFormat::int8 || w.group % 16 == 0);
  const std::int64_t kc16 = blocks ? kc / 16 * 16 : 0;
  for (std::int64_t p = 0; p < nc; p += NR) {
    float* panel = dst + p * kc;
    for (std::int64_t j0 = 0; j0 < NR; j0 += 16) {
      const bool full = p + j0 + 16 <= nc;
      if (full)
        for (std::int64_t kk = 0; kk < kc16; kk += 16) {
          const std::int64_t g = w.format == WeightFormat::int8 ? (k0 + kk) / w.group : 0;  // once per 256 weights
          v16f r[16];
          for (int j = 0; j < 16; ++j) r[j] = load_w16(w, n0 + p + j0 + j, k0 + kk, g);
          simd::transpose16(r);
          for (int t = 0; t < 16; ++t) simd::store(panel + (kk + t) * NR + j0, r[t]);
        }
      for (std::int64_t j = j0; j < j0 + 16; ++j) {
        const bool inside = p + j < nc;
        for (std::int64_t kk = full ? kc16 : 0; kk < kc; ++kk)
          panel[kk * NR + j] = inside ? w_at(w, n0 + p + j, k0 + kk) : 0.0f;
      }
    }
  }
}

// Packs rows [m0, m0 + mc) x columns [k0, k0 + kc) of x as panels p: dst[p][kk][i] = x[m0 + p*MR + i][k0 + kk].
void pack_x(float* dst, const float* x, std::int64_t k, std::int64_t m0, std::int64_t mc, std::int64_t k0,
            std::int64_t kc) {
  for (std::int64_t p = 0; p < mc; p += MR) {
    float* panel = dst + p * kc;
    for (std::int64_t i = 0; i < MR; ++i) {
      if (p + i >= mc) {
        for (std::int64_t kk = 0; kk < kc; ++kk) panel[kk * MR + i] = 0;
        continue;
      }
      const float* src = x + (m0 + p + i) * k + k0;
      for (std::int64_t kk = 0; kk < kc; ++kk) panel[kk * MR + i] = src[kk];
    }
  }
}

// c[MR][NV vectors] += sum over kk < kc of a[kk][i] * b[kk][j]. On AVX2 the K loop is unrolled 4 deep:
// `scripts/kernel-ab.sh af3d777 12 gemm` on a Zen 3 (both builds in one process, the order swapped every round) timed
// it at 0.91 / 0.92 of the loop as written at N = 4096 / 11008, 134.5 / 130.9 GFLOP/s against OpenBLAS's 132.6 / 133.6
// in the same rounds (unrolled 2 or 8: within 2% of 4). AVX-512 keeps the loop it was measured with (a pragma cannot
// read simd::kVectorRegisters, hence the macro).
inline void accumulate(Vec (&c)[MR][NV], const float* a, const float* b, std::int64_t kc) {
#if !defined(__AVX512F__)
#pragma GCC unroll 4
#endif
  for (std::int64_t kk = 0; kk < kc; ++kk) {
    Vec bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load_vec(b + kk * NR + v * kVecLanes);
    const float* ak = a + kk * MR;
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) c[i][v] += ak[i] * bv[v];
  }
}

// tile[MR][NR] = sum over kk < kc of a[kk][i] * b[kk][j]
inline void micro_kernel(float* tile, const float* a, const float* b, std::int64_t kc) {
  Vec c[MR][NV] = {};
  accumulate(c, a, b, kc);
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) store_vec(tile + i * NR + v * kVecLanes, c[i][v]);
}

// A whole MR x NR tile straight into y: the accumulators start from y's values (or zero for the first K block)
// and the last K block adds the bias, so no tile buffer is written and read back element by element (no change
// `bench_engine 3 gemm` could tell from its noise; partial tiles at the edges still take that path).
inline void micro_kernel_into(RowsOut y, std::int64_t m0, std::int64_t n0, const float* a, const float* b,
                              std::int64_t kc, bool first, const float* bias) {
  Vec c[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) c[i][v] = first ? Vec{} : load_vec(y.row(m0 + i) + n0 + v * kVecLanes);
  accumulate(c, a, b, kc);
  Vec bv[NV];
  for (int v = 0; v < NV; ++v) bv[v] = bias ? load_vec(bias + n0 + v * kVecLanes) : Vec{};
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) store_vec(y.row(m0 + i) + n0 + v * kVecLanes, c[i][v] + bv[v]);
}

// y[m0.., n0..] (+)= the tile, clipped to rows < mr and columns < nr; the last K block adds the bias.
void write_tile(RowsOut y, const float* tile, std::int64_t m0, std::int64_t mr, std::int64_t n0, std::int64_t nr,
                bool first, const float* bias) {
  for (std::int64_t i = 0; i < mr; ++i) {
    float* dst = y.row(m0 + i) + n0;
    const float* src = tile + i * NR;
    if (first) {
      for (std::int64_t j = 0; j < nr; ++j) dst[j] = src[j];
    } else {
      for (std::int64_t j = 0; j < nr; ++j) dst[j] += src[j];
    }
    if (bias)
      for (std::int64_t j = 0; j < nr; ++j) dst[j] += bias[n0 + j];
  }
}

// Asks for rows [r0, r1) of y's columns [n0, n0 + NR) ahead of their tile: y is larger than L2 and each of its
// tiles comes back once per K block, so without this every tile starts with 2 x MR cache misses.
inline void prefetch_tile(RowsOut y, std::int64_t r0, std::int64_t r1, std::int64_t n0) {
  for (std::int64_t i = r0; i < r1; ++i) {
    const float* row = y.row(i) + n0;
    for (std::int64_t j = 0; j < NR; j += 16) __builtin_prefetch(row + j, 1, 3);
  }
}

// One thread's share: output columns [n_begin, n_end).
void gemm_columns(RowsOut y, const float* x, std::int64_t m, const Linear& w, std::int64_t n_begin,
                  std::int64_t n_end, float* packed_w, float* packed_x) {
  alignas(64) float tile[MR * NR];
  const float* bias = w.bias.empty() ? nullptr : w.bias.data();
  for (std::int64_t jc = n_begin; jc < n_end; jc += NC) {
    const std::int64_t nc = std::min(NC, n_end - jc);
    for (std::int64_t pc = 0; pc < w.k; pc += KC) {
      const std::int64_t kc = std::min(KC, w.k - pc);
      const bool first = pc == 0, last = pc + kc == w.k;
      pack_w(packed_w, w, jc, nc, pc, kc);
      for (std::int64_t ic = 0; ic < m; ic += MC) {
        const std::int64_t mc = std::min(MC, m - ic);
        pack_x(packed_x, x, w.k, ic, mc, pc, kc);
        for (std::int64_t jr = 0; jr < nc; jr += NR) {
          for (std::int64_t ir = 0; ir < mc; ir += MR) {
            if (ir + MR < mc)  // the next tile down this panel, else the first of the next panel
              prefetch_tile(y, ic + ir + MR, ic + std::min(mc, ir + 2 * MR), jc + jr);
            else if (jr + NR < nc)
              prefetch_tile(y, ic, ic + std::min(mc, MR), jc + jr + NR);
            if (ir + MR <= mc && jr + NR <= nc) {
              micro_kernel_into(y, ic + ir, jc + jr, packed_x + ir * kc, packed_w + jr * kc, kc, first,
                                last ? bias : nullptr);
              continue;
            }
            micro_kernel(tile, packed_x + ir * kc, packed_w + jr * kc, kc);
            write_tile(y, tile, ic + ir, std::min(MR, mc - ir), jc + jr, std::min(NR, nc - jr), first,
                       last ? bias : nullptr);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm(RowsOut y, const float* x, std::int64_t m, const Linear& w) {
  const bool parallel = double(m) * double(w.n) * double(w.k) >= 1e6;
#pragma omp parallel if (parallel)
  {
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    // Split the columns in NR-aligned shares, one per thread.
    const std::int64_t panels = (w.n + NR - 1) / NR;
    const std::int64_t begin = panels * t / threads * NR, end = std::min(w.n, panels * (t + 1) / threads * NR);
    if (begin < end) {
      // Packing buffers live as long as the thread: no allocation (or page faults) per call.
      thread_local Buffer<float> packed_w, packed_x;
      const auto w_size = std::size_t(KC * std::min(NC, (end - begin + NR - 1) / NR * NR));
      const auto x_size = std::size_t(KC * ((std::min(MC, m) + MR - 1) / MR * MR));
      if (packed_w.size() < w_size) packed_w = Buffer<float>(w_size);
      if (packed_x.size() < x_size) packed_x = Buffer<float>(x_size);
      gemm_columns(y, x, m, w, begin, end, packed_w.data(), packed_x.data());
    }
  }
}

void linear(RowsOut y, const float* x, std::int64_t m, const Linear& w) {
  if (m <= kGemvMaxRows)
    gemv(y, x, m, w);
  else
    gemm(y, x, m, w);
}

}  // namespace engine
