// The roofline program end to end: outputs, exit codes, error messages, and no partial output files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_roofline.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST(Cli, AnalyzePrintsTablesWithTotals) {
  const Result r = run("analyze --model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 --gen 16");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s : {"prefill: batch 8", "decode: batch 8", "q_proj", "lm_head", "total", "compute", "memory",
                        "TTFT", "TPOT", "ridge 153.0 FLOP/B", "KV cache"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(Cli, JsonToFileMatchesTheContract) {
  const fs::path out = temp_dir("cli") / "a.json";
  const Result r = run("analyze --model llama-2-7b --hw a100-80g-sxm --prompt 1024 --gen 8 --format json -o " +
                    out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["phases"][0]["phase"], "prefill");
  EXPECT_EQ(j["phases"][1]["phase"], "decode");
  EXPECT_EQ(j["phases"][1]["kv_len"], 1024);
  EXPECT_TRUE(j.contains("request"));
  fs::remove_all(out.parent_path());
}

TEST(Cli, CsvHasOneRowPerPhaseAndOp) {
  const Result r = run("analyze --model tiny --hw h100-sxm --prompt 16 --format csv --attn naive");
  ASSERT_EQ(r.code, 0) << r.out;
  std::size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 1u + 2 * 19);
  EXPECT_EQ(r.out.rfind("model,hardware,phase,", 0), 0u);
}

TEST(Cli, PrefillOfOneTokenEqualsADecodeStep) {
  const Result p = run("analyze --model tiny --hw l4 --phase prefill --prompt 1 --format csv");
  const Result d = run("analyze --model tiny --hw l4 --phase decode --kv-len 0 --format csv");
  ASSERT_EQ(p.code, 0);
  ASSERT_EQ(d.code, 0);
  std::string pd = p.out;
  for (std::size_t at; (at = pd.find(",prefill,")) != std::string::npos;) pd.replace(at, 9, ",decode,");
  // The ops and their bounds are the same; the expected times (last column) may differ, as prefill kernels launch
  // eagerly and decode kernels from a CUDA graph, and a profile may publish one phase's fractions and not the other's.
  auto without_expected = [](const std::string& csv) {
    std::string out;
    std::stringstream in(csv);
    for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  EXPECT_EQ(without_expected(pd), without_expected(d.out));
  EXPECT_NE(pd.find("expected_s"), std::string::npos);
}

TEST(Cli, ListsModelsHardwareAndOps) {
  EXPECT_NE(run("list models").out.find("mixtral-8x7b"), std::string::npos);
  EXPECT_NE(run("list hardware").out.find("mi300x"), std::string::npos);
  EXPECT_NE(run("list ops").out.find("qk_matmul"), std::string::npos);
  EXPECT_EQ(run("list gpus").code, 2);
}

TEST(Cli, UserProfileAndConfigFiles) {
  const fs::path dir = temp_dir("cli");
  write(dir / "gpu.json", R"({"name": "my-gpu", "peak_flops_per_s": {"fp16": {"value": 100e12, "source": "me"}, "fp32": 10e12},
                               "memory": {"bytes_per_s": 1e12}})");
  fs::create_directories(dir / "my-model");
  write(dir / "my-model" / "config.json", R"({"model_type": "qwen2", "hidden_size": 512, "num_hidden_layers": 4,
      "num_attention_heads": 8, "num_key_value_heads": 2, "intermediate_size": 1024, "vocab_size": 1000})");
  const Result r = run("analyze --model " + (dir / "my-model" / "config.json").string() + " --hw " +
                    (dir / "gpu.json").string() + " --prompt 128 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["name"], "my-model");
  EXPECT_EQ(j["hardware"]["name"], "my-gpu");
  EXPECT_TRUE(j["memory"]["capacity_bytes"].is_null());  // nobody gave a capacity: absent, not zero
  EXPECT_TRUE(j["memory"]["fits"].is_null());
  fs::remove_all(dir);
}

TEST(Cli, BadInputFailsClearlyWithoutPartialOutput) {
  const fs::path dir = temp_dir("cli");
  const fs::path out = dir / "never.json";
  write(dir / "bad.json", R"({"name": "x", "peak_flops_per_s": {"fp16": 1e12}, "memory": {"bytes_per_s": 0}})");
  write(dir / "broken.json", "{\"name\": ");
  write(dir / "nofp32.json", R"({"name": "x", "peak_flops_per_s": {"fp16": 1e12}, "memory": {"bytes_per_s": 1e9}})");
  write(dir / "config.json", R"({"model_type": "llama", "hidden_size": 64})");
  const std::string tail = " --prompt 16 --format json -o " + out.string();
  struct Case {
    std::string args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"analyze --model tiny --hw " + (dir / "bad.json").string() + tail, 1,
       "field 'memory.bytes_per_s': must be positive"},
      {"analyze --model tiny --hw " + (dir / "broken.json").string() + tail, 1, "broken.json: malformed JSON"},
      {"analyze --model " + (dir / "config.json").string() + " --hw l4" + tail, 1,
       "config.json: field 'num_hidden_layers': is required"},
      {"analyze --model tiny --hw v100-sxm --adtype bf16" + tail, 1, "'v100-sxm' has no peak for bf16"},
      {"analyze --model tiny --hw l4 --wdtype fp6" + tail, 2, "unknown dtype 'fp6'"},
      {"analyze --model tiny --hw l4 --batch 0" + tail, 2, "'--batch': must be in [1,"},
      {"analyze --model tiny --hw l4 --batch -3" + tail, 2, "'--batch'"},
      {"analyze --model tiny --hw l4 --batch 99999999999999999999999" + tail, 2, "out of range"},
      {"analyze --model tiny --hw l4 --batch 2.5" + tail, 2, "expected an integer"},
      {"analyze --model tiny --hw l4 --fuse qkv,rope" + tail, 2, "unknown fusion 'rope'"},
      {"analyze --model nosuch --hw l4" + tail, 1, "no such model preset"},
      {"analyze --model tiny --hw nosuch" + tail, 1, "no such preset"},
      {"analyze --model tiny --hw l4 --prompt 16 --format xml -o " + out.string(), 2, "expected table, json or csv"},
      {"analyze --model tiny --hw " + (dir / "nofp32.json").string() + tail, 1,
       "element-wise ops run on the vector units at fp32"},
      {"analyze --model tiny --hw l4 --bogus" + tail, 2, "bogus"},
      {"analyze --hw l4" + tail, 2, "'--model': is required"},
      {"analyze --model tiny --hw l4 --phase prefill", 2, "'--prompt': is required"},
      {"frobnicate", 2, "unknown command"},
  };
  for (const Case& c : cases) {
    const Result r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
  // An output directory that does not exist: an error, and nothing written.
  const Result r = run("analyze --model tiny --hw l4 --prompt 16 -o " + (dir / "no" / "such" / "dir.json").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("cannot write"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, PlotWritesChartScriptAndData) {
  const fs::path dir = temp_dir("cli");
  const Result r = run("plot --model tiny --hw l4 --prompt 32 --batch-sweep 16 -o " + (dir / "c.svg").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir / "c.svg"));
  EXPECT_TRUE(fs::exists(dir / "c.gp"));
  EXPECT_TRUE(fs::exists(dir / "c.dat"));
  const Result bad = run("plot --model tiny --hw l4 --prompt 32 -o " + (dir / "c.bmp").string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("must end in .png or .svg"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(dir / "c.bmp"));
  EXPECT_EQ(run("plot --model tiny --hw l4 --prompt 32").code, 2);  // -o is required
  const Result pie = run("plot --chart pie --model tiny --hw l4 --prompt 32 -o " + (dir / "p.png").string());
  EXPECT_EQ(pie.code, 2);
  EXPECT_NE(pie.out.find("expected roofline, breakdown, batch, context or memory"), std::string::npos) << pie.out;
  for (const char* kind : {"breakdown", "batch", "context", "memory"}) {
    const Result k = run(std::string("plot --chart ") + kind + " --model tiny --hw l4 --prompt 32 --batch-sweep 8 "
                         "--max-context 512 -o " + (dir / (std::string(kind) + ".png")).string());
    EXPECT_EQ(k.code, 0) << kind << k.out;
    EXPECT_TRUE(fs::exists(dir / (std::string(kind) + ".png"))) << kind;
  }
  fs::remove_all(dir);
}

TEST(Cli, HardwareOverridesLayerOverThePresetAndAreNamed) {
  const fs::path dir = temp_dir("cli_hwset");
  const std::string base = "analyze --model llama-2-7b --hw h100-sxm --prompt 512 --phase decode ";
  const Result plain = run(base + "--format json");
  const Result faster = run(base + "--hw-set memory.bytes_per_s=6.7e12 --format json");
  ASSERT_EQ(plain.code, 0) << plain.out;
  ASSERT_EQ(faster.code, 0) << faster.out;
  const auto p = nlohmann::json::parse(plain.out), f = nlohmann::json::parse(faster.out);
  EXPECT_FALSE(p["hardware"].contains("overrides"));
  EXPECT_EQ(f["hardware"]["overrides"], nlohmann::json::array({"memory.bytes_per_s=6.7e12"}));
  EXPECT_EQ(f["hardware"]["memory_bytes_per_s"], 6.7e12);
  // Twice the bandwidth halves a memory-bound decode step.
  EXPECT_NEAR(f["phases"][0]["totals"]["time_s"].get<double>() * 2, p["phases"][0]["totals"]["time_s"].get<double>(),
              1e-12);

  const Result table = run(base + "--hw-set memory.bytes_per_s=6.7e12");
  EXPECT_NE(table.out.find("hardware overrides: memory.bytes_per_s=6.7e12\n"), std::string::npos) << table.out;
  const Result sim = run("simulate --model llama-2-7b --hw h100-sxm --hw-set interconnect.latency_s=2e-6 --tp 2 "
                         "--batch 2 --prompt 64 --gen 4");
  ASSERT_EQ(sim.code, 0) << sim.out;
  EXPECT_NE(sim.out.find("hardware overrides: interconnect.latency_s=2e-6"), std::string::npos) << sim.out;

  // A setting that does not apply is a bad command line: exit 2, the setting named, nothing written.
  const fs::path out = dir / "a.json";
  const Result bad = run(base + "--hw-set memory.bandwidth=1e12 --format json -o " + out.string());
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("option '--hw-set': 'memory.bandwidth=1e12': field 'memory.bandwidth': unknown field"),
            std::string::npos)
      << bad.out;
  EXPECT_FALSE(fs::exists(out));
  // A patch file that breaks the profile is bad input: exit 1, the file named.
  write(dir / "patch.json", R"({"memory": {"bytes_per_s": 0}})");
  const Result patch = run(base + "--hw-patch " + (dir / "patch.json").string() + " -o " + out.string());
  EXPECT_EQ(patch.code, 1) << patch.out;
  EXPECT_NE(patch.out.find("patched by " + (dir / "patch.json").string() + ": field 'memory.bytes_per_s': must be positive"),
            std::string::npos)
      << patch.out;
  EXPECT_FALSE(fs::exists(out));
  const Result orphan = run("plot --measured x.json --hw-set memory.bytes_per_s=1e12 -o " + (dir / "c.png").string());
  EXPECT_EQ(orphan.code, 2) << orphan.out;
  EXPECT_NE(orphan.out.find("give --hw too"), std::string::npos) << orphan.out;
  fs::remove_all(dir);
}

TEST(Cli, ADirectoryWhereAFileBelongsIsNamedSo) {
  const fs::path dir = temp_dir("cli_dir");
  const Result model = run("analyze --model " + dir.string() + " --hw a100-80g-sxm --prompt 8");
  EXPECT_EQ(model.code, 1) << model.out;
  EXPECT_NE(model.out.find(dir.string() + ": is a directory, not a file"), std::string::npos) << model.out;
  const Result hw = run("analyze --model llama-2-7b --hw " + dir.string() + " --prompt 8");
  EXPECT_EQ(hw.code, 1) << hw.out;
  EXPECT_NE(hw.out.find("hardware profile " + dir.string() + ": is a directory, not a file"), std::string::npos)
      << hw.out;
  fs::remove_all(dir);
}

// A zero where a dimension belongs used to pass (unsigned JSON numbers were checked against the upper bound
// only) and divide by zero (SIGFPE) or print nonsense; every reader now refuses it, naming file, field, value.
TEST(Cli, ZeroDimensionsAreRefusedByEveryCommand) {
  const fs::path dir = temp_dir("cli_zero");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"llama-2-7b", "num_attention_heads"}, {"llama-2-7b", "num_key_value_heads"}, {"llama-2-7b", "hidden_size"},
      {"llama-2-7b", "num_hidden_layers"},   {"llama-2-7b", "vocab_size"},          {"llama-2-7b", "intermediate_size"},
      {"llama-2-7b", "head_dim"},            {"mistral-7b", "sliding_window"},      {"mixtral-8x7b", "num_experts_per_tok"}};
  const fs::path out = dir / "out.json";
  for (const auto& [preset, field] : cases) {
    std::ifstream in(fs::path(ROOFLINE_SOURCE_DIR) / "opmodel/presets" / (preset + ".json"));
    auto j = nlohmann::json::parse(in);
    j[field] = 0;
    const fs::path cfg = dir / (field + ".json");
    write(cfg, j.dump());
    const std::string expected = cfg.string() + ": field '" + field + "': must be in [1, 2147483648], got 0";
    for (const std::string& cmd : {"analyze --hw a100-80g-sxm --prompt 64 --format json -o " + out.string(),
                                  "simulate --hw a100-80g-sxm --batch 1 --prompt 64 --gen 2 -o " + out.string(),
                                  "plot --hw a100-80g-sxm --prompt 64 -o " + (dir / "c.png").string()}) {
      const Result r = run(cmd + " --model " + cfg.string());
      EXPECT_EQ(r.code, 1) << field << ": " << cmd << "\n" << r.out;
      EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
    }
    if (preset == "llama-2-7b") {  // the engine reads the same file with the same rules
      const Result r = run("run --prompt-ids \"1 2\" --gen 2 --model " + cfg.string() + " -o " + out.string());
      EXPECT_EQ(r.code, 1) << r.out;
      EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
    }
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(dir / "c.png"));
  }
  fs::remove_all(dir);
}

TEST(Cli, ContextBeyondTheModelIsAWarningOrWithStrictAnError) {
  const std::string base = "analyze --model llama-2-7b --hw a100-80g-sxm --phase decode --kv-len 1000000";
  const Result table = run(base);
  ASSERT_EQ(table.code, 0) << table.out;
  const std::string warning =
      "1000001 tokens per sequence exceed llama-2-7b's max_position_embeddings of 4096";
  EXPECT_NE(table.out.find("roofline analyze: warning: " + warning), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("\nwarning: " + warning), std::string::npos) << table.out;
  const fs::path dir = temp_dir("cli_context");
  const Result json = run(base + " --format json -o " + (dir / "a.json").string());
  ASSERT_EQ(json.code, 0) << json.out;
  std::ifstream in(dir / "a.json");
  const auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find(warning), std::string::npos);
  const Result strict = run(base + " --strict -o " + (dir / "b.json").string());
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_NE(strict.out.find("option '--strict': " + warning), std::string::npos) << strict.out;
  EXPECT_FALSE(fs::exists(dir / "b.json"));
  // Within the context: no warning at all.
  const Result fine = run("analyze --model llama-2-7b --hw a100-80g-sxm --prompt 1024 --gen 128 --format json");
  EXPECT_EQ(fine.out.find("warning"), std::string::npos) << fine.out;
  fs::remove_all(dir);
}

TEST(Cli, ImplausibleProfileFiguresNeedForce) {
  const fs::path dir = temp_dir("cli_plausible");
  write(dir / "fast.json", R"({"name": "fast", "peak_flops_per_s": {"fp32": 1e12, "fp16": 1e14},
                               "memory": {"bytes_per_s": 1.7e308}})");
  write(dir / "slow.json", R"({"name": "slow", "peak_flops_per_s": {"fp32": 1e-300, "fp16": 1e14},
                               "memory": {"bytes_per_s": 1e12}})");
  const std::string base = "analyze --model llama-2-7b --prompt 64 --hw ";
  const Result fast = run(base + (dir / "fast.json").string());
  EXPECT_EQ(fast.code, 1) << fast.out;
  EXPECT_NE(fast.out.find("field 'memory.bytes_per_s.value': 1.7e+308 B/s is outside the plausible range [1e+06, "
                          "1e+15] B/s (--force accepts it)"),
            std::string::npos)
      << fast.out;
  const Result slow = run(base + (dir / "slow.json").string());
  EXPECT_EQ(slow.code, 1) << slow.out;
  EXPECT_NE(slow.out.find("field 'peak_flops_per_s.fp32.value': 1e-300 FLOP/s is outside"), std::string::npos)
      << slow.out;
  const Result forced = run(base + (dir / "fast.json").string() + " --force");
  EXPECT_EQ(forced.code, 0) << forced.out;
  EXPECT_NE(forced.out.find("1.7e+308 B/s memory"), std::string::npos) << forced.out;  // no 300-digit figure
  const Result set = run(base + "h100-sxm --hw-set memory.bytes_per_s=2e16");
  EXPECT_EQ(set.code, 2) << set.out;
  EXPECT_NE(set.out.find("option '--hw-set': 'memory.bytes_per_s=2e16': field 'memory.bytes_per_s.value'"),
            std::string::npos)
      << set.out;
  fs::remove_all(dir);
}

// The 2026 families through every command that times them: the checkpoint's formats as stored, MLA's forms,
// MTP as a draft, and the per-module override.
TEST(Cli, NewFamiliesRunThroughAnalyzePlotAndSimulate) {
  Result r = run("analyze --model gpt-oss-120b --hw h100-sxm --batch 1 --prompt 2048 --gen 16");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("weights attention fp16, mlp mxfp4, experts mxfp4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of 80.0 GB (fits)"), std::string::npos) << r.out;  // the card's single 80 GB GPU
  EXPECT_NE(r.out.find("local_attention"), std::string::npos);
  r = run("analyze --model gpt-oss-120b --hw b200 --batch 1 --prompt 256 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scenario"]["module_weights"]["experts"], "mxfp4");
  bool fp4 = false;
  for (const auto& op : j["phases"][0]["ops"]) fp4 = fp4 || (op["name"] == "expert_up_proj" && op["precision"] == "fp4");
  EXPECT_TRUE(fp4) << j["phases"][0]["ops"].dump();

  r = run("analyze --model deepseek-v3 --hw b200 --batch 16 --kv-len 4096 --phase decode --mla naive");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("kv_b_proj"), std::string::npos);
  r = run("analyze --model deepseek-v3 --hw b200 --batch 16 --kv-len 4096 --phase decode --wdtype nvfp4");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("q_absorb"), std::string::npos);
  EXPECT_NE(r.out.find("weights nvfp4"), std::string::npos);
  r = run("analyze --model gpt-oss-20b --hw h100-sxm --batch 1 --prompt 64 --module-wdtype experts=fp8");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("experts fp8"), std::string::npos);

  const fs::path dir = fs::temp_directory_path() / "roofline_families";
  fs::create_directories(dir);
  for (const char* model : {"gemma-3-27b-it", "llama-4-scout", "qwen3-next-80b-a3b"}) {
    r = run(std::string("plot --model ") + model + " --hw h200 --batch 4 --prompt 512 --chart breakdown -o " +
            (dir / "b.svg").string());
    EXPECT_EQ(r.code, 0) << model << r.out;
  }
  r = run("simulate --model qwen3-next-80b-a3b --hw h200 --tp 2 --rate 2 --requests 20 --prompt-dist uniform:64:512 "
          "--output-dist uniform:8:64 --seed 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("linear-attention state"), std::string::npos) << r.out;
  r = run("simulate --model deepseek-v2-lite --hw h100-sxm --rate 2 --requests 20 --prompt-dist uniform:64:512 "
          "--output-dist uniform:8:64 --draft-model mtp");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("num_nextn_predict_layers"), std::string::npos) << r.out;
  r = run("simulate --model gpt-oss-20b --hw h100-sxm --rate 2 --requests 20 --prompt-dist uniform:64:512 "
          "--output-dist uniform:8:64 --tp 2 --seed 1");
  EXPECT_EQ(r.code, 0) << r.out;
  fs::remove_all(dir);

  // Bad options name themselves and exit 2.
  r = run("analyze --model gpt-oss-20b --hw h100-sxm --batch 1 --prompt 64 --module-wdtype router=fp8");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--module-wdtype"), std::string::npos) << r.out;
  r = run("analyze --model deepseek-v3 --hw h100-sxm --batch 1 --prompt 64 --mla fast");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("expected naive, absorbed or auto, got 'fast'"), std::string::npos) << r.out;
  r = run("analyze --model llama-2-7b --hw h100-sxm --batch 1 --prompt 64 --kvdtype mxfp4");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("mxfp4 is a weight format"), std::string::npos) << r.out;
  r = run("analyze --model llama-2-7b --hw h100-sxm --batch 1 --prompt 64 --gemm-input-dtype nvfp4");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--gemm-input-dtype': nvfp4 is a weight format"), std::string::npos) << r.out;
  r = run("analyze --model llama-2-7b --hw h100-sxm --batch 1 --prompt 64 --attn-dtype int4");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--attn-dtype': int4 is not a float dtype"), std::string::npos) << r.out;
  // fp8 GEMMs beside fp16 attention, from fp8 activations with --attn-dtype fp16 or from fp16 activations with fp8
  // GEMM inputs (TensorRT-LLM's fp8 recipe): the JSON scenario says which, and the ops run at those precisions.
  for (auto [options, key] : {std::pair{"--adtype fp8 --attn-dtype fp16", "attention_dtype"},
                              std::pair{"--gemm-input-dtype fp8", "gemm_input_dtype"}}) {
    r = run(std::string("analyze --model llama-2-7b --hw h100-sxm --batch 1 --prompt 64 --phase prefill --wdtype fp8 ") +
            options + " --format json");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto mixed = nlohmann::json::parse(r.out);
    EXPECT_EQ(mixed["scenario"][key], key == std::string("attention_dtype") ? "fp16" : "fp8");
    for (const auto& op : mixed["phases"][0]["ops"]) {
      if (op["name"] == "attention" || op["name"] == "q_proj") {
        EXPECT_EQ(op["precision"], op["name"] == "attention" ? "fp16" : "fp8") << options << op;
      }
    }
  }
}

// validate joins measured times (a GPU profiler's export) with a new family's ops by name, as for the dense ones.
TEST(Cli, ValidateJoinsMeasuredTimesOfANewFamily) {
  Result r = run("analyze --model gpt-oss-20b --hw h100-sxm --batch 1 --kv-len 512 --phase decode --format csv");
  ASSERT_EQ(r.code, 0) << r.out;
  std::stringstream rows(r.out);
  std::string line, csv = "op,phase,batch,q_len,kv_len,seconds\n";
  std::getline(rows, line);  // header: model,hardware,phase,batch,q_len,kv_len,op,...
  while (std::getline(rows, line)) {
    std::vector<std::string> cells;
    std::stringstream cs(line);
    for (std::string c; std::getline(cs, c, ',');) cells.push_back(c);
    ASSERT_GT(cells.size(), 7u);
    csv += cells[6] + ",decode,1,1,512,2e-5\n";
  }
  const fs::path m = fs::temp_directory_path() / "roofline_gpt_oss_measured.csv";
  write(m, csv);
  r = run("validate --model gpt-oss-20b --hw h100-sxm --measured " + m.string() +
          " --wdtype bf16 --adtype bf16 --kvdtype bf16 --prompt 128 --kv-len 512");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("local_attention"), std::string::npos);
  EXPECT_NE(r.out.find("expert_up_proj"), std::string::npos);
  fs::remove(m);
}

// roofline fidelity: the shipped table, each format, and its errors.
TEST(Cli, FidelityJudgesTheShippedTable) {
  const std::string table = std::string(ROOFLINE_SOURCE_DIR) + "/docs/fidelity/measurements.csv";
  Result r = run("fidelity --table " + table + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["points"].size(), 30u);
  for (const auto& p : j["points"]) {
    EXPECT_GT(p["bound"].get<double>(), 0) << p["id"];
    EXPECT_FALSE(p["source"].get<std::string>().empty());
  }
  r = run("fidelity --table " + table + " --format markdown");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("| primary | all |"), std::string::npos) << r.out;
  r = run("fidelity --table " + table + " --format yaml");
  EXPECT_EQ(r.code, 2);
  r = run("fidelity --table /nonexistent.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent.csv"), std::string::npos) << r.out;
}

// roofline fidelity --kernels: the measured GEMM table against the presets' GEMM figures.
TEST(Cli, FidelityJudgesGemmKernels) {
  const std::string table = std::string(ROOFLINE_SOURCE_DIR) + "/docs/fidelity/gemm-kernels.csv";
  Result r = run("fidelity --kernels " + table + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["points"].size(), 1531u);  // OpenXLA's 4 x 375, DeepGEMM's 22 and TileOPs' 9 cuBLAS times on an H200
  EXPECT_EQ(j["groups"].size(), 6u);
  for (const auto& p : j["points"]) EXPECT_GT(p["expected_s"].get<double>(), 0);
  r = run("fidelity --kernels " + table + " --format markdown");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("| h100-sxm | bf16 | 375 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| h800 | fp8_block | 22 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| h200 | bf16 | 9 |"), std::string::npos) << r.out;
  r = run("fidelity --kernels /nonexistent.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent.csv"), std::string::npos) << r.out;
}
