// engine kernels against engine::reference (double accumulation) on random inputs and odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/kv_cache.hpp"
#include "engine/reference.hpp"
#include "engine_support.hpp"

namespace {

using engine::WeightFormat;

struct LinearCase {
  std::int64_t m, n, k;
  WeightFormat format;
  std::int64_t group;
  bool bias;
};

TEST(EngineKernels, LinearMatchesReferenceOnOddShapesAndEveryFormat) {
  const std::vector<LinearCase> cases = {
      {1, 1, 1, WeightFormat::f32, 0, false},     {1, 37, 19, WeightFormat::f32, 0, true},
      {1, 130, 100, WeightFormat::f32, 0, true},  {1, 8, 64, WeightFormat::f32, 0, false},  // whole and partial row groups
      {3, 130, 67, WeightFormat::f32, 0, false},  {7, 33, 256, WeightFormat::bf16, 0, true},
      {8, 45, 48, WeightFormat::int8, 16, false}, {5, 64, 100, WeightFormat::int8, 100, true},  // per channel
      {9, 31, 29, WeightFormat::f32, 0, true},    {13, 70, 300, WeightFormat::bf16, 0, false},
      {25, 97, 260, WeightFormat::f32, 0, true},  {40, 65, 64, WeightFormat::int8, 32, true},
      {250, 300, 530, WeightFormat::f32, 0, false},  // several MC and KC blocks, edge tiles
      // int8 groups of whole 64-column blocks (the GEMV's byte-shuffle path on AVX-512 and AVX2, x permuted per
      // block), per group and per channel, odd x row counts
      {3, 37, 512, WeightFormat::int8, 128, true}, {1, 19, 192, WeightFormat::int8, 64, false},
      {8, 23, 256, WeightFormat::int8, 256, true}};
  unsigned seed = 1;
  for (const auto& c : cases) {
    const auto w = random_vector(std::size_t(c.n * c.k), seed++, 0.5f), x = random_vector(std::size_t(c.m * c.k), seed++);
    const auto b = random_vector(std::size_t(c.n), seed++);
    const engine::Linear l = engine::make_linear("w", w.data(), c.n, c.k, c.format, c.group, c.bias ? b.data() : nullptr);
    std::vector<float> want(std::size_t(c.m * c.n)), gemm(want.size()), gemv(want.size());
    engine::reference::linear(want.data(), x.data(), c.m, l);
    engine::gemm({gemm.data(), c.n, nullptr}, x.data(), c.m, l);
    engine::gemv({gemv.data(), c.n, nullptr}, x.data(), c.m, l);
    const std::string what = "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
                             " " + engine::to_string(c.format);
    // fp32 accumulation of k products of magnitude <= 0.5: error ~ k * 2^-24 relative to the sum of |terms|
    expect_close(gemm, want, 1e-4, 1e-4 * std::sqrt(double(c.k)), "gemm " + what);
    expect_close(gemv, want, 1e-4, 1e-4 * std::sqrt(double(c.k)), "gemv " + what);
  }
}

TEST(EngineKernels, LinearWritesThroughARowTable) {
  const std::int64_t m = 3, n = 20, k = 32;
  const auto w = random_vector(std::size_t(n * k), 5), x = random_vector(std::size_t(m * k), 6);
  const engine::Linear l = engine::make_linear("w", w.data(), n, k, WeightFormat::f32, 0, nullptr);
  std::vector<float> want(std::size_t(m * n)), scattered(std::size_t(3 * m * n), -7.0f);
  engine::reference::linear(want.data(), x.data(), m, l);
  std::vector<float*> rows = {scattered.data() + 2 * n, scattered.data() + 7 * n, scattered.data() + 4 * n};
  engine::linear({nullptr, 0, rows.data()}, x.data(), m, l);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) EXPECT_NEAR(rows[std::size_t(i)][j], want[std::size_t(i * n + j)], 1e-4);
  EXPECT_EQ(scattered[0], -7.0f);  // rows not in the table untouched
}

TEST(EngineKernels, QuantizationIsWithinHalfAStep) {
  const std::int64_t n = 4, k = 64;
  const auto w = random_vector(std::size_t(n * k), 9);
  const engine::Linear q = engine::make_linear("w", w.data(), n, k, WeightFormat::int8, 16, nullptr);
  const engine::Linear b = engine::make_linear("w", w.data(), n, k, WeightFormat::bf16, 0, nullptr);
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t c = 0; c < k; ++c) {
      const float scale = engine::half_to_float(q.scales[std::size_t(r * 4 + c / 16)]);
      EXPECT_LE(std::fabs(q.at(r, c) - w[std::size_t(r * k + c)]), 0.5f * scale * 1.01f);
      EXPECT_LE(std::fabs(b.at(r, c) - w[std::size_t(r * k + c)]), std::fabs(w[std::size_t(r * k + c)]) * 0x1.0p-8f);
    }
  EXPECT_THROW(engine::make_linear("w", w.data(), n, k, WeightFormat::int8, 24, nullptr), std::exception);
}

TEST(EngineKernels, HalfAndBf16ConversionsRoundTrip) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 3.14159f}) {
    EXPECT_EQ(engine::half_to_float(engine::float_to_half(f)), engine::half_to_float(engine::float_to_half(f)));
    EXPECT_NEAR(engine::half_to_float(engine::float_to_half(f)), f, std::fabs(f) * 1e-3 + 1e-8) << f;
    EXPECT_NEAR(engine::bf16_to_float(engine::float_to_bf16(f)), f, std::fabs(f) * 4e-3) << f;
  }
  EXPECT_TRUE(std::isinf(engine::half_to_float(engine::float_to_half(1e6f))));
  EXPECT_TRUE(std::isnan(engine::half_to_float(engine::float_to_half(NAN))));
}

TEST(EngineKernels, ElementWiseMatchReference) {
  for (std::int64_t n : {1, 15, 16, 17, 1000, 70001}) {
    const auto a = random_vector(std::size_t(n), unsigned(n), 8.0f), b = random_vector(std::size_t(n), unsigned(n + 1));
    std::vector<float> got(static_cast<std::size_t>(n)), want(static_cast<std::size_t>(n));
    engine::add(got.data(), a.data(), b.data(), n);
    engine::reference::add(want.data(), a.data(), b.data(), n);
    expect_close(got, want, 1e-7, 0, "add");
    engine::silu_mul(got.data(), a.data(), b.data(), n);
    engine::reference::silu_mul(want.data(), a.data(), b.data(), n);
    expect_close(got, want, 1e-5, 1e-6, "silu_mul");
  }
  // 5 rows; and 1 row long enough to be split across the threads (a decode step's RMSNorm), and 1 that is not
  // a whole number of vectors; and enough rows for add_rmsnorm's two-pass form (2^17 elements and more).
  for (auto [rows, d] : {std::pair<std::int64_t, std::int64_t>{5, 1}, {5, 7}, {5, 64}, {5, 129}, {1, 4096},
                         {1, 8192 + 48}, {1, 5000}, {40, 4096}, {33, 4001}}) {
    const auto x = random_vector(std::size_t(rows * d), 3, 4.0f), g = random_vector(std::size_t(d), 4);
    std::vector<float> got(x.size()), want(x.size());
    engine::rmsnorm(got.data(), x.data(), g.data(), rows, d, 1e-5f);
    engine::reference::rmsnorm(want.data(), x.data(), g.data(), rows, d, 1e-5f);
    expect_close(got, want, 1e-5, 1e-6, "rmsnorm");
    // The fused residual add: x + delta written back, and the same norm as add then rmsnorm (the same sums in the
    // same order: equal, not only close).
    const auto delta = random_vector(x.size(), 5, 2.0f);
    std::vector<float> fused_x = x, fused_y(x.size()), added(x.size()), normed(x.size());
    engine::add_rmsnorm(fused_y.data(), fused_x.data(), delta.data(), g.data(), rows, d, 1e-5f);
    engine::add(added.data(), x.data(), delta.data(), rows * d);
    engine::rmsnorm(normed.data(), added.data(), g.data(), rows, d, 1e-5f);
    EXPECT_EQ(fused_x, added) << rows << " x " << d;
    EXPECT_EQ(fused_y, normed) << rows << " x " << d;
    std::vector<float> s1 = x, s2 = x;
    engine::softmax(s1.data(), rows, d);
    engine::reference::softmax(s2.data(), rows, d);
    expect_close(s1, s2, 1e-5, 1e-7, "softmax");
  }
}

TEST(EngineKernels, RopeMatchesReferenceAndWritesKThroughTheTable) {
  const std::int64_t T = 5, h = 3, g = 1, hd = 10, half = hd / 2, positions = 40;
  std::vector<float> inv_freq(static_cast<std::size_t>(half)), cos(std::size_t(positions * half)), sin(cos.size());
  for (std::int64_t i = 0; i < half; ++i) inv_freq[std::size_t(i)] = float(1.0 / std::pow(10000.0, double(2 * i) / double(hd)));
  for (std::int64_t p = 0; p < positions; ++p)
    for (std::int64_t i = 0; i < half; ++i) {
      cos[std::size_t(p * half + i)] = std::cos(float(p) * inv_freq[std::size_t(i)]);
      sin[std::size_t(p * half + i)] = std::sin(float(p) * inv_freq[std::size_t(i)]);
    }
  auto q = random_vector(std::size_t(T * h * hd), 1), k = random_vector(std::size_t(T * g * hd), 2);
  auto q_ref = q, k_ref = k;
  std::vector<std::int64_t> pos = {0, 1, 2, 17, 39};
  std::vector<float> k_out(k.size());
  std::vector<float*> rows;
  for (std::int64_t t = 0; t < T; ++t) rows.push_back(k_out.data() + t * g * hd);
  engine::rope(q.data(), {nullptr, 0, rows.data()}, k.data(), pos.data(), T, h, g, {half, cos.data(), sin.data()});
  engine::reference::rope(q_ref.data(), k_ref.data(), pos.data(), T, h, g, hd, inv_freq.data());
  expect_close(q, q_ref, 1e-5, 1e-5, "rope q");
  expect_close(k_out, k_ref, 1e-5, 1e-5, "rope k");
}

// A batch of sequences with caches of different lengths in a paged cache; every attention path against
// the reference.
struct AttentionFixture {
  std::int64_t h, g, hd, block;
  std::optional<std::int64_t> window;
  std::vector<std::int64_t> starts, q_lens;
  engine::KvCache cache;
  std::vector<std::vector<float>> q, out;
  std::vector<std::vector<engine::KvRun>> runs;
  std::vector<engine::AttentionSeq> seqs;
  engine::AttentionShape shape;

  AttentionFixture(std::int64_t h_, std::int64_t g_, std::int64_t hd_, std::int64_t block_,
                   std::optional<std::int64_t> window_, std::vector<std::int64_t> starts_, std::vector<std::int64_t> q_lens_)
      : h(h_), g(g_), hd(hd_), block(block_), window(window_), starts(std::move(starts_)), q_lens(std::move(q_lens_)),
        cache(1, g_ * hd_, block_, 256) {
    shape = {h, g, hd, g * hd, window, 1.0f / std::sqrt(float(hd))};
    unsigned seed = 11;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const std::int64_t id = cache.add_sequence(), total = starts[i] + q_lens[i];
      cache.reserve(id, total);
      cache.set_length(id, total);
      for (std::int64_t p = 0; p < total; ++p) {
        const auto kr = random_vector(std::size_t(g * hd), seed++, 2.0f), vr = random_vector(std::size_t(g * hd), seed++);
        std::copy(kr.begin(), kr.end(), cache.k_row(id, 0, p));
        std::copy(vr.begin(), vr.end(), cache.v_row(id, 0, p));
      }
      q.push_back(random_vector(std::size_t(q_lens[i] * h * hd), seed++, 2.0f));
      out.emplace_back(std::size_t(q_lens[i] * h * hd), 0.0f);
      runs.emplace_back();
      cache.runs(id, 0, total, runs.back());
    }
    for (std::size_t i = 0; i < starts.size(); ++i)
      seqs.push_back({q[i].data(), out[i].data(), q_lens[i], starts[i], runs[i]});
  }
};

void check_attention(AttentionFixture& f, const std::string& what) {
  f.seqs.clear();
  std::vector<std::vector<float>> want;
  for (std::size_t i = 0; i < f.starts.size(); ++i) want.emplace_back(f.out[i].size());
  std::vector<engine::AttentionSeq> ref;
  for (std::size_t i = 0; i < f.starts.size(); ++i) {
    ref.push_back({f.q[i].data(), want[i].data(), f.q_lens[i], f.starts[i], f.runs[i]});
    f.seqs.push_back({f.q[i].data(), f.out[i].data(), f.q_lens[i], f.starts[i], f.runs[i]});
  }
  engine::reference::attention(ref, f.shape);
  engine::attention(f.seqs, f.shape);
  for (std::size_t i = 0; i < want.size(); ++i) expect_close(f.out[i], want[i], 1e-4, 1e-5, what + " fused, seq " + std::to_string(i));
  std::vector<float> scores(std::size_t(engine::score_elements(f.seqs, f.shape)));
  for (auto& o : f.out) std::fill(o.begin(), o.end(), 0.0f);
  engine::qk_scores(scores.data(), f.seqs, f.shape);
  engine::softmax_scores(scores.data(), f.seqs, f.shape);
  engine::sv_product(f.seqs, scores.data(), f.shape);
  for (std::size_t i = 0; i < want.size(); ++i) expect_close(f.out[i], want[i], 1e-4, 1e-5, what + " naive, seq " + std::to_string(i));
}

TEST(EngineKernels, PrefillAttentionTiledAndNaiveMatchReference) {
  AttentionFixture f(4, 2, 24, 16, std::nullopt, {0, 5, 40}, {37, 1, 70});  // GQA, odd lengths, prefix cached
  check_attention(f, "prefill");
  AttentionFixture w(2, 1, 16, 7, std::int64_t{9}, {0, 30}, {50, 20});  // sliding window, odd block size
  check_attention(w, "window");
  // Head dim 128 (whole 64-column register tiles), prompts over three key tiles, a cached prefix: items of 64 rows and
  // a remainder, register tiles that score one to four key vectors and sum only the keys their last row sees.
  AttentionFixture wide(4, 2, 128, 16, std::nullopt, {0, 50}, {150, 90});
  check_attention(wide, "prefill head_dim 128");
  // A cached prefix of 250 positions: each item reads more than 256 keys, so where the register tile is narrower than
  // the key tile (AVX2) the value pass reads the V rows from a contiguous copy.
  AttentionFixture deep(4, 2, 128, 16, std::nullopt, {250}, {70});
  check_attention(deep, "prefill head_dim 128 after 250 cached");
  AttentionFixture wide_window(4, 4, 128, 16, std::int64_t{40}, {0}, {130});
  check_attention(wide_window, "prefill head_dim 128 window 40");
  // Gemma 2's soft-capping: scores of up to about 10 (queries and keys of +-2, head 24) squashed into (-5, 5).
  f.shape.softcap = 5;
  check_attention(f, "prefill soft-capped");
}

TEST(EngineKernels, DecodeAttentionMatchesReference) {
  AttentionFixture f(8, 2, 32, 16, std::nullopt, {0, 3, 200, 63}, {1, 1, 1, 1});
  check_attention(f, "decode");
  AttentionFixture w(4, 4, 16, 5, std::int64_t{6}, {10, 2}, {1, 1});
  check_attention(w, "decode window");
  // 16 heads at a time plus 4 alone; a head of 48 ends on a 16-lane step, one of 24 takes the scalar dot
  AttentionFixture wide(20, 4, 48, 16, std::nullopt, {0, 100, 37}, {1, 1, 1});
  check_attention(wide, "decode 20 heads");
  AttentionFixture odd(16, 8, 24, 16, std::nullopt, {5, 66}, {1, 1});
  check_attention(odd, "decode head_dim 24");
  // One KV head a head (MHA) and one per two heads: where a pass takes one head (AVX2), 4 positions at a time read
  // their K rows side by side whatever the grouping
  AttentionFixture mha(8, 8, 32, 16, std::nullopt, {0, 90, 41}, {1, 1, 1});
  check_attention(mha, "decode MHA");
  AttentionFixture pairs(8, 4, 32, 16, std::nullopt, {77, 6}, {1, 1});
  check_attention(pairs, "decode 2 heads a KV head");
  wide.shape.softcap = 5;
  check_attention(wide, "decode soft-capped");
}

// Soft-capping changes the result (so the tests above compare something), and a cap far above every score
// changes nothing visible.
TEST(EngineKernels, SoftCappingSquashesTheScores) {
  AttentionFixture f(4, 2, 24, 16, std::nullopt, {0}, {40});
  std::vector<float> plain(f.out[0].size()), capped(f.out[0].size()), loose(f.out[0].size());
  auto run = [&](float cap, std::vector<float>& into) {
    f.shape.softcap = cap;
    const engine::AttentionSeq seq{f.q[0].data(), into.data(), f.q_lens[0], f.starts[0], f.runs[0]};
    engine::attention({&seq, 1}, f.shape);
  };
  run(0, plain);
  run(2, capped);
  run(1e4f, loose);
  double moved = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) moved = std::max(moved, double(std::abs(plain[i] - capped[i])));
  EXPECT_GT(moved, 1e-2);
  expect_close(loose, plain, 1e-4, 1e-5, "a cap of 1e4");
}

TEST(EngineKernels, PagedRunsAreTheContiguousCacheCutIntoBlocks) {
  engine::KvCache paged(2, 8, 3, 10);
  const std::int64_t s0 = paged.add_sequence(), s1 = paged.add_sequence();
  paged.reserve(s0, 7);
  paged.reserve(s1, 2);
  std::vector<engine::KvRun> runs;
  paged.runs(s0, 1, 7, runs);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].count, 3);
  EXPECT_EQ(runs[2].count, 1);
  EXPECT_EQ(runs[1].k, paged.k_row(s0, 1, 3));
  EXPECT_EQ(paged.free_blocks(), 10 - 3 - 1);
  try {
    paged.reserve(s1, 40);
    FAIL() << "expected the cache to run out of blocks";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("blocks"), std::string::npos) << e.what();
  }
  paged.release(s0);
  EXPECT_EQ(paged.free_blocks(), 9);
}

}  // namespace
