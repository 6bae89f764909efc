// The engine's DeepSeek path: attention with values narrower than keys (and values read from the key rows, as
// MLA's absorbed form does), MLA's absorbed form against its naive form at the kernel level and through the model,
// DeepSeek's grouped routing, yarn's scale, the latent cache's size, config errors, and the probe's op names
// matching opmodel's MLA ops. (Token parity with transformers: scripts/check-hf-parity.sh.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/generate.hpp"
#include "engine/kernels.hpp"
#include "engine/model.hpp"
#include "engine/reference.hpp"
#include "engine/weights.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/step_ops.hpp"
#include "engine_support.hpp"

namespace {

// A V3-style config: low-rank q, yarn, 16 experts in 4 groups, sigmoid routing with a bias, one shared expert.
const std::string kV3 = R"({"model_type": "deepseek_v3", "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "q_lora_rank": 48, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 16,
    "v_head_dim": 24, "intermediate_size": 96, "moe_intermediate_size": 32, "n_routed_experts": 16,
    "n_shared_experts": 1, "num_experts_per_tok": 4, "n_group": 4, "topk_group": 2, "routed_scaling_factor": 2.5,
    "first_k_dense_replace": 1, "vocab_size": 128, "max_position_embeddings": 512,
    "rope_scaling": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64,
                     "mscale": 1.0, "mscale_all_dim": 0.8}})";

// Keys of 40, values of 24, in separate rows of their own strides; and values read from the first 32 floats of
// the key rows themselves (one KV head, as the absorbed form reads the latent): every path against the reference.
TEST(EngineMla, AttentionWithValuesNarrowerThanKeysMatchesReference) {
  for (const bool shared_rows : {false, true}) {
    SCOPED_TRACE(shared_rows ? "values in the key rows" : "separate value rows");
    const std::int64_t h = 4, g = shared_rows ? 1 : 2, hd = 40, vd = shared_rows ? 32 : 24, keys = 70;
    engine::AttentionShape s{h, g, hd, g * hd, std::nullopt, 1.0f / std::sqrt(float(hd))};
    s.v_dim = vd;
    s.v_row_stride = shared_rows ? 0 : g * vd;
    const auto k = random_vector(std::size_t(keys * g * hd), 1, 2.0f), v = random_vector(std::size_t(keys * g * vd), 2);
    const engine::KvRun run{k.data(), shared_rows ? k.data() : v.data(), keys};
    for (const std::int64_t q_len : {std::int64_t{1}, std::int64_t{30}}) {
      const std::int64_t start = keys - q_len;
      const auto q = random_vector(std::size_t(q_len * h * hd), 3, 2.0f);
      std::vector<float> want(std::size_t(q_len * h * vd)), fused(want.size()), naive(want.size());
      const engine::AttentionSeq ref{q.data(), want.data(), q_len, start, {&run, 1}};
      engine::reference::attention({&ref, 1}, s);
      const engine::AttentionSeq a{q.data(), fused.data(), q_len, start, {&run, 1}};
      engine::attention({&a, 1}, s);
      expect_close(fused, want, 1e-4, 1e-5, "fused q_len " + std::to_string(q_len));
      const engine::AttentionSeq b{q.data(), naive.data(), q_len, start, {&run, 1}};
      std::vector<float> scores(std::size_t(engine::score_elements({&b, 1}, s)));
      engine::qk_scores(scores.data(), {&b, 1}, s);
      engine::softmax_scores(scores.data(), {&b, 1}, s);
      engine::sv_product({&b, 1}, scores.data(), s);
      expect_close(naive, want, 1e-4, 1e-5, "naive q_len " + std::to_string(q_len));
    }
  }
}

// The absorbed form against the naive one at the kernel level: latent rows [c_j ; k_pe_j], kv_b_proj's weights,
// one decode query. Naive: K = [W_UK c ; k_pe], V = W_UV c per head, attention over them. Absorbed: the query
// carried into the latent by uk_t, attention over the latent rows with their first r floats as values, the output
// brought back by uv.
TEST(EngineMla, AbsorbedDecodeEqualsNaiveAtTheKernelLevel) {
  const engine::Config c = engine::parse_config(kV3, "v3.json");
  const engine::MlaConfig& a = *c.mla;
  const std::int64_t h = c.n_heads, r = a.kv_lora_rank, dn = a.qk_nope_head_dim, dr = a.qk_rope_head_dim,
                     dv = a.v_head_dim, qk = dn + dr, lat = r + dr, keys = 37;
  const auto kv_b = random_vector(std::size_t(h * (dn + dv) * r), 4, 0.3f);
  const auto latent = random_vector(std::size_t(keys * lat), 5);
  const auto q = random_vector(std::size_t(h * qk), 6);  // one token: per head [q_nope ; q_pe]
  const float scale = float(c.attention_scale());
  engine::LayerWeights l;
  engine::absorb_mla(l, c, kv_b.data(), engine::WeightFormat::f32, {});
  ASSERT_EQ(l.uk_t.size(), std::size_t(h));

  // Naive.
  std::vector<float> kn(std::size_t(keys * h * qk)), vn(std::size_t(keys * h * dv));
  for (std::int64_t j = 0; j < keys; ++j)
    for (std::int64_t head = 0; head < h; ++head) {
      for (std::int64_t i = 0; i < dn + dv; ++i) {
        double s = 0;
        for (std::int64_t x = 0; x < r; ++x) s += double(kv_b[std::size_t((head * (dn + dv) + i) * r + x)]) * latent[std::size_t(j * lat + x)];
        if (i < dn) kn[std::size_t((j * h + head) * qk + i)] = float(s);
        else vn[std::size_t((j * h + head) * dv + i - dn)] = float(s);
      }
      for (std::int64_t i = 0; i < dr; ++i) kn[std::size_t((j * h + head) * qk + dn + i)] = latent[std::size_t(j * lat + r + i)];
    }
  engine::AttentionShape naive{h, h, qk, h * qk, std::nullopt, scale};
  naive.v_dim = dv;
  naive.v_row_stride = h * dv;
  const engine::KvRun naive_run{kn.data(), vn.data(), keys};
  std::vector<float> want(std::size_t(h * dv));
  const engine::AttentionSeq ns{q.data(), want.data(), 1, keys - 1, {&naive_run, 1}};
  engine::attention({&ns, 1}, naive);

  // Absorbed.
  std::vector<float> qlat(std::size_t(h * lat)), olat(std::size_t(h * r)), got(std::size_t(h * dv));
  for (std::int64_t head = 0; head < h; ++head) {
    engine::linear({qlat.data() + head * lat, lat, nullptr}, q.data() + head * qk, 1, l.uk_t[std::size_t(head)]);
    std::copy_n(q.data() + head * qk + dn, dr, qlat.data() + head * lat + r);
  }
  engine::AttentionShape absorbed{h, 1, lat, lat, std::nullopt, scale};
  absorbed.v_dim = r;
  const engine::KvRun latent_run{latent.data(), latent.data(), keys};
  const engine::AttentionSeq as{qlat.data(), olat.data(), 1, keys - 1, {&latent_run, 1}};
  engine::attention({&as, 1}, absorbed);
  for (std::int64_t head = 0; head < h; ++head)
    engine::linear({got.data() + head * dv, dv, nullptr}, olat.data() + head * r, 1, l.uv[std::size_t(head)]);
  expect_close(got, want, 1e-4, 1e-5, "absorbed vs naive");
}

// Through the whole model: a prefill and three decode steps of two sequences in a paged cache, every form and
// attention kind; the logits of every step agree to float tolerance.
TEST(EngineMla, ModelFormsAgreeOnEveryStep) {
  const engine::Config c = engine::parse_config(kV3, "v3.json");
  const engine::Weights w = engine::random_weights(c, 7, {});
  auto run = [&](engine::MlaForm form, engine::AttentionKind kind) {
    engine::Model model(w, kind, form);
    engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, 4, 64);
    const std::int64_t s0 = cache.add_sequence(), s1 = cache.add_sequence();
    std::vector<float> all, logits(std::size_t(2 * c.vocab_size));
    std::vector<std::int32_t> p0 = {5, 9, 2, 77, 31, 8, 100}, p1 = {1, 2, 3};
    std::vector<engine::SequenceStep> step = {{s0, p0}, {s1, p1}};
    model.forward(cache, step, logits.data(), engine::Phase::prefill, nullptr);
    all.insert(all.end(), logits.begin(), logits.end());
    for (std::int32_t t = 0; t < 3; ++t) {
      std::vector<std::int32_t> a = {t + 40}, b = {t + 60};
      step = {{s0, a}, {s1, b}};
      model.forward(cache, step, logits.data(), engine::Phase::decode, nullptr);
      all.insert(all.end(), logits.begin(), logits.end());
    }
    return all;
  };
  const auto want = run(engine::MlaForm::naive, engine::AttentionKind::naive);
  expect_close(run(engine::MlaForm::absorbed, engine::AttentionKind::tiled), want, 1e-3, 1e-4, "absorbed, tiled");
  expect_close(run(engine::MlaForm::absorbed, engine::AttentionKind::naive), want, 1e-3, 1e-4, "absorbed, naive");
  expect_close(run(engine::MlaForm::automatic, engine::AttentionKind::tiled), want, 1e-3, 1e-4, "automatic, tiled");
}

TEST(EngineMla, GroupedRoutingChoosesWithinTheBestGroups) {
  // 8 experts in 4 groups of 2; sigmoid scores of logits chosen so that the best single expert (7) sits in a group
  // whose two best sum lowest but one: groups by top-2 sum: g0 {0,1}, g1 {2,3}, g2 {4,5}, g3 {6,7}.
  const std::vector<float> logits = {1.0f, 1.0f, 0.5f, 0.5f, -2.0f, -2.0f, 3.0f, -3.0f};
  auto sig = [](float z) { return 1.0f / (1.0f + std::exp(-z)); };
  std::int32_t experts[2];
  float weights[2];
  engine::Routing r;
  r.k = 2;
  r.groups = 4;
  r.top_groups = 2;
  r.sigmoid = true;
  r.top2_sum = true;
  r.scale = 2.5f;
  r.renormalize = true;
  // Group sums: g0 1.462, g1 1.245, g2 0.238, g3 0.999: groups 0 and 1 are kept, expert 6 (the best) is not.
  engine::route_top_k(experts, weights, logits.data(), 1, 8, r);
  EXPECT_EQ(experts[0], 0);  // ties to the lower expert
  EXPECT_EQ(experts[1], 1);
  EXPECT_NEAR(weights[0], 2.5 * 0.5, 1e-6);
  // Rated by their best expert instead (V2), group 3 wins and expert 6 is chosen first.
  r.top2_sum = false;
  engine::route_top_k(experts, weights, logits.data(), 1, 8, r);
  EXPECT_EQ(experts[0], 6);
  EXPECT_EQ(experts[1], 0);
  EXPECT_NEAR(weights[0], 2.5 * sig(3) / (sig(3) + sig(1)), 1e-6);
  // A bias moves the choice, not the weights: +1 on expert 3 makes g1 the best group and expert 3 the first choice.
  const std::vector<float> bias = {0, 0, 0, 1, 0, 0, 0, 0};
  r.top2_sum = true;
  r.bias = bias.data();
  r.renormalize = false;
  r.scale = 1;
  engine::route_top_k(experts, weights, logits.data(), 1, 8, r);
  EXPECT_EQ(experts[0], 3);
  EXPECT_NEAR(weights[0], sig(0.5f), 1e-6);
  // Softmax scores, no groups, no renormalization: the plain top-k of softmax, times the scale.
  engine::Routing v2;
  v2.k = 2;
  v2.scale = 1.5f;
  engine::route_top_k(experts, weights, logits.data(), 1, 8, v2);
  double sum = 0;
  for (float z : logits) sum += std::exp(double(z));
  EXPECT_EQ(experts[0], 6);
  EXPECT_NEAR(weights[0], 1.5 * std::exp(3.0) / sum, 1e-6);
}

TEST(EngineMla, ConfigReadsMlaRoutingAndYarn) {
  const engine::Config c = engine::parse_config(kV3, "v3.json");
  ASSERT_TRUE(c.mla && c.moe);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.attn_out_dim(), 4 * 24);
  EXPECT_EQ(c.rope_dim(), 16);
  EXPECT_EQ(c.cache_k_dim(), 32 + 16);  // the latent row: c_kv and k_pe
  EXPECT_EQ(c.cache_v_dim(), 0);
  EXPECT_EQ(c.moe->sparse, (std::vector<bool>{false, true}));  // first_k_dense_replace 1
  EXPECT_TRUE(c.moe->sigmoid && c.moe->score_bias && c.moe->top2_sum && c.moe->renormalize);
  EXPECT_FALSE(c.moe->shared_gated);
  EXPECT_EQ(c.moe->shared_hidden, 32);
  EXPECT_DOUBLE_EQ(c.moe->scale, 2.5);
  // yarn: head_dim^-1/2 times mscale(8, 0.8)^2.
  const double m = 0.1 * 0.8 * std::log(8.0) + 1;
  EXPECT_NEAR(c.attention_scale(), m * m / std::sqrt(32.0), 1e-12);
  // V2: softmax, greedy, scaled only when not renormalized.
  const engine::Config v2 = engine::parse_config(
      R"({"model_type": "deepseek_v2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16,
          "intermediate_size": 96, "moe_intermediate_size": 32, "n_routed_experts": 8, "num_experts_per_tok": 2,
          "routed_scaling_factor": 1.5, "norm_topk_prob": true, "vocab_size": 128})",
      "v2.json");
  EXPECT_FALSE(v2.moe->sigmoid || v2.moe->score_bias || v2.moe->groups > 1);
  EXPECT_DOUBLE_EQ(v2.moe->scale, 1.0);
  EXPECT_EQ(v2.mla->q_lora_rank, 0);
  EXPECT_EQ(v2.moe->sparse, (std::vector<bool>{true, true}));
  // The engine's weights take what weight_bytes says they take (MLA with its absorbed copies, V2's full q_proj, a
  // dense Qwen3 with q/k norms), in every format.
  for (const engine::Config* k : {&c, &v2}) {
    for (const engine::WeightFormat f : {engine::WeightFormat::f32, engine::WeightFormat::bf16, engine::WeightFormat::int8}) {
      const engine::WeightOptions o{f, 16};
      EXPECT_DOUBLE_EQ(double(engine::random_weights(*k, 1, o).bytes()), engine::weight_bytes(*k, o)) << k->model_type;
    }
  }
  const engine::Config qwen3 = engine::parse_config(
      R"({"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 96, "vocab_size": 128})",
      "qwen3.json");
  EXPECT_DOUBLE_EQ(double(engine::random_weights(qwen3, 1, {}).bytes()), engine::weight_bytes(qwen3, {}));
}

TEST(EngineMla, ConfigErrorsNameTheField) {
  auto with = [](const std::string& edit) { return patched_config_error(kV3, edit, "deepseek.json"); };
  EXPECT_NE(with(R"({"n_group": 3})").find("'n_group': 3 does not divide the 16 experts"), std::string::npos);
  EXPECT_NE(with(R"({"topk_group": 5})").find("'topk_group': 5 exceeds n_group = 4"), std::string::npos);
  EXPECT_NE(with(R"({"n_group": 16, "topk_group": 2})").find("'n_group'"), std::string::npos);  // groups of one
  EXPECT_NE(with(R"({"num_experts_per_tok": 9})").find("'num_experts_per_tok': 9 exceeds the 8 experts"),
            std::string::npos);
  EXPECT_NE(with(R"({"topk_method": "random"})").find("'topk_method'"), std::string::npos);
  EXPECT_NE(with(R"({"scoring_func": "relu"})").find("'scoring_func'"), std::string::npos);
  EXPECT_NE(with(R"({"kv_lora_rank": 0})").find("'kv_lora_rank'"), std::string::npos);
  EXPECT_NE(with(R"({"qk_rope_head_dim": 7})").find("must be even"), std::string::npos);
  EXPECT_NE(with(R"({"first_k_dense_replace": -1})").find("'first_k_dense_replace'"), std::string::npos);
  EXPECT_NE(with(R"({"rope_scaling": {"rope_type": "yarn", "factor": 4, "attention_factor": 1.2}})").find("attention_factor"),
            std::string::npos);
  EXPECT_NE(with(R"({"rope_scaling": {"rope_type": "yarn", "factor": 4, "mscale_all_dim": -1}})").find("'mscale_all_dim'"),
            std::string::npos);
  EXPECT_NE(with(R"({"attention_bias": true})").find("'attention_bias'"), std::string::npos);
}

// The probe times MLA's kernels under opmodel's op names: a prefill (naive: kv_b_proj) and decode steps
// (absorbed: q_absorb, o_absorb) together cover the op list opmodel gives every step of an MLA model.
TEST(EngineMla, ProbeNamesAreOpmodelsMlaOps) {
  const engine::Config c = engine::parse_config(kV3, "v3.json");
  const opmodel::ModelConfig m = opmodel::parse_model_config(nlohmann::json::parse(kV3), "v3", "v3.json");
  const auto ops = timed_and_counted(engine::random_weights(c, 1, {}), m, engine::AttentionKind::tiled, {}, 3);
  EXPECT_EQ(ops.timed, ops.counted);
  for (const char* op : {"q_a_proj", "q_a_norm", "q_b_proj", "kv_a_proj", "kv_a_norm", "kv_b_proj", "q_absorb", "o_absorb"})
    EXPECT_TRUE(ops.timed.count(op)) << op;
}

}  // namespace
