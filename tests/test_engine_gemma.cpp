// The engine's Gemma 2 path: GeGLU's tanh-approximated GELU and the logit soft-cap against their definitions, the
// config's defaults and errors, the weights' size, and the probe timing sliding layers as opmodel's local_* ops and
// the post-norms under their names. (Token parity with transformers: scripts/check-hf-parity.sh.)
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

const std::string kGemma2 = R"({"model_type": "gemma2", "hidden_size": 64, "num_hidden_layers": 4,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 128, "vocab_size": 128,
    "sliding_window": 6, "query_pre_attn_scalar": 24, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
    "hidden_activation": "gelu_pytorch_tanh"})";

TEST(EngineGemma, GeluTanhAndSoftCapMatchTheirDefinitions) {
  std::vector<float> gate = random_vector(1000, 3, 6.0f), up = random_vector(1000, 4, 6.0f);
  gate[0] = -100;  // e^(-2u) saturates: gelu(-100) = -0
  gate[1] = 100;
  std::vector<float> got(gate.size()), want(gate.size());
  engine::gelu_tanh_mul(got.data(), gate.data(), up.data(), std::int64_t(gate.size()));  // 62 vectors and a tail
  engine::reference::gelu_tanh_mul(want.data(), gate.data(), up.data(), std::int64_t(gate.size()));
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5 + 2e-5 * std::abs(want[i])) << i;
  EXPECT_NEAR(got[1], 100 * up[1], 1e-3);
  std::vector<float> x = {0, 1, -1, 30, 300, -1e4f};
  engine::softcap(x.data(), std::int64_t(x.size()), 30);
  EXPECT_FLOAT_EQ(x[0], 0);
  EXPECT_NEAR(x[1], 30 * std::tanh(1.0 / 30), 1e-6);
  EXPECT_NEAR(x[3], 30 * std::tanh(1.0), 1e-5);
  EXPECT_NEAR(x[4], 30, 1e-4);
  EXPECT_NEAR(x[5], -30, 1e-4);
}

TEST(EngineGemma, ConfigDefaultsAndLayerKinds) {
  const engine::Config c = engine::parse_config(kGemma2, "gemma.json");
  EXPECT_TRUE(c.embed_scale && c.norm_plus_one && c.post_norms && c.gelu_tanh);
  EXPECT_TRUE(c.tie_word_embeddings);  // Gemma2Config's default
  EXPECT_EQ(c.local, (std::vector<bool>{true, false, true, false}));
  EXPECT_TRUE(c.sliding(0));
  EXPECT_FALSE(c.sliding(1));
  EXPECT_DOUBLE_EQ(c.attention_scale(), 1 / std::sqrt(24.0));  // query_pre_attn_scalar, not head_dim
  EXPECT_DOUBLE_EQ(c.attn_softcap, 50);
  EXPECT_DOUBLE_EQ(c.final_softcap, 30);
  nlohmann::json j = nlohmann::json::parse(kGemma2);
  j["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  EXPECT_EQ(engine::parse_config(j.dump(), "g.json").local, (std::vector<bool>{false, true, true, false}));
  const engine::Weights w = engine::random_weights(c, 2, {});
  EXPECT_DOUBLE_EQ(double(w.bytes()), engine::weight_bytes(c, {}));
}

TEST(EngineGemma, ConfigErrorsNameTheField) {
  auto error_of = [](const std::string& edit) { return patched_config_error(kGemma2, edit, "gemma.json"); };
  EXPECT_NE(error_of(R"({"hidden_activation": "gelu"})").find("'hidden_activation': 'gelu' is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"layer_types": ["full_attention"]})").find("'layer_types': must list one type per layer (4)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"layer_types": ["x", "x", "x", "x"]})").find("'layer_types'"), std::string::npos);
  EXPECT_NE(error_of(R"({"sliding_window": null})").find("'sliding_window': is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"attn_logit_softcapping": -1})").find("'attn_logit_softcapping'"), std::string::npos);
  EXPECT_NE(error_of(R"({"query_pre_attn_scalar": 0})").find("'query_pre_attn_scalar'"), std::string::npos);
}

// Every op the engine times is one opmodel counts for the same config, and the other way round, under flash and
// naive attention: sliding layers as local_*, global ones as attention, the post-norms.
TEST(EngineGemma, ProbeNamesAreOpmodelsGemma2Ops) {
  const engine::Config c = engine::parse_config(kGemma2, "gemma.json");
  const opmodel::ModelConfig m = opmodel::parse_model_config(nlohmann::json::parse(kGemma2), "gemma2", "gemma.json");
  const engine::Weights w = engine::random_weights(c, 1, {});
  for (const bool flash : {true, false}) {
    SCOPED_TRACE(flash ? "flash" : "naive");
    opmodel::Scenario s;
    s.attention = flash ? opmodel::AttentionImpl::flash : opmodel::AttentionImpl::naive;
    const auto ops = timed_and_counted(w, m, flash ? engine::AttentionKind::tiled : engine::AttentionKind::naive, s, 2);
    EXPECT_EQ(ops.timed, ops.counted);
    std::int64_t local_calls = 0;
    for (const auto& r : ops.records) local_calls += r.op == (flash ? "local_attention" : "local_softmax") ? 1 : 0;
    EXPECT_EQ(local_calls, 2 * 2);  // layers 0 and 2, in the prefill and the decode step
  }
  // The residual adds fused into the norms after them, beside Gemma 2's post-norms: the ops opmodel counts with
  // --fuse add_norm, and the same greedy tokens.
  opmodel::Scenario fused;
  fused.fusion.add_norm = true;
  const auto ops = timed_and_counted(w, m, engine::AttentionKind::tiled, fused, 2);
  EXPECT_EQ(ops.timed, ops.counted);
  EXPECT_TRUE(ops.timed.count("add_norm"));
  EXPECT_TRUE(ops.timed.count("post_attn_norm"));
  auto tokens = [&](engine::AddNorm add_norm) {
    engine::Model model(w, engine::AttentionKind::tiled, engine::MlaForm::automatic, add_norm);
    engine::KvCache cache(c.n_layers, engine::KvRowDims{c.cache_k_dim(), c.cache_v_dim()}, 16, 64);
    return engine::generate(model, cache, {{1, 2, 3}}, 4, {}, nullptr).tokens;
  };
  EXPECT_EQ(tokens(engine::AddNorm::fused), tokens(engine::AddNorm::separate));
}

}  // namespace
