// opmodel/: config reading, every formula against a hand-derived value, and the invariants.
#include <gtest/gtest.h>

#include "test_support.hpp"

#include <tuple>

#include <nlohmann/json.hpp>

#include "opmodel/error.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/op_names.hpp"
#include "opmodel/step_ops.hpp"
#include "opmodel_support.hpp"

using namespace opmodel;
using nlohmann::json;

namespace {

// tiny: d=64, L=2, h=4, g=2, hd=16, f=176, V=256 (opmodel/presets/tiny.json).
ModelConfig tiny() { return resolve_model("tiny"); }

Scenario scenario(std::int64_t batch, std::int64_t q, std::int64_t k) {
  Scenario s;
  s.batch = batch;
  s.q_len = q;
  s.kv_len = k;
  s.attention = AttentionImpl::naive;
  return s;
}

void expect_bytes(const OpCost& op, double w, double ar, double aw, double kr, double kw) {
  SCOPED_TRACE(std::string(op.name));
  EXPECT_DOUBLE_EQ(op.bytes.weight_read, w);
  EXPECT_DOUBLE_EQ(op.bytes.act_read, ar);
  EXPECT_DOUBLE_EQ(op.bytes.act_write, aw);
  EXPECT_DOUBLE_EQ(op.bytes.kv_read, kr);
  EXPECT_DOUBLE_EQ(op.bytes.kv_write, kw);
}


json llama_json() {
  return json::parse(R"({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    "num_attention_heads": 32, "intermediate_size": 11008, "vocab_size": 32000})");
}

}  // namespace

TEST(ModelConfig, PresetsReadTheirShapes) {
  const auto l2 = resolve_model("llama-2-7b");
  EXPECT_EQ(l2.num_kv_heads, 32);  // absent in the file: defaults to the query heads
  EXPECT_EQ(l2.head_dim, 128);
  EXPECT_FALSE(l2.tie_word_embeddings);
  EXPECT_NEAR(parameter_count(l2), 6.738e9, 0.001e9);  // 6,738,415,616 parameters
  const auto l70 = resolve_model("llama-2-70b");
  EXPECT_EQ(l70.num_kv_heads, 8);
  const auto mistral = resolve_model("mistral-7b");
  ASSERT_TRUE(mistral.sliding_window.has_value());
  EXPECT_EQ(*mistral.sliding_window, 4096);
  const auto qwen = resolve_model("qwen2.5-7b");
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_FALSE(qwen.sliding_window.has_value());  // use_sliding_window is false
  const auto qwen3 = resolve_model("qwen3-8b");
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_EQ(qwen3.head_dim, 128);
  const auto mixtral = resolve_model("mixtral-8x7b");
  EXPECT_EQ(mixtral.num_experts, 8);
  EXPECT_EQ(mixtral.experts_per_token, 2);
  EXPECT_NEAR(parameter_count(mixtral), 46.70e9, 0.01e9);
  for (const auto& name : model_preset_names()) EXPECT_NO_THROW(resolve_model(name)) << name;
}

TEST(ModelConfig, HeadDimAndTieAreHonoured) {
  json j = llama_json();
  j["head_dim"] = 64;
  j["tie_word_embeddings"] = true;
  const auto m = parse_model_config(j, "x", "x.json");
  EXPECT_EQ(m.head_dim, 64);
  EXPECT_EQ(m.q_dim(), 32 * 64);
  const auto untied = parse_model_config(llama_json(), "x", "x.json");
  EXPECT_DOUBLE_EQ(parameter_count(untied) - parameter_count(m) -
                       32.0 * (2 * 4096.0 * 2048 + 2 * 32 * 128.0 * 4096 - 2 * 32 * 64.0 * 4096),
                   32000.0 * 4096);
}

TEST(ModelConfig, BadConfigsNameFileAndField) {
  json j = llama_json();
  j.erase("hidden_size");
  EXPECT_EQ(config_error(j), "bad/config.json: field 'hidden_size': is required");
  j = llama_json();
  j["hidden_size"] = -4096;
  EXPECT_NE(config_error(j).find("field 'hidden_size': must be in [1,"), std::string::npos) << config_error(j);
  j = llama_json();
  j["hidden_size"] = 0;
  EXPECT_NE(config_error(j).find("field 'hidden_size'"), std::string::npos);
  j = llama_json();
  j["vocab_size"] = json::parse("99999999999999999999999");  // overflows any integer type
  EXPECT_NE(config_error(j).find("field 'vocab_size': must be a positive integer"), std::string::npos)
      << config_error(j);
  j = llama_json();
  j["num_hidden_layers"] = 3.5;
  EXPECT_NE(config_error(j).find("field 'num_hidden_layers'"), std::string::npos);
  j = llama_json();
  j["model_type"] = "gpt2";
  EXPECT_NE(config_error(j).find("field 'model_type': 'gpt2' is not supported"), std::string::npos);
  j = llama_json();
  j["num_key_value_heads"] = 5;
  EXPECT_NE(config_error(j).find("field 'num_key_value_heads'"), std::string::npos);
  j = llama_json();
  j["hidden_act"] = "gelu";
  EXPECT_NE(config_error(j).find("field 'hidden_act'"), std::string::npos);
  j = llama_json();
  j["tie_word_embeddings"] = "yes";
  EXPECT_NE(config_error(j).find("field 'tie_word_embeddings'"), std::string::npos);
  EXPECT_NE(config_error(json::array()).find("must be a JSON object"), std::string::npos);
}

TEST(ModelConfig, MissingFileAndMalformedJson) {
  EXPECT_THROW(resolve_model("/nonexistent/config.json"), ModelError);
  const std::string path = testing::TempDir() + "/malformed_config.json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("{\"model_type\": \"llama\",", f);
  std::fclose(f);
  try {
    load_model_config_file(path);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": malformed JSON"), std::string::npos) << e.what();
  }
  f = std::fopen(path.c_str(), "w");
  std::fputs("{\"model_type\": \"llama\", \"rms_norm_eps\": 1e999}", f);
  std::fclose(f);
  EXPECT_THROW(load_model_config_file(path), ModelError);  // number overflow: an error, not inf
}

// Hand-derived: tiny, B=2, q=3, k=5 (T=6 tokens), fp16 everywhere (2 B), naive attention.
TEST(StepOps, EveryFormulaOnTinyByHand) {
  const auto ops = ops_of(tiny(), scenario(2, 3, 5));
  // embed: gather 6 rows of 64: 6*64*2 B read and written.
  EXPECT_DOUBLE_EQ(get(ops, op::embed).flops, 0);
  expect_bytes(get(ops, op::embed), 768, 0, 768, 0, 0);
  // attn_norm: 6 rows x (4*64 + 3) FLOP; gamma 64*2 B.
  EXPECT_DOUBLE_EQ(get(ops, op::attn_norm).flops, 6 * 259);
  expect_bytes(get(ops, op::attn_norm), 128, 768, 768, 0, 0);
  EXPECT_EQ(get(ops, op::attn_norm).count, 2);
  // q_proj: 2*6*64*64; W 64x64x2 B.
  EXPECT_DOUBLE_EQ(get(ops, op::q_proj).flops, 49152);
  expect_bytes(get(ops, op::q_proj), 8192, 768, 768, 0, 0);
  // k_proj: output g*hd = 32.
  EXPECT_DOUBLE_EQ(get(ops, op::k_proj).flops, 24576);
  expect_bytes(get(ops, op::k_proj), 4096, 768, 384, 0, 0);
  // v_proj: written straight into the KV cache.
  EXPECT_DOUBLE_EQ(get(ops, op::v_proj).flops, 24576);
  expect_bytes(get(ops, op::v_proj), 4096, 768, 0, 0, 384);
  // rope: 3 FLOP x 6*(64+32) elements; reads q, k and 3 positions x 16 cos/sin values.
  EXPECT_DOUBLE_EQ(get(ops, op::rope).flops, 1728);
  expect_bytes(get(ops, op::rope), 0, 1152 + 96, 768, 0, 384);
  // Causal pairs per (sequence, head): keys seen by positions 5, 6, 7 = 6 + 7 + 8 = 21; x B*h = 168.
  EXPECT_DOUBLE_EQ(get(ops, op::qk_matmul).flops, 2 * 168 * 16);
  expect_bytes(get(ops, op::qk_matmul), 0, 768, 336, 2 * 2 * 8 * 16 * 2, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::softmax).flops, 6 * 168 + 2 * 4 * 3);
  expect_bytes(get(ops, op::softmax), 0, 336, 336, 0, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::sv_matmul).flops, 2 * 168 * 16);
  expect_bytes(get(ops, op::sv_matmul), 0, 336, 768, 1024, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::o_proj).flops, 49152);
  expect_bytes(get(ops, op::o_proj), 8192, 768, 768, 0, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::attn_add).flops, 384);
  expect_bytes(get(ops, op::attn_add), 0, 1536, 768, 0, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::mlp_norm).flops, 6 * 259);
  // gate/up: 2*6*176*64; W 176*64*2.
  EXPECT_DOUBLE_EQ(get(ops, op::gate_proj).flops, 135168);
  expect_bytes(get(ops, op::gate_proj), 22528, 768, 2112, 0, 0);
  expect_bytes(get(ops, op::up_proj), 22528, 768, 2112, 0, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::act_mul).flops, 5 * 1056);
  expect_bytes(get(ops, op::act_mul), 0, 4224, 2112, 0, 0);
  EXPECT_DOUBLE_EQ(get(ops, op::down_proj).flops, 135168);
  expect_bytes(get(ops, op::down_proj), 22528, 2112, 768, 0, 0);
  expect_bytes(get(ops, op::mlp_add), 0, 1536, 768, 0, 0);
  EXPECT_EQ(get(ops, op::final_norm).count, 1);
  // lm_head on the last token of each of 2 sequences: 2*2*256*64.
  EXPECT_DOUBLE_EQ(get(ops, op::lm_head).flops, 65536);
  expect_bytes(get(ops, op::lm_head), 32768, 256, 1024, 0, 0);
  EXPECT_EQ(get(ops, op::lm_head).count, 1);
  EXPECT_EQ(ops.size(), 19u);
}

TEST(StepOps, FlashAttentionIsOneOpWithoutScores) {
  Scenario s = scenario(2, 3, 5);
  s.attention = AttentionImpl::flash;
  const auto flash = ops_of(tiny(), s);
  EXPECT_EQ(flash.find(op::qk_matmul), nullptr);
  const auto& att = get(flash, op::attention);
  EXPECT_DOUBLE_EQ(att.flops, 2 * 5376 + 1032);  // qk + softmax + sv
  expect_bytes(att, 0, 768, 768, 2048, 0);        // Q in, O out, K and V once
  // Against naive: same FLOPs, minus exactly the 4 passes over the scores (qk write, softmax r/w, sv read).
  const auto naive = ops_of(tiny(), scenario(2, 3, 5));
  const double naive_bytes = get(naive, op::qk_matmul).bytes.total() + get(naive, op::softmax).bytes.total() +
                             get(naive, op::sv_matmul).bytes.total();
  EXPECT_DOUBLE_EQ(naive_bytes - att.bytes.total(), 4 * 168 * 2);
  EXPECT_DOUBLE_EQ(get(naive, op::qk_matmul).flops + get(naive, op::softmax).flops +
                       get(naive, op::sv_matmul).flops,
                   att.flops);
}

// fp8 GEMMs beside fp16 attention (TensorRT-LLM's gpt_attention_plugin float16): only attention changes dtype;
// the naive form's scores take its width. Integer activations attend in fp16 unless told otherwise.
TEST(StepOps, AttentionComputesInItsOwnDtype) {
  Scenario s = scenario(2, 3, 5);
  s.weight_dtype = s.act_dtype = s.kv_dtype = DType::fp8;
  const auto all_fp8 = ops_of(tiny(), s);
  s.attention_dtype = DType::fp16;
  const auto mixed = ops_of(tiny(), s);
  EXPECT_EQ(get(all_fp8, op::qk_matmul).compute, DType::fp8);
  EXPECT_EQ(get(mixed, op::qk_matmul).compute, DType::fp16);
  EXPECT_EQ(get(mixed, op::sv_matmul).compute, DType::fp16);
  EXPECT_EQ(get(mixed, op::q_proj).compute, DType::fp8);
  EXPECT_DOUBLE_EQ(get(mixed, op::qk_matmul).bytes.act_write, 168 * 2);  // the causal scores, 2 B each
  EXPECT_DOUBLE_EQ(get(all_fp8, op::qk_matmul).bytes.act_write, 168 * 1);
  EXPECT_DOUBLE_EQ(get(mixed, op::qk_matmul).flops, get(all_fp8, op::qk_matmul).flops);
  Scenario integer = scenario(2, 3, 5);
  integer.act_dtype = DType::int8;
  EXPECT_EQ(integer.attention_compute(), DType::fp16);
  integer.attention_dtype = DType::bf16;
  EXPECT_EQ(get(ops_of(tiny(), integer), op::qk_matmul).compute, DType::bf16);
}

// W8A8 beside fp16 activations (TensorRT-LLM's fp8 recipe): projections compute in fp8 and read fp8 inputs, write
// fp16; norms, attention and lm_head keep the activations' width and dtype.
TEST(StepOps, GemmInputsMayBeQuantizedNarrowerThanTheActivations) {
  Scenario s = scenario(2, 3, 5);
  s.weight_dtype = DType::fp8;
  const auto plain = ops_of(tiny(), s);
  s.gemm_input_dtype = DType::fp8;
  const auto w8a8 = ops_of(tiny(), s);
  for (auto name : {op::q_proj, op::o_proj, op::gate_proj, op::down_proj}) {
    EXPECT_EQ(get(w8a8, name).compute, DType::fp8) << name;
    EXPECT_EQ(get(plain, name).compute, DType::fp16) << name;
    EXPECT_DOUBLE_EQ(get(w8a8, name).bytes.act_read, get(plain, name).bytes.act_read / 2) << name;
    EXPECT_DOUBLE_EQ(get(w8a8, name).bytes.act_write, get(plain, name).bytes.act_write) << name;
    EXPECT_DOUBLE_EQ(get(w8a8, name).flops, get(plain, name).flops) << name;
  }
  EXPECT_EQ(get(w8a8, op::lm_head).compute, DType::fp16);
  EXPECT_DOUBLE_EQ(get(w8a8, op::lm_head).bytes.total(), get(plain, op::lm_head).bytes.total());
  EXPECT_DOUBLE_EQ(get(w8a8, op::attn_norm).bytes.total(), get(plain, op::attn_norm).bytes.total());
  EXPECT_EQ(get(w8a8, op::qk_matmul).compute, DType::fp16);
  s.gemm_input_dtype = DType::mxfp4;
  EXPECT_EQ(error_of([&] { validate(s); }), "scenario: field 'gemm_input_dtype': mxfp4 is a weight format (GEMM "
                                            "inputs take fp32, fp16, bf16, fp8, int8, int4)");
}

TEST(StepOps, AttentionSpanCausalAndSlidingWindow) {
  auto s = attention_span(3, 5, std::nullopt);
  EXPECT_DOUBLE_EQ(s.pairs, 21);  // 6 + 7 + 8
  EXPECT_DOUBLE_EQ(s.keys_read, 8);
  s = attention_span(4, 0, std::nullopt);  // causal prefill: q(q+1)/2
  EXPECT_DOUBLE_EQ(s.pairs, 10);
  s = attention_span(3, 5, 4);  // every query sees a full window of 4; positions 2..7 touched
  EXPECT_DOUBLE_EQ(s.pairs, 12);
  EXPECT_DOUBLE_EQ(s.keys_read, 6);
  EXPECT_DOUBLE_EQ(s.cache_len, 4);
  s = attention_span(3, 5, 7);  // 6 + 7 + 7
  EXPECT_DOUBLE_EQ(s.pairs, 20);
  EXPECT_DOUBLE_EQ(s.keys_read, 8);
  s = attention_span(1, 9999, 4096);  // decode past the window
  EXPECT_DOUBLE_EQ(s.pairs, 4096);
  EXPECT_DOUBLE_EQ(s.keys_read, 4096);
  // Brute force over small cases.
  for (int q = 1; q < 9; ++q)
    for (int k = 0; k < 9; ++k)
      for (int w = 1; w < 12; ++w) {
        double pairs = 0;
        int first = 1 << 30;
        for (int p = k; p < k + q; ++p) {
          pairs += std::min(p + 1, w);
          first = std::min(first, std::max(0, p - w + 1));
        }
        const auto a = attention_span(q, k, w);
        EXPECT_DOUBLE_EQ(a.pairs, pairs) << q << " " << k << " " << w;
        EXPECT_DOUBLE_EQ(a.keys_read, k + q - first) << q << " " << k << " " << w;
      }
}

TEST(StepOps, DecodeLinearFlopsAreTwiceWeightsTimesBatch) {
  const auto m = resolve_model("llama-2-7b");
  for (std::int64_t b : {1, 8, 64}) {
    const auto ops = ops_of(m, scenario(b, 1, 100));
    double linear_flops = 0;
    for (const auto& op : ops)
      if (op.kind == OpKind::linear) linear_flops += double(op.count) * op.flops;
    // Every weight except the embedding table and the norms is used once per token: 2 FLOP each.
    const double norms = 32 * 2 * 4096.0 + 4096;
    EXPECT_DOUBLE_EQ(linear_flops, 2 * (parameter_count(m) - 32000.0 * 4096 - norms) * double(b));
  }
}

TEST(StepOps, PrefillOfOneTokenEqualsDecode) {
  const auto m = resolve_model("llama-3-8b");
  const auto prefill = ops_of(m, scenario(4, 1, 0));
  Scenario d = scenario(4, 1, 0);
  const auto decode = ops_of(m, d);
  ASSERT_EQ(prefill.size(), decode.size());
  for (std::size_t i = 0; i < prefill.size(); ++i) {
    EXPECT_EQ(prefill[i].name, decode[i].name);
    EXPECT_DOUBLE_EQ(prefill[i].flops, decode[i].flops);
    EXPECT_DOUBLE_EQ(prefill[i].bytes.total(), decode[i].bytes.total());
  }
}

TEST(StepOps, GqaDividesKvTrafficByGroupSize) {
  auto mha = tiny();
  mha.num_kv_heads = 4;
  auto gqa = tiny();
  gqa.num_kv_heads = 1;  // 4 query heads share one KV head
  const auto a = ops_of(mha, scenario(2, 1, 40)), b = ops_of(gqa, scenario(2, 1, 40));
  EXPECT_DOUBLE_EQ(get(a, op::qk_matmul).bytes.kv_read / get(b, op::qk_matmul).bytes.kv_read, 4);
  EXPECT_DOUBLE_EQ(get(a, op::sv_matmul).bytes.kv_read / get(b, op::sv_matmul).bytes.kv_read, 4);
  EXPECT_DOUBLE_EQ(get(a, op::v_proj).bytes.kv_write / get(b, op::v_proj).bytes.kv_write, 4);
  EXPECT_DOUBLE_EQ(get(a, op::k_proj).bytes.weight_read / get(b, op::k_proj).bytes.weight_read, 4);
  EXPECT_DOUBLE_EQ(get(a, op::qk_matmul).flops, get(b, op::qk_matmul).flops);  // Q still uses all heads
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(mha, DType::fp16) / kv_bytes_per_token(gqa, DType::fp16), 4);
}

TEST(StepOps, QuantizedWeightsCarryGroupScales) {
  // int4: a quarter of fp16, plus one fp16 scale per 128 inputs of each row.
  EXPECT_DOUBLE_EQ(matrix_bytes(4096, 4096, DType::int4, 128),
                   matrix_bytes(4096, 4096, DType::fp16, 128) / 4 + 4096.0 * 32 * 2);
  EXPECT_DOUBLE_EQ(matrix_bytes(11008, 4096, DType::int8, 64), 11008.0 * 4096 + 11008.0 * 64 * 2);
  EXPECT_DOUBLE_EQ(matrix_bytes(10, 100, DType::int4, 128), 500 + 10 * 2);  // a partial group has a scale
  EXPECT_DOUBLE_EQ(matrix_bytes(10, 100, DType::fp8, 128), 1000);
  const auto m = resolve_model("llama-2-7b");
  Scenario s = scenario(1, 1, 10);
  s.weight_dtype = DType::int4;
  const auto ops = ops_of(m, s);
  EXPECT_DOUBLE_EQ(get(ops, op::q_proj).bytes.weight_read, 4096.0 * 4096 / 2 + 4096.0 * 32 * 2);
  EXPECT_DOUBLE_EQ(get(ops, op::lm_head).bytes.weight_read, 32000.0 * 4096 * 2);  // lm_head stays fp16
  EXPECT_EQ(dense_weight_dtype(s), DType::fp16);
}

TEST(StepOps, FusionsDropExactlyTheIntermediateTraffic) {
  const auto m = tiny();
  const Scenario base = scenario(2, 3, 5);
  const double T = 6, d = 64, f = 176, a = 2;
  auto total = [](const OpList& ops) {
    double flops = 0, bytes = 0;
    for (const auto& op : ops) {
      flops += double(op.count) * op.flops;
      bytes += double(op.count) * op.bytes.total();
    }
    return std::pair{flops, bytes};
  };
  const auto [f0, b0] = total(ops_of(m, base));

  Scenario s = base;
  s.fusion.qkv = true;
  auto ops = ops_of(m, s);
  EXPECT_EQ(ops.find(op::q_proj), nullptr);
  EXPECT_DOUBLE_EQ(get(ops, op::qkv_proj).flops, 49152 + 2 * 24576);
  EXPECT_DOUBLE_EQ(total(ops).first, f0);
  EXPECT_DOUBLE_EQ(b0 - total(ops).second, 2 * 2 * T * d * a);  // x read once, not three times, per layer

  s = base;
  s.fusion.swiglu = true;
  ops = ops_of(m, s);
  EXPECT_EQ(ops.find(op::act_mul), nullptr);
  EXPECT_DOUBLE_EQ(total(ops).first, f0);
  // Per layer: x read once not twice; gate and up outputs neither written nor read back.
  EXPECT_DOUBLE_EQ(b0 - total(ops).second, 2 * (T * d * a + 4 * T * f * a));

  s = base;
  s.fusion.add_norm = true;
  ops = ops_of(m, s);
  EXPECT_EQ(get(ops, op::attn_norm).count, 1);
  EXPECT_EQ(get(ops, op::add_norm).count, 4);  // 2 per layer, the last one is final_norm
  EXPECT_EQ(ops.find(op::final_norm), nullptr);
  EXPECT_EQ(ops.find(op::mlp_add), nullptr);
  EXPECT_DOUBLE_EQ(total(ops).first, f0);
  EXPECT_DOUBLE_EQ(b0 - total(ops).second, 4 * T * d * a);  // one re-read of the sum per fused add
}

TEST(StepOps, MixtureOfExpertsReadsTheExpertsItTouches) {
  const auto m = resolve_model("mixtral-8x7b");
  const double expert_gate_bytes = 14336.0 * 4096 * 2;
  auto decode = ops_of(m, scenario(1, 1, 100));
  EXPECT_DOUBLE_EQ(get(decode, op::expert_gate_proj).bytes.weight_read, 2 * expert_gate_bytes);  // top-2
  EXPECT_DOUBLE_EQ(get(decode, op::expert_gate_proj).flops, 2 * 2 * 14336.0 * 4096);
  EXPECT_DOUBLE_EQ(get(decode, op::router).flops, 2 * 8 * 4096.0 + 5 * 8 + 1);
  auto prefill = ops_of(m, scenario(1, 512, 0));
  EXPECT_NEAR(get(prefill, op::expert_gate_proj).bytes.weight_read, 8 * expert_gate_bytes, 1);  // all 8
  EXPECT_DOUBLE_EQ(expected_distinct_experts(1, 8, 2), 2);
  EXPECT_DOUBLE_EQ(expected_distinct_experts(2, 8, 2), 8 * (1 - 0.75 * 0.75));
  // The tiny MoE preset: hand-derived expert_down for T = 3 tokens, k = 2, d = 64, f = 128.
  const auto small = ops_of(resolve_model("tiny-moe"), scenario(1, 3, 0));
  const auto& down = get(small, op::expert_down_proj);
  EXPECT_DOUBLE_EQ(down.flops, 2 * 6 * 128 * 64 + 2 * 6 * 64);
  expect_bytes(down, 4 * (1 - 0.125) * 64 * 128 * 2, 6 * 128 * 2, 3 * 64 * 2, 0, 0);
}

TEST(StepOps, Qwen3HasQkNormsAndQwen2HasBiases) {
  const auto q3 = ops_of(resolve_model("qwen3-8b"), scenario(1, 1, 10));
  EXPECT_DOUBLE_EQ(get(q3, op::q_norm).flops, 32 * (4 * 128 + 3));
  EXPECT_DOUBLE_EQ(get(q3, op::k_norm).flops, 8 * (4 * 128 + 3));
  const auto q2 = ops_of(resolve_model("qwen2.5-7b"), scenario(1, 1, 10));
  EXPECT_DOUBLE_EQ(get(q2, op::q_proj).flops, 2 * 3584.0 * 3584 + 3584);
  EXPECT_DOUBLE_EQ(get(q2, op::q_proj).bytes.weight_read, (3584.0 * 3584 + 3584) * 2);
  EXPECT_DOUBLE_EQ(get(q2, op::o_proj).flops, 2 * 3584.0 * 3584);  // no bias on o_proj
}

TEST(StepOps, WeightTrafficOfADecodeStepMatchesTheFootprint) {
  for (const auto& name : {"llama-2-7b", "llama-3-8b", "qwen2.5-7b", "qwen3-8b"}) {
    const auto m = resolve_model(name);
    const Scenario s = scenario(1, 1, 10);
    double read = 0;
    for (const auto& op : ops_of(m, s)) read += double(op.count) * op.bytes.weight_read;
    // A decode step reads every weight once, except the embedding table, of which it gathers one row.
    const double d = double(m.hidden_size), table = double(m.vocab_size) * d * 2;
    EXPECT_DOUBLE_EQ(read, weight_bytes(m, s) - table + d * 2 + (m.tie_word_embeddings ? table : 0)) << name;
  }
}

TEST(StepOps, OneShapeOfBSequencesIsTheUniformStep) {
  const auto m = resolve_model("mistral-7b");  // with a sliding window
  for (auto [b, q, k] : {std::tuple{8, 1, 5000}, std::tuple{3, 700, 0}, std::tuple{2, 64, 4090}}) {
    Scenario s = scenario(b, q, k);
    BatchShape shape;
    shape.add({b, q, k, 1}, m);
    OpList mixed;
    step_ops(m, s, shape, mixed);
    const OpList uniform = ops_of(m, s);
    ASSERT_EQ(mixed.size(), uniform.size());
    for (std::size_t i = 0; i < mixed.size(); ++i) {
      SCOPED_TRACE(std::string(uniform[i].name));
      EXPECT_EQ(mixed[i].flops, uniform[i].flops);
      EXPECT_EQ(mixed[i].bytes.total(), uniform[i].bytes.total());
    }
  }
}

TEST(StepOps, AMixedStepSumsAttentionPerSequenceAndLinearsOverTokens) {
  // A prefill chunk of 100 tokens after 20 cached, and 3 decodes at contexts 50, 51 and 900.
  const auto m = tiny();
  Scenario s = scenario(1, 1, 0);
  BatchShape mix;
  mix.add({1, 100, 20, 1}, m);
  for (std::int64_t k : {50, 51, 900}) mix.add({1, 1, k, 1}, m);
  EXPECT_EQ(mix.tokens, 103);
  EXPECT_EQ(mix.sequences, 4);
  EXPECT_EQ(mix.logit_rows, 4);
  OpList ops;
  step_ops(m, s, mix, ops);
  // Attention: the pairs and keys of each sequence alone, added up.
  double qk = 0, kv_read = 0;
  for (auto [q, k] : {std::pair{100, 20}, std::pair{1, 50}, std::pair{1, 51}, std::pair{1, 900}}) {
    const OpList one = ops_of(m, scenario(1, q, k));
    qk += get(one, op::qk_matmul).flops;
    kv_read += get(one, op::qk_matmul).bytes.kv_read;
  }
  EXPECT_DOUBLE_EQ(get(ops, op::qk_matmul).flops, qk);
  EXPECT_DOUBLE_EQ(get(ops, op::qk_matmul).bytes.kv_read, kv_read);
  // Projections see 103 tokens, weights read once: the same as one sequence of 103 new tokens.
  const OpList flat = ops_of(m, scenario(1, 103, 0));
  for (auto name : {op::q_proj, op::down_proj, op::mlp_norm}) {
    EXPECT_DOUBLE_EQ(get(ops, name).flops, get(flat, name).flops) << name;
    EXPECT_DOUBLE_EQ(get(ops, name).bytes.total(), get(flat, name).bytes.total()) << name;
  }
  // lm_head: one row per sequence (4), where the flat prefill has one.
  EXPECT_DOUBLE_EQ(get(ops, op::lm_head).flops, 4 * get(flat, op::lm_head).flops);
}

// A fused attention op carries its prompt part's geometry (what its tiles and waves depend on): the prompt-like
// sequences' mean new and cached tokens, the query heads, and their share of the pairs; decodes are not part of it.
TEST(StepOps, FusedAttentionCarriesItsPromptGeometry) {
  const auto m = tiny();
  Scenario s = scenario(1, 1, 0);
  s.attention = AttentionImpl::flash;
  BatchShape mix;
  mix.add({2, 100, 20, 1}, m);
  for (std::int64_t k : {50, 900}) mix.add({1, 1, k, 1}, m);
  OpList ops;
  step_ops(m, s, mix, ops);
  const OpCost::PromptGeometry& g = get(ops, op::attention).prompt;
  EXPECT_DOUBLE_EQ(g.sequences, 2);
  EXPECT_DOUBLE_EQ(g.q, 100);
  EXPECT_NEAR(g.cached, 20, 1e-9);
  EXPECT_DOUBLE_EQ(g.heads, double(m.num_heads));
  const double prompt_pairs = 2 * (100.0 * 20 + 100.0 * 101 / 2), decode_pairs = 51 + 901;
  EXPECT_NEAR(g.share, prompt_pairs / (prompt_pairs + decode_pairs), 1e-6);  // floats
  // A decode-only step has no prompt part; nor does the unfused form (its scores go through memory).
  BatchShape decodes;
  decodes.add({4, 1, 300, 1}, m);
  step_ops(m, s, decodes, ops);
  EXPECT_EQ(get(ops, op::attention).prompt.sequences, 0);
  EXPECT_EQ(get(ops_of(m, scenario(2, 64, 0)), op::qk_matmul).prompt.sequences, 0);
}

TEST(StepOps, APrefillChunkThatEndsNoPromptComputesNoLogits) {
  const auto m = tiny();
  BatchShape chunk;
  chunk.add({2, 32, 0, 0}, m);
  OpList ops;
  step_ops(m, scenario(1, 1, 0), chunk, ops);
  EXPECT_EQ(get(ops, op::lm_head).flops, 0);
  EXPECT_EQ(get(ops, op::lm_head).bytes.total(), 0);
  // Verification of 4 speculated tokens needs logits for each of them.
  BatchShape verify;
  verify.add({1, 4, 10, 4}, m);
  step_ops(m, scenario(1, 1, 0), verify, ops);
  EXPECT_DOUBLE_EQ(get(ops, op::lm_head).flops, 2.0 * 4 * 64 * 256);
}

TEST(Footprint, WeightPartsAddUpToTheWeights) {
  for (const auto& name : model_preset_names()) {
    const auto m = resolve_model(name);
    Scenario s;
    s.weight_dtype = DType::int4;
    const WeightParts parts = weight_bytes_by_part(m, s);
    EXPECT_DOUBLE_EQ(parts.total(), weight_bytes(m, s)) << name;
    // The embedding is the V x d table in the dense dtype (fp16 under int4 weights).
    EXPECT_DOUBLE_EQ(parts.embedding, double(m.vocab_size) * double(m.hidden_size) * 2) << name;
    // The head is final_norm, plus lm_head when it is not the embedding.
    EXPECT_DOUBLE_EQ(parts.head, double(m.hidden_size) * 2 + (m.tie_word_embeddings ? 0 : parts.embedding)) << name;
  }
}

TEST(Footprint, Llama2KvCacheAndWeights) {
  const auto m = resolve_model("llama-2-7b");
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m, DType::fp16), 524288);  // 2 * 32 layers * 4096 * 2 B
  Scenario s;
  EXPECT_NEAR(weight_bytes(m, s), 13.48e9, 0.01e9);
  s.batch = 8;
  EXPECT_DOUBLE_EQ(kv_cache_bytes(m, s, 1024), 8 * 1024 * 524288.0);
  const auto mistral = resolve_model("mistral-7b");  // a sliding window caps what the cache holds
  EXPECT_DOUBLE_EQ(kv_cache_bytes(mistral, s, 10000), kv_cache_bytes(mistral, s, 4096));
}

TEST(Scenario, ValidationAndFusionParsing) {
  Scenario s;
  s.batch = 0;
  EXPECT_THROW(validate(s), ModelError);
  s.batch = 1;
  s.kv_len = -1;
  EXPECT_THROW(validate(s), ModelError);
  s.kv_len = 0;
  EXPECT_NO_THROW(validate(s));
  s.attention_dtype = DType::int8;
  EXPECT_EQ(error_of([&] { validate(s); }), "scenario: field 'attention_dtype': int8 is not a float dtype attention "
                                            "computes in (fp32, fp16, bf16, fp8)");
  s.attention_dtype = DType::fp8;
  EXPECT_NO_THROW(validate(s));
  const Fusion f = parse_fusion("qkv,swiglu");
  EXPECT_TRUE(f.qkv && f.swiglu && !f.add_norm);
  EXPECT_EQ(to_string(parse_fusion("all")), "qkv,add_norm,swiglu");
  try {
    parse_fusion("qkv,rope");
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown fusion 'rope'"), std::string::npos);
  }
}

TEST(Vocabulary, EveryEmittedNameIsInTheVocabulary) {
  for (const auto& name : model_preset_names()) {
    for (AttentionImpl att : {AttentionImpl::naive, AttentionImpl::flash}) {
      for (bool fuse : {false, true}) {
        Scenario s = scenario(2, 3, 4);
        s.attention = att;
        s.fusion = {fuse, fuse, fuse};
        for (const auto& op : ops_of(resolve_model(name), s)) {
          bool known = false;
          for (const auto& d : op::kVocabulary) known = known || d.name == op.name;
          EXPECT_TRUE(known) << op.name;
        }
      }
    }
  }
}

// The embedding gathers T rows of a V-row table: a step of more tokens than the vocabulary reads each row
// at most once (it used to count more table bytes than the table holds).
TEST(StepOps, EmbeddingReadsAtMostTheWholeTable) {
  const ModelConfig m = tiny();  // V = 256, d = 64
  const double row = double(m.hidden_size) * 2;  // fp16
  EXPECT_DOUBLE_EQ(get(ops_of(m, scenario(2, 64, 0)), "embed").bytes.weight_read, 128 * row);   // T = 128 < V
  EXPECT_DOUBLE_EQ(get(ops_of(m, scenario(4, 128, 0)), "embed").bytes.weight_read, 256 * row);  // T = 512 > V
  EXPECT_DOUBLE_EQ(get(ops_of(m, scenario(4, 128, 0)), "embed").bytes.act_write, 512 * row);    // every token out
}

// Published parameter counts, under the convention of opmodel/footprint.hpp (active: all but the routed experts,
// plus k of them per MoE layer; embedding and lm_head included). The cards give active counts to two or three
// digits, rounded (Mixtral's 12.88B as "12.9B") or truncated (Qwen3-30B-A3B's 3.35B as "3.3B"), so an active
// count is held to within one unit of the published figure's last digit; totals to 0.5%.
TEST(ModelConfig, MoePresetsReproduceTheirPublishedParameterCounts) {
  struct Card {
    const char* preset;
    double total, active, active_unit, non_embedding;
  };
  for (const Card& c : {Card{"qwen3-30b-a3b", 30.5e9, 3.3e9, 0.1e9, 29.9e9},
                        Card{"qwen3-235b-a22b", 235e9, 22e9, 1e9, 234e9},
                        Card{"mixtral-8x7b", 46.7e9, 12.9e9, 0.1e9, 0}}) {
    SCOPED_TRACE(c.preset);
    const ModelConfig m = resolve_model(c.preset);
    const double total = parameter_count(m), active = active_parameter_count(m);
    EXPECT_NEAR(total / c.total, 1, 0.005) << total;
    EXPECT_NEAR(active, c.active, c.active_unit) << active;
    const double embeddings = double(m.vocab_size * m.hidden_size) * (m.tie_word_embeddings ? 1 : 2);
    if (c.non_embedding > 0) {
      EXPECT_NEAR((total - embeddings) / c.non_embedding, 1, 0.005) << total - embeddings;
    }
  }
  const ModelConfig q = resolve_model("qwen3-30b-a3b");
  EXPECT_EQ(q.moe_layers, 48);
  EXPECT_EQ(q.dense_layers(), 0);
  EXPECT_EQ(q.moe_intermediate_size, 768);
  EXPECT_TRUE(q.qk_norm);
  EXPECT_EQ(parameter_count(resolve_model("llama-2-7b")), active_parameter_count(resolve_model("llama-2-7b")));
}

// Qwen2-MoE's layout: dense layers from mlp_only_layers and decoder_sparse_step, a gated shared expert.
json qwen2_moe_json() {
  return json::parse(R"({"model_type": "qwen2_moe", "hidden_size": 64, "num_hidden_layers": 6,
    "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 128,
    "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 48, "decoder_sparse_step": 2, "mlp_only_layers": [3]})");
}

TEST(StepOps, SharedExpertsAndDenseLayersOfAQwen2MoeByHand) {
  const ModelConfig m = parse_model_config(qwen2_moe_json(), "q", "q.json");
  // Layers 1, 3, 5 have (i + 1) % 2 == 0; layer 3 is in mlp_only_layers: MoE in 1 and 5.
  EXPECT_EQ(m.moe_layers, 2);
  EXPECT_EQ(m.dense_layers(), 4);
  EXPECT_TRUE(m.qkv_bias);
  EXPECT_TRUE(m.shared_expert_gate);
  // Weights: 4 dense MLPs of 3 x 64 x 96, 2 MoE layers of router 8 x 64 + 8 experts x 3 x 64 x 32 + the shared
  // expert 3 x 64 x 48 + its gate 64.
  const double attention = 6 * (64 * 64 + 2 * 64 * 32 + 64 * 64 + (64 + 2 * 32) + 2 * 64);
  const double moe = 8 * 64 + 8 * 3 * 64 * 32 + 3 * 64 * 48 + 64;
  EXPECT_DOUBLE_EQ(parameter_count(m), attention + 4 * 3 * 64 * 96 + 2 * moe + 64 + 2 * 128 * 64);
  EXPECT_DOUBLE_EQ(active_parameter_count(m),
                   attention + 4 * 3 * 64 * 96 + 2 * (moe - 6 * 3 * 64 * 32) + 64 + 2 * 128 * 64);

  const Scenario s = scenario(2, 4, 0);  // T = 8 tokens, fp16
  const OpList ops = ops_of(m, s);
  EXPECT_EQ(get(ops, "gate_proj").count, 4);    // the dense layers
  EXPECT_EQ(get(ops, "router").count, 2);       // the MoE layers
  EXPECT_EQ(get(ops, "expert_up_proj").count, 2);
  const OpCost& gate = get(ops, "shared_gate");
  EXPECT_DOUBLE_EQ(gate.flops, 2 * 8 * 64 + 4 * 8);  // d -> 1 per token, then the sigmoid
  const OpCost& up = get(ops, "shared_up_proj");
  EXPECT_EQ(up.count, 2);
  EXPECT_DOUBLE_EQ(up.flops, 2 * 8 * 48 * 64);
  expect_bytes(up, 48 * 64 * 2, 8 * 64 * 2, 8 * 48 * 2, 0, 0);
  const OpCost& down = get(ops, "shared_down_proj");
  // 2 T d f_s, then scale by the gate and add the routed output: 2 T d.
  EXPECT_DOUBLE_EQ(down.flops, 2 * 8 * 64 * 48 + 2 * 8 * 64);
  // Reads its input, the routed experts' output and the gate; writes one row per token.
  expect_bytes(down, 64 * 48 * 2, 8 * 48 * 2 + 8 * 64 * 2 + 8 * 2, 8 * 64 * 2, 0, 0);
  EXPECT_EQ(ops.find("shared_gate_up_act"), nullptr);
}

TEST(ModelConfig, MoeFieldsAreCheckedNamingThem) {
  json j = qwen2_moe_json();
  j["mlp_only_layers"] = {1, 6};
  EXPECT_EQ(config_error(j), "bad/config.json: field 'mlp_only_layers': 6 is not a layer index in [0, 6)");
  j = qwen2_moe_json();
  j["num_experts_per_tok"] = 9;
  EXPECT_EQ(config_error(j), "bad/config.json: field 'num_experts_per_tok': 9 exceeds num_experts = 8");
  j = qwen2_moe_json();
  j.erase("moe_intermediate_size");
  EXPECT_EQ(config_error(j), "bad/config.json: field 'moe_intermediate_size': is required");
  j = qwen2_moe_json();
  j["use_sliding_window"] = true;
  EXPECT_NE(config_error(j).find("field 'use_sliding_window': true is not modelled"), std::string::npos);
}

// Phi-3 is Llama-shaped under its own model_type: its card's 3.8B, its 2047-token window.
TEST(ModelConfig, Phi3ReadsAsLlamaShapedWithItsWindow) {
  const ModelConfig m = resolve_model("phi-3-mini-4k");
  EXPECT_EQ(m.model_type, "phi3");
  EXPECT_EQ(m.head_dim, 96);
  EXPECT_EQ(m.num_kv_heads, 32);
  EXPECT_EQ(m.sliding_window, 2047);
  EXPECT_FALSE(m.qkv_bias);
  // Counted from the config: 3,821,079,552. The card gives two digits ("3.8B"): held to its last digit.
  EXPECT_DOUBLE_EQ(parameter_count(m), 3821079552);
  EXPECT_NEAR(parameter_count(m), 3.8e9, 0.1e9);
  json j = llama_json();
  j["model_type"] = "phi3";
  // Partial RoPE (Phi-3-small, Qwen3-Next) rotates that share of each head: the rope op's FLOPs scale with it.
  j["partial_rotary_factor"] = 0.75;
  const ModelConfig partial = parse_model_config(j, "p", "p.json");
  EXPECT_EQ(partial.rotary_dim, partial.head_dim * 3 / 4);
  j["partial_rotary_factor"] = 0.3;  // 0.3 x 128 = 38.4 dimensions
  EXPECT_EQ(config_error(j),
            "bad/config.json: field 'partial_rotary_factor': 0.3 x head_dim 128 is not an even number of dimensions");
}
