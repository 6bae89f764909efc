// engine/simd.hpp lane by lane against scalar arithmetic. Built for the host's ISA as the kernels are
// (-march=native): on AVX-512 this checks the vector-extension types, elsewhere the two-half structs.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "engine/simd.hpp"

namespace {

using engine::simd::v16f;
using engine::simd::v16i;
namespace simd = engine::simd;

std::array<float, 16> lanes(v16f v) {
  std::array<float, 16> out{};
  simd::store(out.data(), v);
  return out;
}

v16f iota(float start, float step) {
  std::array<float, 16> x{};
  for (int i = 0; i < 16; ++i) x[std::size_t(i)] = start + step * float(i);
  return simd::load(x.data());
}

TEST(Simd, LoadStoreAndLaneAccessAgree) {
  const v16f v = iota(-3.5f, 0.75f);
  const auto out = lanes(v);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[std::size_t(i)], -3.5f + 0.75f * float(i)) << "lane " << i;
    EXPECT_EQ(v[i], out[std::size_t(i)]) << "lane " << i;
  }
}

TEST(Simd, ArithmeticWithVectorsAndScalarsIsLaneWise) {
  const v16f a = iota(1.0f, 1.0f), b = iota(-8.0f, 0.5f);
  v16f acc = a;
  acc += 2.0f * b;
  acc -= a / 4.0f;
  acc *= 0.5f;
  const auto got = lanes(acc), neg = lanes(-(a - b) * a + 1.0f);
  for (int i = 0; i < 16; ++i) {
    const float x = 1.0f + float(i), y = -8.0f + 0.5f * float(i);
    EXPECT_FLOAT_EQ(got[std::size_t(i)], (x + 2.0f * y - x / 4.0f) * 0.5f) << "lane " << i;
    EXPECT_FLOAT_EQ(neg[std::size_t(i)], -(x - y) * x + 1.0f) << "lane " << i;
  }
}

TEST(Simd, SelectFollowsTheComparisonMasks) {
  const v16f a = iota(0.0f, 1.0f), b = iota(15.0f, -1.0f);  // cross between lanes 7 and 8
  const auto mx = lanes(simd::select(a > b, a, b)), mn = lanes(simd::select(a < b, a, b));
  const auto eq = lanes(simd::select(a == 3.0f, simd::broadcast(-1.0f), a));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(mx[std::size_t(i)], std::max(float(i), 15.0f - float(i))) << "lane " << i;
    EXPECT_EQ(mn[std::size_t(i)], std::min(float(i), 15.0f - float(i))) << "lane " << i;
    EXPECT_EQ(eq[std::size_t(i)], i == 3 ? -1.0f : float(i)) << "lane " << i;
  }
  // Integer lanes: columns inside [4, 11) of a 16-wide window, as prefill attention masks its keys.
  const v16i col = simd::lane_index() + 0;
  const v16i inside = (col >= simd::broadcast(std::int32_t(4))) & (col < simd::broadcast(std::int32_t(11)));
  const auto masked = lanes(simd::select(inside, a, simd::broadcast(-INFINITY)));
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(masked[std::size_t(i)], i >= 4 && i < 11 ? float(i) : -INFINITY) << "lane " << i;
}

TEST(Simd, Transpose16ExchangesRowsAndColumns) {
  v16f r[16];
  for (int i = 0; i < 16; ++i) r[i] = iota(float(100 * i), 1.0f);  // r[i][c] = 100 i + c
  simd::transpose16(r);
  for (int i = 0; i < 16; ++i) {
    const auto row = lanes(r[i]);
    for (int c = 0; c < 16; ++c) EXPECT_EQ(row[std::size_t(c)], float(100 * c + i)) << "row " << i << " column " << c;
  }
}

TEST(Simd, Transpose8ExchangesRowsAndColumns) {
  simd::v8f r[8];
  for (int i = 0; i < 8; ++i)
    for (int c = 0; c < 8; ++c) r[i][c] = float(100 * i + c);
  simd::transpose8(r);
  for (int i = 0; i < 8; ++i)
    for (int c = 0; c < 8; ++c) EXPECT_EQ(r[i][c], float(100 * c + i)) << "row " << i << " column " << c;
}

TEST(Simd, TransposeOfTheNativeBlockIsItsSquare) {
  constexpr int W = simd::kNativeLanes;
  simd::native r[W];
  for (int i = 0; i < W; ++i) {
    float row[W];
    for (int c = 0; c < W; ++c) row[c] = float(1000 * i + c);
    r[i] = simd::load_vector<simd::native>(row);
  }
  simd::transpose(r);
  for (int i = 0; i < W; ++i) {
    float row[W];
    simd::store_vector(row, r[i]);
    for (int c = 0; c < W; ++c) EXPECT_EQ(row[c], float(1000 * c + i)) << "row " << i << " column " << c;
  }
}

TEST(Simd, HorizontalReductionsFillTheBitReversedSlots) {
  v16f v[16];
  for (int s = 0; s < 16; ++s) v[s] = iota(float(s) - 7.0f, 0.25f * float(s + 1));
  auto scalar_sum = [&](int s) {
    float t = 0;
    for (float x : lanes(v[s])) t += x;
    return t;
  };
  auto scalar_max = [&](int s) {
    float t = -INFINITY;
    for (float x : lanes(v[s])) t = std::max(t, x);
    return t;
  };
  const auto sums = lanes(simd::hsum16(v)), maxima = lanes(simd::hmax16(v));
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(sums[std::size_t(i)], scalar_sum(simd::kBitReversed16[i]), 1e-4) << "slot " << i;
    EXPECT_EQ(maxima[std::size_t(i)], scalar_max(simd::kBitReversed16[i])) << "slot " << i;
  }
  EXPECT_NEAR(simd::hsum(v[5]), scalar_sum(5), 1e-4);
}

TEST(Simd, ExpIsAccurateAndUnderflowsToZero) {
  for (float x0 = -87.0f; x0 < 88.0f; x0 += 16.0f * 0.37f) {
    const v16f x = simd::select(iota(x0, 0.37f) > 88.0f, simd::broadcast(88.0f), iota(x0, 0.37f));
    const auto in = lanes(x), got = lanes(simd::exp(x));
    for (int i = 0; i < 16; ++i)  // the scalar algorithm's worst case on [-87, 88] is 8.2e-8
      EXPECT_NEAR(got[std::size_t(i)] / std::exp(double(in[std::size_t(i)])), 1.0, 2e-7) << "exp(" << in[std::size_t(i)] << ")";
  }
  const auto low = lanes(simd::exp(iota(-200.0f, 7.0f)));  // -200 .. -95: all below -87
  for (float y : low) EXPECT_EQ(y, 0.0f);
  EXPECT_EQ(lanes(simd::exp(simd::broadcast(-INFINITY)))[0], 0.0f);  // a masked score
  const simd::v16i n = simd::to_int(iota(-3.9f, 1.0f));  // truncation toward zero: -3, -2, -1, 0, 1, ...
  for (int i = 0; i < 16; ++i) EXPECT_EQ(n[i], std::int32_t(-3.9f + float(i))) << "lane " << i;
}

TEST(Simd, WideningLoadsAreExact) {
  std::array<std::uint16_t, 16> bf16{};
  std::array<std::int8_t, 16> i8{};
  for (int i = 0; i < 16; ++i) {
    const float x = float(i - 8) * 0.375f;  // exactly representable in bf16's 8 significant bits
    bf16[std::size_t(i)] = std::uint16_t(std::bit_cast<std::uint32_t>(x) >> 16);
    i8[std::size_t(i)] = std::int8_t(i * 17 - 128);
  }
  const auto from_bf16 = lanes(simd::load_bf16(bf16.data())), from_i8 = lanes(simd::load_i8(i8.data()));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(from_bf16[std::size_t(i)], float(i - 8) * 0.375f) << "lane " << i;
    EXPECT_EQ(from_i8[std::size_t(i)], float(i * 17 - 128)) << "lane " << i;
  }
}

}  // namespace
