// The engine's Qwen3 and sparse MoE paths: routing (softmax, top-k, renormalization, ties), grouping rows by
// expert, a one-expert MoE equal to the dense model with that expert's weights, q/k norms as opmodel counts
// them, and the probe's op names matching opmodel's ops for a MoE model. (Token parity with transformers:
// scripts/check-hf-parity.sh.)
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/generate.hpp"
#include "engine/kernels.hpp"
#include "engine/model.hpp"
#include "engine/op_names.hpp"
#include "engine/weights.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/step_ops.hpp"
#include "engine_support.hpp"

namespace {

TEST(EngineMoe, RoutesToTheTopKWithSoftmaxWeights) {
  // One token, logits 0..3: softmax p_i = e^i / sum; the top two are experts 3 and 2.
  const std::vector<float> logits = {0, 1, 2, 3};
  double sum = 0;
  for (float z : logits) sum += std::exp(double(z));
  std::int32_t experts[2];
  float weights[2];
  engine::route_top_k(experts, weights, logits.data(), 1, 4, {.k = 2});
  EXPECT_EQ(experts[0], 3);
  EXPECT_EQ(experts[1], 2);
  EXPECT_NEAR(weights[0], std::exp(3.0) / sum, 1e-6);
  EXPECT_NEAR(weights[1], std::exp(2.0) / sum, 1e-6);
  engine::route_top_k(experts, weights, logits.data(), 1, 4, {.k = 2, .renormalize = true});  // divided by their sum
  EXPECT_NEAR(weights[0], std::exp(3.0) / (std::exp(3.0) + std::exp(2.0)), 1e-6);
  EXPECT_NEAR(weights[0] + weights[1], 1, 1e-6);
  // Ties go to the lower expert.
  const std::vector<float> tied = {1, 1, 0};
  engine::route_top_k(experts, weights, tied.data(), 1, 3, {.k = 1, .renormalize = true});
  EXPECT_EQ(experts[0], 0);
  EXPECT_FLOAT_EQ(weights[0], 1);
}

TEST(EngineMoe, GroupsRowsByExpertTokensAscending) {
  const std::vector<std::int32_t> experts = {1, 0, 1, 2, 0, 1};  // tokens 0, 1, 2 with k = 2
  const std::vector<float> weights = {0.6f, 0.4f, 0.7f, 0.3f, 0.9f, 0.1f};
  std::vector<std::int64_t> offsets(4);
  std::vector<std::int32_t> rows(6);
  std::vector<float> row_weight(6);
  engine::group_by_expert(offsets.data(), rows.data(), row_weight.data(), experts.data(), weights.data(), 3, 3, 2);
  EXPECT_EQ(offsets, (std::vector<std::int64_t>{0, 2, 5, 6}));
  EXPECT_EQ(rows, (std::vector<std::int32_t>{0, 2, 0, 1, 2, 1}));
  EXPECT_EQ(row_weight, (std::vector<float>{0.4f, 0.9f, 0.6f, 0.7f, 0.1f, 0.3f}));
  // Gather then weighted scatter: y[t] = sum of w x[t] over its rows.
  const std::vector<float> x = {1, 2, 3};  // d = 1
  std::vector<float> gathered(6), y(3, 0.0f);
  engine::gather_rows(gathered.data(), x.data(), rows.data(), 6, 1);
  EXPECT_EQ(gathered, (std::vector<float>{1, 3, 1, 2, 3, 2}));
  engine::scatter_add_rows(y.data(), gathered.data(), rows.data(), row_weight.data(), 6, 1);
  EXPECT_FLOAT_EQ(y[0], 0.4f * 1 + 0.6f * 1);
  EXPECT_FLOAT_EQ(y[1], 0.7f * 2 + 0.3f * 2);
  EXPECT_FLOAT_EQ(y[2], 0.9f * 3 + 0.1f * 3);
}

// A Mixtral with one expert routes every token to it with weight 1: the logits must equal the dense model's
// with that expert as its MLP, bit for bit.
TEST(EngineMoe, OneExpertEqualsTheDenseModel) {
  const engine::Config c = engine::parse_config(
      R"({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 96, "num_local_experts": 1, "num_experts_per_tok": 1,
          "vocab_size": 128})",
      "one.json");
  engine::Weights w = engine::random_weights(c, 3, {});
  auto logits_of = [&](const engine::Weights& weights) {
    engine::Model model(weights, engine::AttentionKind::tiled);
    engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, 16, 64);
    const std::vector<std::int32_t> tokens = {5, 9, 2, 77};
    const engine::SequenceStep step{cache.add_sequence(), tokens};
    std::vector<float> logits(std::size_t(c.vocab_size));
    model.forward(cache, {&step, 1}, logits.data(), engine::Phase::prefill, nullptr);
    return logits;
  };
  const std::vector<float> sparse = logits_of(w);
  for (engine::LayerWeights& l : w.layers) {
    l.w_gate = std::move(l.e_gate[0]);
    l.w_up = std::move(l.e_up[0]);
    l.w_down = std::move(l.e_down[0]);
  }
  w.config.moe.reset();
  EXPECT_EQ(sparse, logits_of(w));
}

TEST(EngineMoe, ProbeNamesAreOpmodelsOpsForMoeSharedExpertsAndQwen3) {
  for (const char* name : {"tiny-moe", "qwen3", "qwen2_moe"}) {
    SCOPED_TRACE(name);
    std::string text;
    opmodel::ModelConfig m;
    if (std::string(name) == "tiny-moe") {
      for (const auto& f : opmodel::embedded_files())
        if (f.name == "tiny-moe") text = std::string(f.text);
      m = opmodel::resolve_model("tiny-moe");
    } else if (std::string(name) == "qwen3") {
      text = R"({"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 96, "vocab_size": 128})";
      m = opmodel::parse_model_config(nlohmann::json::parse(text), "qwen3", "qwen3.json");
    } else {  // a gated shared expert beside the routed ones
      text = R"({"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 96, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 64,
                 "num_experts": 8, "num_experts_per_tok": 2, "vocab_size": 128})";
      m = opmodel::parse_model_config(nlohmann::json::parse(text), "qwen2_moe", "qwen2_moe.json");
    }
    ASSERT_FALSE(text.empty());
    const engine::Config c = engine::parse_config(text, name);
    const auto ops = timed_and_counted(engine::random_weights(c, 1, {}), m, engine::AttentionKind::tiled, {}, 2);
    EXPECT_EQ(ops.timed, ops.counted);
  }
}

TEST(EngineMoe, ConfigErrorsNameTheField) {
  const std::string base = R"({"model_type": "qwen3_moe", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 96, "moe_intermediate_size": 32, "vocab_size": 100, )";
  auto error_of = [&](const std::string& rest) { return config_error(base + rest, "moe.json"); };
  EXPECT_NE(error_of(R"("num_experts": 4, "num_experts_per_tok": 5})").find("'num_experts_per_tok'"), std::string::npos);
  EXPECT_NE(error_of(R"("num_experts": 4, "num_experts_per_tok": 2, "mlp_only_layers": [2]})")
                .find("2 is not a layer index in [0, 2)"),
            std::string::npos);
  EXPECT_NE(error_of(R"("num_experts_per_tok": 2})").find("'num_experts'"), std::string::npos);
  const engine::Config c = engine::parse_config(base + R"("num_experts": 4, "num_experts_per_tok": 2,
      "decoder_sparse_step": 2})", "ok.json");
  ASSERT_TRUE(c.moe);
  EXPECT_EQ(c.moe->sparse, (std::vector<bool>{false, true}));
  EXPECT_FALSE(c.moe->renormalize);  // norm_topk_prob defaults to false
  EXPECT_TRUE(c.qk_norm);
}

}  // namespace
