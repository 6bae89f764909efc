// Portable SIMD in 16 float lanes: GCC/Clang vector extensions on an AVX-512 host (-march=native), two native
// 8-lane halves elsewhere (AVX2, or SSE pairs), one kernel source for both.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__F16C__)
// GCC 12's intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized flags at every use.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace engine::simd {

inline constexpr int kLanes = 16;
typedef float v8f __attribute__((vector_size(32)));
typedef std::int32_t v8i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

// An unaligned load or store of one register-sized vector V (v8f, or v16f with AVX-512): one vmovups.
template <class V>
inline V load_vector(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
inline void store_vector(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// The interleave of stage B (4, 2, 1) on two 8-lane vectors x and y: lanes split in blocks of B; a takes x's and y's
// even blocks (x's first), b their odd ones. AVX2's 16-lane interleaves and transpose8 are made of these.
template <int B>
inline void interleave(v8f x, v8f y, v8f& a, v8f& b) {
  static_assert(B == 4 || B == 2 || B == 1);
  if constexpr (B == 4) {
    a = __builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11);
    b = __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15);
  } else if constexpr (B == 2) {
    a = __builtin_shufflevector(x, y, 0, 1, 8, 9, 4, 5, 12, 13);
    b = __builtin_shufflevector(x, y, 2, 3, 10, 11, 6, 7, 14, 15);
  } else {
    a = __builtin_shufflevector(x, y, 0, 8, 2, 10, 4, 12, 6, 14);
    b = __builtin_shufflevector(x, y, 1, 9, 3, 11, 5, 13, 7, 15);
  }
}

#if defined(__AVX512F__)
// One AVX-512 register: GCC's vector extensions directly.
typedef float v16f __attribute__((vector_size(64)));
typedef std::int32_t v16i __attribute__((vector_size(64)));
// What the kernels size their register tiles by: the widest vector one register holds, and how many 16-lane vectors
// the register file holds (32 zmm).
using native = v16f;
inline constexpr int kVectorRegisters = 32;

inline v16f load(const float* p) { return load_vector<v16f>(p); }
inline void store(float* p, v16f v) { store_vector(p, v); }
// A splat, not v16f{} + x: adding +0.0 is not an identity (-0.0 + 0.0 is +0.0), so that form cost an add in the
// FMA loops' dependency chain and a register broadcast where a broadcast load does (prefill attention's register tiles).
inline v16f broadcast(float x) { return v16f{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
inline v16i broadcast(std::int32_t x) { return v16i{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
// mask ? a : b, lane by lane (mask lanes all ones or zero, as comparisons give).
inline v16f select(v16i mask, v16f a, v16f b) { return mask ? a : b; }
inline v16i to_int(v16f v) { return __builtin_convertvector(v, v16i); }  // truncating, as a cast
inline v16i lane_index() { return v16i{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; }
// Lanes [0, 8) and [8, 16).
inline v8f low_half(v16f v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7); }
inline v8f high_half(v16f v) { return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15); }
inline v16f join(v8f lo, v8f hi) {
  return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
#else
// Without AVX-512 a 64-byte vector extension has no register of its size, and GCC 12 keeps every such variable
// that lives across a loop on the stack, moving it 16 bytes at a time (on a Zen 3 the GEMM ran at 3 GFLOP/s,
// prefill attention at 5-9). The same 16 lanes as two native 8-lane halves keep each half in a register; the
// operators below are the subset of the vector extensions the kernels use.
struct v16i {
  v8i lo, hi;
  std::int32_t operator[](int i) const { return i < 8 ? lo[i] : hi[i - 8]; }
};
struct v16f {
  v8f lo, hi;
  float operator[](int i) const { return i < 8 ? lo[i] : hi[i - 8]; }
};
#define ENGINE_SIMD_BINARY(T, op)                                                                     \
  inline T operator op(T a, T b) { return T{a.lo op b.lo, a.hi op b.hi}; }                         \
  inline T operator op(T a, decltype(a[0]) b) { return T{a.lo op b, a.hi op b}; }                  \
  inline T operator op(decltype(T{}[0]) a, T b) { return T{a op b.lo, a op b.hi}; }                \
  inline T& operator op##=(T& a, T b) { return a = a op b; }                                         \
  inline T& operator op##=(T& a, decltype(a[0]) b) { return a = a op b; }
ENGINE_SIMD_BINARY(v16f, +)
ENGINE_SIMD_BINARY(v16f, -)
ENGINE_SIMD_BINARY(v16f, *)
ENGINE_SIMD_BINARY(v16f, /)
ENGINE_SIMD_BINARY(v16i, +)
ENGINE_SIMD_BINARY(v16i, &)
#undef ENGINE_SIMD_BINARY
inline v16f operator-(v16f a) { return v16f{-a.lo, -a.hi}; }
inline v16i operator<<(v16i a, int n) { return v16i{a.lo << n, a.hi << n}; }
#define ENGINE_SIMD_COMPARE(T, op)                                                                       \
  inline v16i operator op(T a, T b) { return v16i{a.lo op b.lo, a.hi op b.hi}; }                      \
  inline v16i operator op(T a, decltype(a[0]) b) { return v16i{a.lo op b, a.hi op b}; }
ENGINE_SIMD_COMPARE(v16f, <)
ENGINE_SIMD_COMPARE(v16f, >)
ENGINE_SIMD_COMPARE(v16f, ==)
ENGINE_SIMD_COMPARE(v16i, <)
ENGINE_SIMD_COMPARE(v16i, >=)
#undef ENGINE_SIMD_COMPARE

// 16 ymm registers of 8 lanes: 8 16-lane vectors.
using native = v8f;
inline constexpr int kVectorRegisters = 8;

inline v16f load(const float* p) { return v16f{load_vector<v8f>(p), load_vector<v8f>(p + 8)}; }
inline void store(float* p, v16f v) {
  store_vector(p, v.lo);
  store_vector(p + 8, v.hi);
}
inline v16f broadcast(float x) {
  const v8f h = {x, x, x, x, x, x, x, x};
  return v16f{h, h};
}
inline v16i broadcast(std::int32_t x) {
  const v8i h = {x, x, x, x, x, x, x, x};
  return v16i{h, h};
}
inline v16f select(v16i mask, v16f a, v16f b) { return v16f{mask.lo ? a.lo : b.lo, mask.hi ? a.hi : b.hi}; }
inline v16i to_int(v16f v) { return v16i{__builtin_convertvector(v.lo, v8i), __builtin_convertvector(v.hi, v8i)}; }
inline v16i lane_index() { return v16i{v8i{0, 1, 2, 3, 4, 5, 6, 7}, v8i{8, 9, 10, 11, 12, 13, 14, 15}}; }
inline v8f low_half(v16f v) { return v.lo; }
inline v8f high_half(v16f v) { return v.hi; }
inline v16f join(v8f lo, v8f hi) { return v16f{lo, hi}; }
#endif
static_assert(sizeof(v16f) == 64 && sizeof(v16i) == 64);

// bf16 is the top half of an fp32: widen to 32 bits and shift left 16. int8 widens to int32, then converts.
// GCC 12 lowers __builtin_convertvector of 8-bit lanes element by element, so AVX-512 and AVX2 get intrinsics.
inline v16f load_bf16(const std::uint16_t* p) {
#if defined(__AVX512F__)
  const __m512i u = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16);
  return std::bit_cast<v16f>(_mm512_castsi512_ps(u));
#elif defined(__AVX2__)
  const __m128i* q = reinterpret_cast<const __m128i*>(p);
  const __m256i lo = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(q)), 16);
  const __m256i hi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(q + 1)), 16);
  return join(std::bit_cast<v8f>(lo), std::bit_cast<v8f>(hi));
#else
  typedef std::uint16_t v8h __attribute__((vector_size(16)));
  typedef std::uint32_t v8u __attribute__((vector_size(32)));
  v8h lo, hi;
  std::memcpy(&lo, p, sizeof lo);
  std::memcpy(&hi, p + 8, sizeof hi);
  return join(std::bit_cast<v8f>(__builtin_convertvector(lo, v8u) << 16),
              std::bit_cast<v8f>(__builtin_convertvector(hi, v8u) << 16));
#endif
}
inline v16f load_i8(const std::int8_t* p) {
#if defined(__AVX512F__)
  return std::bit_cast<v16f>(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
#elif defined(__AVX2__)
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
  return join(std::bit_cast<v8f>(lo), std::bit_cast<v8f>(hi));
#else
  typedef std::int8_t v8b __attribute__((vector_size(8)));
  v8b lo, hi;
  std::memcpy(&lo, p, sizeof lo);
  std::memcpy(&hi, p + 8, sizeof hi);
  return join(__builtin_convertvector(__builtin_convertvector(lo, v8i), v8f),
              __builtin_convertvector(__builtin_convertvector(hi, v8i), v8f));
#endif
}

// The interleave of stage B (8, 4, 2, 1) on two vectors x and y: lanes split in blocks of B; a takes x's and y's
// even blocks (x's first), b their odd ones. B = 8: a = x[0..8) y[0..8), b = x[8..16) y[8..16).
template <int B>
inline void interleave(v16f x, v16f y, v16f& a, v16f& b) {
#if defined(__AVX512F__)
  if constexpr (B == 8) {
    a = __builtin_shufflevector(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    b = __builtin_shufflevector(x, y, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  } else if constexpr (B == 4) {
    a = __builtin_shufflevector(x, y, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    b = __builtin_shufflevector(x, y, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  } else if constexpr (B == 2) {
    a = __builtin_shufflevector(x, y, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    b = __builtin_shufflevector(x, y, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
  } else {
    a = __builtin_shufflevector(x, y, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    b = __builtin_shufflevector(x, y, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  }
#else
  // B = 8 moves whole halves; below 8 each half of the result comes from the same half of x and y.
  if constexpr (B == 8) {
    a = v16f{x.lo, y.lo};
    b = v16f{x.hi, y.hi};
  } else {
    interleave<B>(x.lo, y.lo, a.lo, b.lo);
    interleave<B>(x.hi, y.hi, a.hi, b.hi);
  }
#endif
}

// In-place 16 x 16 transpose: r[i][c] becomes r[c][i]. Four stages exchange 2 x 2 blocks of side B = 8, 4,
// 2, 1 between rows i and i + B (i with bit B clear): row i keeps its columns with bit B clear and takes row
// i + B's in the others, so each stage swaps bit B of the row index with bit B of the column index, and
// after all four, rows and columns are exchanged. 64 two-vector shuffles for 256 elements.
template <int B, class V, int N>
inline void exchange_all(V (&r)[N]) {
  for (int i = 0; i < N; ++i)
    if ((i & B) == 0) interleave<B>(r[i], r[i + B], r[i], r[i + B]);
}
inline void transpose16(v16f (&r)[16]) {
  exchange_all<8>(r);
  exchange_all<4>(r);
  exchange_all<2>(r);
  exchange_all<1>(r);
}

// In-place 8 x 8 transpose of 8-lane vectors, the same exchanges (B = 4, 2, 1) on one register each: 24 two-vector
// shuffles for 64 elements. Where a register holds 8 lanes (AVX2), transpose16's 32 halves outnumber the 16 registers
// and spill; four of these over 8 rows each do not.
inline void transpose8(v8f (&r)[8]) {
  exchange_all<4>(r);
  exchange_all<2>(r);
  exchange_all<1>(r);
}

// The transpose of a square block of native vectors: 16 x 16 or 8 x 8.
inline void transpose(v16f (&r)[16]) { transpose16(r); }
inline void transpose(v8f (&r)[8]) { transpose8(r); }
// Lanes of the native vector.
inline constexpr int kNativeLanes = int(sizeof(native) / sizeof(float));

// Horizontal sum by halving: 16 -> 8 -> 4 lanes by shuffles, then scalars.
inline float hsum(v16f v) {
  const v8f a = low_half(v) + high_half(v);
  const v4f b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

// r[i] = hsum(v[kBitReversed16[i]]): the 16 horizontal sums of 16 vectors at once, 15 adds and 30
// two-vector shuffles (~3 ops a sum; hsum alone is ~10). Each level adds two halves of a pair of vectors
// into one, so after 4 levels a lane holds one vector's total; the interleaving leaves input s in lane
// bitreverse(s), so a caller that passes v[s] = x[kBitReversed16[s]] gets x's sums in order.
inline constexpr int kBitReversed16[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
template <int B, int N, class Op>
inline void reduce_level(const v16f (&in)[2 * N], v16f (&out)[N], Op op) {
  for (int i = 0; i < N; ++i) {
    v16f a, b;
    interleave<B>(in[2 * i], in[2 * i + 1], a, b);
    out[i] = op(a, b);
  }
}
template <class Op>
inline v16f reduce16(const v16f (&v)[16], Op op) {
  v16f a[8], b[4], c[2], d[1];
  reduce_level<8>(v, a, op);  // lanes 0-7: v[2i]'s halves combined, 8-15: v[2i+1]'s
  reduce_level<4>(a, b, op);
  reduce_level<2>(b, c, op);
  reduce_level<1>(c, d, op);
  return d[0];
}
inline v16f hsum16(const v16f (&v)[16]) {
  return reduce16(v, [](v16f x, v16f y) { return x + y; });
}
// The 16 horizontal maxima, in hsum16's slots.
inline v16f hmax16(const v16f (&v)[16]) {
  return reduce16(v, [](v16f x, v16f y) { return select(x > y, x, y); });
}

// exp(x) for float lanes, relative error < 2e-7 on [-87, 88]; below -87 returns 0 (softmax of masked
// scores), above 88 saturates. Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, then a degree-6
// polynomial for e^r, and 2^n built in the exponent bits.
inline v16f exp(v16f x) {
  const v16f hi = broadcast(88.3762626647949f), lo = broadcast(-87.3365478515625f);
  x = select(x > hi, hi, x);
  const v16i underflow = x < lo;
  x = select(underflow, lo, x);
  v16f n = x * 1.44269504088896341f;
  // round to nearest: add and subtract 1.5 * 2^23
  n = (n + 12582912.0f) - 12582912.0f;
  v16f r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  v16f p = broadcast(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const v16i e = (to_int(n) + 127) << 23;
  const v16f y = p * std::bit_cast<v16f>(e);
  return select(underflow, v16f{}, y);
}

// x[j] = exp(x[j] - m) for j < n rounded down to whole vectors; returns the lane partials of their sum.
inline v16f exp_shifted_lanes(float* x, std::int64_t n, float m) {
  v16f sum = {};
  for (std::int64_t j = 0; j + 16 <= n; j += 16) {
    const v16f e = exp(load(x + j) - m);
    store(x + j, e);
    sum += e;
  }
  return sum;
}

// x[j] = exp(x[j] - m) for j < n; returns their sum (softmax's numerators and denominator).
inline float exp_shifted(float* x, std::int64_t n, float m) {
  float total = hsum(exp_shifted_lanes(x, n, m));
  for (std::int64_t j = n / 16 * 16; j < n; ++j) total += x[j] = std::exp(x[j] - m);
  return total;
}

}  // namespace engine::simd
