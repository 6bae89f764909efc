// The engine end to end: KV cache against recomputation, tiled against naive attention, paged against
// contiguous cache, batches against single runs, checkpoints through the loader, the sampler, the probe
// and its op names against opmodel's vocabulary, and `roofline run`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/generate.hpp"
#include "engine/model.hpp"
#include "engine/op_names.hpp"
#include "engine/safetensors.hpp"
#include "engine/sampler.hpp"
#include "engine/weights.hpp"
#include "opmodel/model_config.hpp"
#include "opmodel/op_names.hpp"
#include "opmodel/step_ops.hpp"
#include "run_roofline.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

// A small Qwen2-style model: GQA, q/k/v biases, untied head; a Mistral-style one with a sliding window.
const char* kQwenConfig = R"({"model_type":"qwen2","hidden_size":48,"intermediate_size":80,"num_hidden_layers":2,
  "num_attention_heads":6,"num_key_value_heads":2,"vocab_size":97,"max_position_embeddings":128,
  "rms_norm_eps":1e-6,"rope_theta":1000000.0,"tie_word_embeddings":false})";
const char* kMistralConfig = R"({"model_type":"mistral","hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
  "num_attention_heads":4,"num_key_value_heads":1,"vocab_size":64,"sliding_window":5,"tie_word_embeddings":true})";

// Logits of each sequence's last token after feeding `prompts` (and then each of `extra` one at a time).
std::vector<std::vector<float>> run_steps(engine::Model& model, engine::KvCache& cache,
                                          const std::vector<std::vector<std::int32_t>>& prompts) {
  const std::int64_t V = model.config().vocab_size;
  std::vector<engine::SequenceStep> step;
  for (const auto& p : prompts) step.push_back({cache.add_sequence(), p});
  std::vector<float> logits(prompts.size() * std::size_t(V));
  model.forward(cache, step, logits.data(), engine::Phase::prefill, nullptr);
  std::vector<std::vector<float>> out;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    out.emplace_back(logits.begin() + std::ptrdiff_t(i) * V, logits.begin() + std::ptrdiff_t(i + 1) * V);
  return out;
}

void expect_logits_near(const std::vector<float>& a, const std::vector<float>& b, double tol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << what << " logit " << i;
}

TEST(EngineModel, DecodeWithTheCacheEqualsRecomputingTheSequence) {
  for (const char* text : {kQwenConfig, kMistralConfig}) {
    const engine::Config c = engine::parse_config(text, "test config");
    const engine::Weights w = engine::random_weights(c, 7, {});
    engine::Model model(w, engine::AttentionKind::tiled);
    engine::KvCache cache(c.n_layers, c.kv_dim(), 4, 64);
    std::vector<std::int32_t> seq = {3, 14, 15, 9, 26, 5, 35, 8, 9};
    const std::int64_t id = cache.add_sequence();
    std::vector<float> logits(std::size_t(c.vocab_size));
    engine::SequenceStep step{id, seq};
    model.forward(cache, {&step, 1}, logits.data(), engine::Phase::prefill, nullptr);
    for (int s = 0; s < 6; ++s) {
      const auto next = std::int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      seq.push_back(next);
      engine::SequenceStep d{id, {&seq.back(), 1}};
      model.forward(cache, {&d, 1}, logits.data(), engine::Phase::decode, nullptr);
      engine::KvCache fresh(c.n_layers, c.kv_dim(), 4, 64);
      const auto full = run_steps(model, fresh, {seq});
      expect_logits_near(logits, full[0], 2e-4, std::string(c.model_type) + " step " + std::to_string(s));
    }
  }
}

TEST(EngineModel, TiledEqualsNaivePagedEqualsContiguous) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const engine::Weights w = engine::random_weights(c, 3, {});
  engine::Model tiled(w, engine::AttentionKind::tiled), naive(w, engine::AttentionKind::naive);
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}};
  engine::KvCache paged(c.n_layers, c.kv_dim(), 3, 32), paged2(c.n_layers, c.kv_dim(), 3, 32);
  engine::KvCache contiguous = engine::KvCache::contiguous(c.n_layers, engine::KvRowDims{c.kv_dim(), c.kv_dim()}, 1, 64);
  const auto a = run_steps(tiled, paged, prompts), b = run_steps(naive, paged2, prompts),
             d = run_steps(tiled, contiguous, prompts);
  expect_logits_near(a[0], b[0], 1e-4, "tiled vs naive");
  expect_logits_near(a[0], d[0], 1e-5, "paged vs contiguous");
}

// AddNorm::fused runs the residual adds inside the next norm: the same sums, so the same logits, from fewer calls.
TEST(EngineModel, FusedAddNormGivesTheSameLogits) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const engine::Weights w = engine::random_weights(c, 3, {});
  engine::Model separate(w, engine::AttentionKind::tiled),
      fused(w, engine::AttentionKind::tiled, engine::MlaForm::automatic, engine::AddNorm::fused);
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12}};
  engine::KvCache c1(c.n_layers, c.kv_dim(), 4, 32), c2(c.n_layers, c.kv_dim(), 4, 32);
  const auto a = run_steps(separate, c1, prompts), b = run_steps(fused, c2, prompts);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) expect_logits_near(a[i], b[i], 0, "separate vs fused add_norm");
}

TEST(EngineModel, ABatchOfUnequalSequencesEqualsEachRunAlone) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const engine::Weights w = engine::random_weights(c, 5, {});
  engine::Model model(w, engine::AttentionKind::tiled);
  const std::vector<std::vector<std::int32_t>> prompts = {{5, 6, 7}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {42}};
  engine::KvCache cache(c.n_layers, c.kv_dim(), 4, 64);
  const engine::GenerationResult batch = engine::generate(model, cache, prompts, 7, {}, nullptr);
  EXPECT_EQ(cache.free_blocks(), 64);  // released
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const engine::GenerationResult alone = engine::generate(model, cache, {prompts[i]}, 7, {}, nullptr);
    EXPECT_EQ(batch.tokens[i], alone.tokens[0]) << "sequence " << i;
  }
  EXPECT_EQ(batch.decode_step_s.size(), 6u);
}

TEST(EngineModel, WeightFormatsStayCloseToF32) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const std::vector<std::vector<std::int32_t>> prompts = {{9, 8, 7, 6, 5}};
  std::vector<std::vector<float>> out;
  for (auto f : {engine::WeightFormat::f32, engine::WeightFormat::bf16, engine::WeightFormat::int8}) {
    const engine::Weights w = engine::random_weights(c, 11, {f, 16});
    engine::Model model(w, engine::AttentionKind::tiled);
    engine::KvCache cache(c.n_layers, c.kv_dim(), 4, 16);
    out.push_back(run_steps(model, cache, prompts)[0]);
  }
  double scale = 0;
  for (float x : out[0]) scale = std::max(scale, double(std::fabs(x)));
  expect_logits_near(out[1], out[0], 0.02 * scale, "bf16");
  expect_logits_near(out[2], out[0], 0.05 * scale, "int8");
  EXPECT_NE(out[1], out[0]);  // the formats really differ
}

TEST(EngineModel, CheckpointRoundTripsSingleFileAndSharded) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const engine::Weights w = engine::random_weights(c, 13, {});
  const fs::path dir = temp_dir("ckpt");
  engine::save_checkpoint(w, kQwenConfig, dir.string());
  const engine::Config c2 = engine::load_config_file((dir / "config.json").string());
  const engine::Weights loaded = engine::load_weights(c2, dir.string(), {});
  engine::Model a(w, engine::AttentionKind::tiled), b(loaded, engine::AttentionKind::tiled);
  engine::KvCache ca(c.n_layers, c.kv_dim(), 4, 16), cb(c.n_layers, c.kv_dim(), 4, 16);
  const auto la = run_steps(a, ca, {{1, 2, 3}}), lb = run_steps(b, cb, {{1, 2, 3}});
  EXPECT_EQ(la[0], lb[0]);

  // Shard it: embed and layer 0 in one file, the rest in another, with an index as transformers writes.
  engine::SafetensorsFile whole((dir / "model.safetensors").string());
  std::vector<engine::NamedTensor> first, second;
  std::vector<engine::Buffer<float>> keep;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, info] : whole.tensors()) {
    keep.push_back(whole.read_f32(name, info.shape));
    const bool in_first = name.find("layers.0.") != std::string::npos || name.find("embed") != std::string::npos;
    (in_first ? first : second).push_back({name, info.shape, keep.back().data()});
    index["weight_map"][name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  const fs::path sharded = temp_dir("sharded");
  engine::write_safetensors((sharded / "model-00001-of-00002.safetensors").string(), first);
  engine::write_safetensors((sharded / "model-00002-of-00002.safetensors").string(), second);
  std::ofstream(sharded / "model.safetensors.index.json") << index.dump();
  const engine::Weights from_shards = engine::load_weights(c, sharded.string(), {});
  engine::Model s(from_shards, engine::AttentionKind::tiled);
  engine::KvCache cs(c.n_layers, c.kv_dim(), 4, 16);
  EXPECT_EQ(run_steps(s, cs, {{1, 2, 3}})[0], la[0]);
  fs::remove_all(dir);
  fs::remove_all(sharded);
}

// What f threw as an EngineError (any other exception fails the test): the engine's errors are typed.
std::string engine_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const engine::EngineError& e) {
    return e.what();
  }
  return "no error";
}

TEST(EngineModel, BadCheckpointsAreClearErrors) {
  const engine::Config c = engine::parse_config(kQwenConfig, "test config");
  const engine::Weights w = engine::random_weights(c, 13, {});
  const fs::path dir = temp_dir("bad");
  engine::save_checkpoint(w, kQwenConfig, dir.string());
  const fs::path file = dir / "model.safetensors";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& content) { std::ofstream(file, std::ios::binary | std::ios::trunc) << content; };
  auto load = [&] { return engine_error_of([&] { engine::load_weights(c, dir.string(), {}); }); };

  write(bytes.substr(0, bytes.size() - 100));  // truncated data
  EXPECT_NE(load().find("outside"), std::string::npos) << load();
  EXPECT_NE(load().find("model.safetensors"), std::string::npos) << load();
  write(bytes.substr(0, 5));  // not even the header size
  EXPECT_NE(load().find("header size"), std::string::npos) << load();
  std::string lying = bytes;
  lying[0] = char(0xff), lying[1] = char(0xff), lying[2] = char(0xff);  // header size beyond the file
  write(lying);
  EXPECT_NE(load().find("header size"), std::string::npos) << load();
  std::string garbled = bytes;
  garbled[8] = '[';  // header is not an object
  write(garbled);
  EXPECT_NE(load().find("header"), std::string::npos) << load();
  std::string dtype = bytes;
  const auto at = dtype.find("\"F32\"");
  dtype.replace(at, 5, "\"Q17\"");
  write(dtype);
  EXPECT_NE(load().find("unknown dtype 'Q17'"), std::string::npos) << load();
  write(bytes);
  const engine::Config wrong = engine::parse_config(
      std::string(kQwenConfig).replace(std::string(kQwenConfig).find("\"intermediate_size\":80"), 22, "\"intermediate_size\":81"),
      "test config");
  const std::string shape = engine_error_of([&] { engine::load_weights(wrong, dir.string(), {}); });
  EXPECT_NE(shape.find("gate_proj.weight"), std::string::npos) << shape;
  EXPECT_NE(shape.find("[80, 48]"), std::string::npos) << shape;
  fs::remove_all(dir);
}

TEST(EngineModel, ConfigErrorsNameTheField) {
  EXPECT_NE(engine_error_of([] { engine::parse_config(R"({"model_type":"gpt2"})", "c.json"); }).find("'model_type'"), std::string::npos);
  EXPECT_NE(engine_error_of([] { engine::parse_config(R"({"model_type":"llama"})", "c.json"); }).find("'hidden_size': is required"),
            std::string::npos);
  EXPECT_NE(engine_error_of([] { engine::parse_config("{", "c.json"); }).find("malformed JSON"), std::string::npos);
  const std::string overflow = engine_error_of([] {
    engine::parse_config(R"({"model_type":"llama","hidden_size":1e400})", "c.json");
  });
  EXPECT_NE(overflow.find("c.json"), std::string::npos) << overflow;
  const engine::Config l3 = engine::parse_config(
      R"({"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,
          "vocab_size":10,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
          "high_freq_factor":4.0,"original_max_position_embeddings":8192}})",
      "c.json");
  ASSERT_TRUE(l3.rope_scaling);
  EXPECT_EQ(l3.rope_scaling->factor, 8.0);
  EXPECT_NE(engine_error_of([] {
              engine::parse_config(R"({"model_type":"llama","hidden_size":64,"intermediate_size":128,
                "num_hidden_layers":1,"num_attention_heads":4,"vocab_size":10,"rope_scaling":{"rope_type":"longrope"}})",
                                   "c.json");
            }).find("rope_scaling.rope_type"),
            std::string::npos);
}

TEST(EngineSampler, GreedyTopKTopPPenaltiesAndSeeds) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, -1.0f, 2.9f};
  auto draw = [&](engine::SamplerOptions o, std::uint64_t stream, std::vector<std::int32_t> output = {}) {
    engine::Sampler s(o, 5, stream);
    auto l = logits;
    return s.sample(l.data(), {}, output);
  };
  EXPECT_EQ(draw({}, 0), 1);
  engine::SamplerOptions k1;
  k1.temperature = 1, k1.top_k = 1;
  for (std::uint64_t s = 0; s < 20; ++s) EXPECT_EQ(draw(k1, s), 1);
  engine::SamplerOptions p;
  p.temperature = 1, p.top_p = 0.3;  // the top token alone has ~0.4 of the mass
  for (std::uint64_t s = 0; s < 20; ++s) EXPECT_EQ(draw(p, s), 1);
  engine::SamplerOptions t;
  t.temperature = 1, t.top_k = 2;
  std::set<std::int32_t> seen;
  for (std::uint64_t s = 0; s < 200; ++s) seen.insert(draw(t, s));
  EXPECT_EQ(seen, (std::set<std::int32_t>{1, 4}));
  EXPECT_EQ(draw(t, 42), draw(t, 42));  // seeded
  engine::SamplerOptions rep;
  rep.repetition_penalty = 2;  // 3.0 / 2 = 1.5 < 2.9 of token 4
  EXPECT_EQ(draw(rep, 0, {1}), 4);
  engine::SamplerOptions freq;
  freq.frequency_penalty = 0.1;  // token 1 seen twice: 3.0 - 0.2 < 2.9
  EXPECT_EQ(draw(freq, 0, {1, 1}), 4);
  engine::SamplerOptions bad;
  bad.top_p = 0;
  EXPECT_NE(engine_error_of([&] { engine::validate(bad); }).find("'top_p'"), std::string::npos);
}

// The probe times every kernel under a name of opmodel's vocabulary, and the ops opmodel counts for the
// engine's configuration (unfused; naive or fused attention) are exactly the ops the engine times.
TEST(EngineProbe, OpNamesMatchOpmodelForBothAttentionKinds) {
  for (auto name : engine::op::kTimed) {
    const bool known = std::any_of(opmodel::op::kVocabulary.begin(), opmodel::op::kVocabulary.end(),
                                   [&](const auto& d) { return d.name == name; });
    EXPECT_TRUE(known) << name;
  }
  std::string tiny_text;
  for (const auto& f : opmodel::embedded_files())
    if (f.name == "tiny") tiny_text = std::string(f.text);
  ASSERT_FALSE(tiny_text.empty());
  const engine::Config c = engine::parse_config(tiny_text, "preset tiny");
  const opmodel::ModelConfig m = opmodel::resolve_model("tiny");
  ASSERT_FALSE(m.is_moe());
  const engine::Weights w = engine::random_weights(c, 1, {});
  for (auto [kind, add_norm] : {std::pair{engine::AttentionKind::tiled, engine::AddNorm::separate},
                                 std::pair{engine::AttentionKind::naive, engine::AddNorm::separate},
                                 std::pair{engine::AttentionKind::tiled, engine::AddNorm::fused}}) {
    engine::Model model(w, kind, engine::MlaForm::automatic, add_norm);
    engine::KvCache cache(c.n_layers, c.kv_dim(), 16, 64);
    engine::Probe probe;
    engine::generate(model, cache, {{1, 2, 3}}, 2, {}, &probe);
    std::set<std::string> timed, counted;
    for (const auto& r : probe.records) timed.insert(std::string(r.op));
    opmodel::Scenario s;
    s.attention = kind == engine::AttentionKind::tiled ? opmodel::AttentionImpl::flash : opmodel::AttentionImpl::naive;
    s.fusion.add_norm = add_norm == engine::AddNorm::fused;
    opmodel::OpList ops;
    opmodel::step_ops(m, s, ops);
    for (const auto& op : ops) counted.insert(std::string(op.name));
    EXPECT_EQ(timed, counted);
    // Calls per step (two steps: the prompt, then one decode step) as opmodel counts them, for the norms and adds.
    for (const auto& op : ops) {
      if (op.name.find("norm") == std::string_view::npos && op.name.find("add") == std::string_view::npos) continue;
      const auto calls = std::count_if(probe.records.begin(), probe.records.end(),
                                       [&](const auto& r) { return r.op == op.name; });
      EXPECT_EQ(calls, 2 * op.count) << op.name;
    }
    // One record per kernel call: per layer ops once per layer and step.
    const auto q_calls = std::count_if(probe.records.begin(), probe.records.end(),
                                       [](const auto& r) { return r.op == engine::op::q_proj; });
    EXPECT_EQ(q_calls, 2 * c.n_layers);
  }
}

TEST(RunCommand, GeneratesFromRandomAndFromACheckpoint) {
  const fs::path dir = temp_dir("run");
  const std::string args = "run --model tiny --prompt-ids \"1 2 3 4\" --gen 5 --format json";
  const Result a = run(args + " --save-weights " + (dir / "ckpt").string());
  ASSERT_EQ(a.code, 0) << a.out;
  const auto ja = nlohmann::json::parse(a.out);
  ASSERT_EQ(ja["tokens"].size(), 1u);
  EXPECT_EQ(ja["tokens"][0].size(), 5u);
  EXPECT_EQ(ja["decode_steps"], 4);
  EXPECT_GT(ja["decode_tokens_per_s"].get<double>(), 0);
  const Result b = run("run --model " + (dir / "ckpt" / "config.json").string() + " --weights " +
                       (dir / "ckpt").string() + " --prompt-ids \"1 2 3 4\" --gen 5 --format json");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(nlohmann::json::parse(b.out)["tokens"], ja["tokens"]);
  const Result fused = run(args + " --fuse add_norm");  // the same sums: the same greedy tokens
  ASSERT_EQ(fused.code, 0) << fused.out;
  EXPECT_EQ(nlohmann::json::parse(fused.out)["tokens"], ja["tokens"]);
  const Result bad_fuse = run(args + " --fuse qkv");
  EXPECT_EQ(bad_fuse.code, 2);
  EXPECT_NE(bad_fuse.out.find("'qkv'"), std::string::npos) << bad_fuse.out;
  const Result table = run("run --model tiny --prompt-ids \"1 2; 3 4 5\" --gen 3 --attn naive --kv contiguous");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("sequence 1:"), std::string::npos);
  EXPECT_NE(table.out.find("qk_matmul"), std::string::npos);
  EXPECT_NE(table.out.find("time to first token"), std::string::npos);
  fs::remove_all(dir);
}

TEST(RunCommand, BadInputIsAClearErrorAndNoOutputFile) {
  const fs::path dir = temp_dir("runbad");
  const std::string out = (dir / "out.json").string();
  Result r = run("run --model tiny --prompt-ids \"1 2 999\" -o " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("prompt-ids"), std::string::npos) << r.out;
  // Sampler and format options out of range are the command line's fault: exit 2, the option named.
  r = run("run --model tiny --prompt-ids \"1 2\" --top-p 1.5 -o " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("option '--top-p': 1.5 is outside (0, 1]"), std::string::npos) << r.out;
  r = run("run --model tiny --prompt-ids \"1 2\" --temperature -1 -o " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("option '--temperature': -1 is outside [0, inf)"), std::string::npos) << r.out;
  r = run("run --model tiny --prompt-ids \"1 2\" --weight-format fp4 -o " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("option '--weight-format': unknown weight format 'fp4'"), std::string::npos) << r.out;
  r = run("run --model tiny --prompt-ids \"1 2;\" -o " + out);  // a second prompt with no ids
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("option '--prompt-ids': prompt 2 has no token ids"), std::string::npos) << r.out;
  std::ofstream(dir / "a_file") << "x";
  r = run("run --model tiny --prompt-ids \"1 2\" --save-weights " + (dir / "a_file").string() + " -o " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("option '--save-weights': '" + (dir / "a_file").string() + "' exists and is not a directory"),
            std::string::npos)
      << r.out;
  r = run("run --model tiny --prompt-ids \"1 2\" --gen 600 --strict -o " + out);  // tiny: 512 positions
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("602 tokens per sequence (prompt 2 + gen 600) exceed preset tiny's max_position_embeddings of 512"),
            std::string::npos)
      << r.out;
  std::ofstream(dir / "trunc.safetensors") << "12345678{";
  r = run("run --model tiny --prompt-ids \"1 2\" --weights " + (dir / "trunc.safetensors").string() + " -o " + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("trunc.safetensors"), std::string::npos) << r.out;
  r = run("run --model gpt-oss-20b --prompt-ids \"1 2\" -o " + out);  // not in the engine
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("'gpt_oss' is not supported by the engine"), std::string::npos) << r.out;
  r = run("run --model qwen3-235b-a22b --prompt-ids \"1 2\" -o " + out);  // 940 GB of fp32 weights
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("give --layers N"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  fs::remove_all(dir);
}

}  // namespace

// A NaN or an infinity in a weight would make every logit NaN and the sampler emit token 0 in silence.
TEST(Safetensors, NonFiniteWeightsAreAnErrorNamingTheTensor) {
  const fs::path dir = temp_dir("nan_weights");
  const std::vector<float> good = {1, 2, 3, 4}, nan = {1, std::nanf(""), 3, 4}, inf = {1, 2, INFINITY, 4};
  const std::string path = (dir / "w.safetensors").string();
  engine::write_safetensors(path, {{"a.weight", {2, 2}, good.data()}, {"b.weight", {2, 2}, nan.data()},
                                   {"c.weight", {4}, inf.data()}});
  const engine::SafetensorsFile f(path);
  EXPECT_EQ(f.read_f32("a.weight", {2, 2})[3], 4.0f);
  EXPECT_EQ(::error_of([&] { f.read_f32("b.weight", {2, 2}); }),
            path + ": field 'b.weight': element 1 is nan (weights must be finite)");
  EXPECT_EQ(::error_of([&] { f.read_f32("c.weight", {4}); }),
            path + ": field 'c.weight': element 2 is inf (weights must be finite)");
  fs::remove_all(dir);
}
