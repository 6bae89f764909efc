// The contracts between rooms that may not include one another: the cost model's GEMV/GEMM switch against the
// engine's, the two readers of a Hugging Face config.json (opmodel's and the engine's) against each other, and
// every leaf's bad-input error against the one base main() tells bad input by.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/input_error.hpp"
#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "hardware/error.hpp"
#include "opmodel/error.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/expected_time.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/validate/validation.hpp"
#include "roofline/validate/validation_file.hpp"
#include "test_support.hpp"

namespace {

TEST(Contracts, CostModelSwitchesToGemmWhereTheEngineDoes) {
  EXPECT_EQ(roofline::kGemvMaxRows, engine::kGemvMaxRows);
}

// Every config.json both readers accept: the fields both read must come out the same.
void expect_same_reading(const std::string& text, const std::string& what) {
  SCOPED_TRACE(what);
  const opmodel::ModelConfig m = opmodel::parse_model_config(nlohmann::json::parse(text), "t", "t.json");
  const engine::Config e = engine::parse_config(text, "t.json");
  EXPECT_EQ(m.model_type, e.model_type);
  EXPECT_EQ(m.hidden_size, e.dim);
  EXPECT_EQ(m.intermediate_size, e.hidden_dim);
  EXPECT_EQ(m.num_layers, e.n_layers);
  EXPECT_EQ(m.num_heads, e.n_heads);
  EXPECT_EQ(m.num_kv_heads, e.n_kv_heads);
  EXPECT_EQ(m.head_dim, e.head_dim);
  EXPECT_EQ(m.vocab_size, e.vocab_size);
  EXPECT_EQ(m.max_position_embeddings, e.max_seq_len);
  EXPECT_EQ(m.rms_norm_eps, e.rms_norm_eps);
  EXPECT_EQ(m.rope_theta, e.rope_theta);
  EXPECT_EQ(m.sliding_window, e.sliding_window);
  EXPECT_EQ(m.tie_word_embeddings, e.tie_word_embeddings);
  EXPECT_EQ(m.qkv_bias, e.qkv_bias);
  EXPECT_EQ(m.o_bias, e.o_bias);
  EXPECT_EQ(m.mlp_bias, e.mlp_bias);
  EXPECT_EQ(m.qk_norm, e.qk_norm);
  EXPECT_EQ(m.is_moe(), e.moe.has_value());
  if (!e.moe) return;
  EXPECT_EQ(m.num_experts, e.moe->experts);
  EXPECT_EQ(m.experts_per_token, e.moe->top_k);
  EXPECT_EQ(m.moe_intermediate_size, e.moe->hidden);
  EXPECT_EQ(m.moe_layers, std::count(e.moe->sparse.begin(), e.moe->sparse.end(), true));
  EXPECT_EQ(m.shared_expert_intermediate_size, e.moe->shared_hidden);
}

TEST(Contracts, OpmodelAndEngineReadAConfigTheSameWay) {
  const std::string minimal = R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100})";
  expect_same_reading(minimal, "only the required fields: the defaults agree");
  expect_same_reading(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 128,
      "vocab_size": 100, "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 500000,
      "tie_word_embeddings": true, "attention_bias": true, "mlp_bias": true})", "llama with every field");
  expect_same_reading(R"({"model_type": "mistral", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 96, "vocab_size": 100,
      "sliding_window": 32})", "mistral's window");
  expect_same_reading(R"({"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 96, "vocab_size": 100, "use_sliding_window": false})",
                      "qwen2's biases");
  expect_same_reading(R"({"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "head_dim": 32, "intermediate_size": 96, "vocab_size": 100,
      "attention_bias": true})", "qwen3's q/k norms and biases");
  expect_same_reading(R"({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 100,
      "num_local_experts": 4, "num_experts_per_tok": 2})", "mixtral's experts");
  expect_same_reading(R"({"model_type": "qwen3_moe", "hidden_size": 64, "num_hidden_layers": 4,
      "num_attention_heads": 4, "intermediate_size": 96, "moe_intermediate_size": 32, "vocab_size": 100,
      "num_experts": 8, "num_experts_per_tok": 2, "decoder_sparse_step": 2, "mlp_only_layers": [1]})",
                      "qwen3_moe's dense layers");
  expect_same_reading(R"({"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 96, "moe_intermediate_size": 32, "vocab_size": 100,
      "num_experts": 8, "num_experts_per_tok": 2, "shared_expert_intermediate_size": 64})",
                      "qwen2_moe's shared expert");
  for (const auto& name : opmodel::model_preset_names()) {
    const opmodel::ModelConfig m = opmodel::resolve_model(name);
    static const std::set<std::string> kEngine = {"llama", "mistral", "qwen2",    "qwen3",
                                                  "mixtral", "qwen2_moe", "qwen3_moe"};
    if (!kEngine.count(m.model_type)) continue;
    for (const auto& f : opmodel::embedded_files())
      if (f.name == name) expect_same_reading(std::string(f.text), "preset " + name);
  }
}

TEST(Contracts, BothReadersRefuseTheSameBadFieldsNamingThem) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"("num_attention_heads": 0)", "num_attention_heads"},
      {R"("num_key_value_heads": 0)", "num_key_value_heads"},
      {R"("num_key_value_heads": 3)", "num_key_value_heads"},
      {R"("hidden_size": -1)", "hidden_size"},
      {R"("rms_norm_eps": 0)", "rms_norm_eps"},
  };
  for (const auto& [field, name] : bad) {
    // Later keys win in nlohmann::json's parse, so the bad value replaces the good one.
    const std::string text = R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, )" + field + "}";
    const std::string m = error_of([&] { opmodel::parse_model_config(nlohmann::json::parse(text), "t", "t.json"); });
    const std::string e = error_of([&] { engine::parse_config(text, "t.json"); });
    EXPECT_NE(m.find("field '" + name + "'"), std::string::npos) << m;
    EXPECT_EQ(m, e);
  }
  // Activations: opmodel models more than the engine runs (GeGLU), so only the refusal of an unknown one is shared.
  const std::string text = R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "hidden_act": "relu"})";
  const std::string m = error_of([&] { opmodel::parse_model_config(nlohmann::json::parse(text), "t", "t.json"); });
  const std::string e = error_of([&] { engine::parse_config(text, "t.json"); });
  for (const std::string& msg : {m, e}) EXPECT_NE(msg.find("field 'hidden_act': 'relu'"), std::string::npos) << msg;
}

TEST(Contracts, EveryBadInputErrorIsAnInputError) {
  EXPECT_THROW(throw opmodel::ModelError("m", "f", "p"), common::InputError);
  EXPECT_THROW(throw hardware::ProfileError("h", "f", "p"), common::InputError);
  EXPECT_THROW(throw engine::EngineError("e", "f", "p"), common::InputError);
  EXPECT_THROW(throw roofline::sim::SimError("s", "column 'c'", "p"), common::InputError);
  EXPECT_THROW(throw roofline::ValidationError("v"), common::InputError);
  EXPECT_THROW(throw roofline::ValidationFileError("v"), common::InputError);
  const hardware::ProfileError p("preset x", "memory.bytes_per_s", "must be positive");
  EXPECT_STREQ(p.what(), "hardware profile preset x: field 'memory.bytes_per_s': must be positive");
  EXPECT_EQ(p.field(), "memory.bytes_per_s");
}

}  // namespace
