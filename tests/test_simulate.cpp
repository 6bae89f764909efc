// The simulator: workloads and their errors, the KV cache, step costs against analyze, and the invariants
// of a run (every request finishes, tokens are conserved, Little's law, preemption exactly when full).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <set>

#include "common/text_file.hpp"
#include "hardware/presets.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/simulate/fidelity.hpp"
#include "roofline/validate/calibration_fit.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/kv_blocks.hpp"
#include "roofline/present/simulation_output.hpp"
#include "run_roofline.hpp"
#include "test_support.hpp"

using namespace roofline;
using namespace roofline::sim;

namespace {

const opmodel::ModelConfig& llama() {
  static const opmodel::ModelConfig m = opmodel::resolve_model("llama-2-7b");
  return m;
}
const hardware::Profile& a100() { return hardware::preset("a100-80g-sxm"); }

Workload generated(std::int64_t n, double rate, std::uint64_t seed = 7, std::int64_t prefix_tokens = 0) {
  Generator g;
  g.requests = n;
  g.rate_per_s = rate;
  g.prompt = parse_distribution("lognormal:512:0.8", "prompt-dist");
  g.output = parse_distribution("lognormal:128:0.8", "output-dist");
  g.prefix_tokens = prefix_tokens;
  g.prefixes = 3;
  g.seed = seed;
  return generate(g);
}

SimConfig config(Scheduler s) {
  SimConfig c;
  c.scheduler = s;
  return c;
}

constexpr Scheduler kSchedulers[] = {Scheduler::static_batch, Scheduler::continuous, Scheduler::chunked};

// Every request finished after it arrived, and the target model computed exactly the tokens it had to:
// each request's prompt and all its outputs but the last, less what the prefix cache supplied, plus what
// preemption threw away.
void expect_conserved(const Workload& w, const SimResult& r) {
  ASSERT_EQ(r.requests.size(), w.requests.size());
  std::int64_t owed = 0, emitted = 0;
  for (std::size_t i = 0; i < w.requests.size(); ++i) {
    const Request& q = w.requests[i];
    const RequestOutcome& o = r.requests[i];
    EXPECT_EQ(o.output_tokens, q.output_tokens);
    EXPECT_GE(o.first_token_s, o.arrival_s);
    EXPECT_GE(o.finish_s, o.first_token_s);
    EXPECT_GT(o.finish_s, o.arrival_s);
    owed += q.prompt_tokens + q.output_tokens - 1;
  }
  for (const StepRecord& st : r.steps) {
    emitted += st.emitted_tokens;
    EXPECT_LE(st.kv_blocks_used, r.memory.kv_blocks);
  }
  EXPECT_EQ(emitted, std::accumulate(w.requests.begin(), w.requests.end(), std::int64_t{0},
                                     [](std::int64_t a, const Request& q) { return a + q.output_tokens; }));
  EXPECT_EQ(r.computed_tokens, owed - r.cached_tokens + r.lost_tokens);
}

}  // namespace

TEST(Workload, TraceColumnsInAnyOrderSortedByArrival) {
  const Workload w = parse_trace(
      "# a comment\n"
      "output_tokens, arrival_s ,prompt_tokens,prefix_id,prefix_tokens\n"
      "10,0.5,100,sys,32\n"
      "\n"
      "20,0.25,200,,\n"
      "30,0.5,300,sys,32\n",
      "t.csv");
  ASSERT_EQ(w.requests.size(), 3u);
  EXPECT_EQ(w.requests[0].prompt_tokens, 200);  // earliest first
  EXPECT_EQ(w.requests[0].prefix, -1);
  EXPECT_EQ(w.requests[1].prompt_tokens, 100);  // ties keep file order
  EXPECT_EQ(w.requests[1].line, 3);
  EXPECT_EQ(w.requests[2].output_tokens, 30);
  EXPECT_EQ(w.requests[2].prefix, 0);
  EXPECT_EQ(w.requests[2].prefix_tokens, 32);
  EXPECT_EQ(w.prefix_names, std::vector<std::string>{"sys"});
}

TEST(Workload, BadTracesNameFileLineAndColumn) {
  const std::string header = "arrival_s,prompt_tokens,output_tokens\n";
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {header + "0,12x,5\n", "trace t.csv:2: column 'prompt_tokens': expected an integer, got '12x'"},
      {header + "0,0,5\n", "trace t.csv:2: column 'prompt_tokens': must be in [1, 16777216], got 0"},
      {header + "0,10,-5\n", "trace t.csv:2: column 'output_tokens': must be in [1, 16777216], got -5"},
      {header + "0,99999999999999999999,5\n", "column 'prompt_tokens': '99999999999999999999' is out of range"},
      {header + "-1,10,5\n", "trace t.csv:2: column 'arrival_s': must be in [0, 1e+09] seconds, got -1"},
      {header + "1e999,10,5\n", "column 'arrival_s': '1e999' is out of range"},
      {header + "nan,10,5\n", "column 'arrival_s': must be in [0, 1e+09] seconds"},
      {header + "0,10\n", "trace t.csv:2: expected 3 fields as in the header, got 2"},
      {header + "0,10000000,10000000\n", "prompt + output = 20000000 tokens exceeds 16777216"},
      {"arrival_s,prompt,output_tokens\n", "trace t.csv:1: column 'prompt': unknown column"},
      {"arrival_s,output_tokens\n0,1\n", "trace t.csv:1: column 'prompt_tokens': is required in the header"},
      {"arrival_s,prompt_tokens,output_tokens,prefix_id\n", "prefix_id and prefix_tokens go together"},
      {"arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,10,1,a,20\n",
       "column 'prefix_tokens': must be in [1, 10], got 20"},
      {"arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,10,1,a,4\n0,10,1,a,5\n",
       "trace t.csv:3: column 'prefix_tokens': prefix 'a' has 4 tokens on line 2, 5 here"},
      {header + "0,\"10\",5\n", "quoted CSV fields are not supported"},
      {"", "trace t.csv: is empty (expected a header line)"},
      {header, "trace t.csv: has a header but no requests"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of([&] { parse_trace(c.text, "t.csv"); });
    EXPECT_NE(e.find(c.message), std::string::npos) << c.text << "\n" << e;
  }
  EXPECT_NE(error_of([] { load_trace("/nonexistent/t.csv"); }).find("trace /nonexistent/t.csv: cannot be read"),
            std::string::npos);
}

TEST(Workload, DistributionsParseOrSayWhy) {
  EXPECT_EQ(parse_distribution("fixed:7", "x").a, 7);
  EXPECT_EQ(parse_distribution("uniform:3:9", "x").b, 9);
  for (auto [text, message] :
       {std::pair{"pareto:3", "unknown distribution 'pareto:3' (known: fixed:N, uniform:A:B"},
        std::pair{"uniform:9:3", "needs A <= B"}, std::pair{"fixed:0", "integers in [1,"},
        std::pair{"fixed:2.5", "integers in [1,"}, std::pair{"lognormal:100:-1", "sigma"},
        std::pair{"fixed", "unknown distribution"}, std::pair{"uniform:1:x", "expected a number"}}) {
    const std::string spec = text;  // a named copy: clang 14 cannot capture a structured binding
    const std::string e = error_of([&] { parse_distribution(spec, "prompt-dist"); });
    EXPECT_NE(e.find("option --prompt-dist"), std::string::npos) << e;
    EXPECT_NE(e.find(message), std::string::npos) << text << ": " << e;
  }
}

TEST(Workload, GeneratorIsSeededAndMatchesItsDistributions) {
  const Workload a = generated(20000, 4.0, 11), b = generated(20000, 4.0, 11), c = generated(20000, 4.0, 12);
  double prompt = 0;
  bool same = true, differs = false;
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    same = same && a.requests[i].arrival_s == b.requests[i].arrival_s &&
           a.requests[i].prompt_tokens == b.requests[i].prompt_tokens;
    differs = differs || a.requests[i].prompt_tokens != c.requests[i].prompt_tokens;
    prompt += double(a.requests[i].prompt_tokens);
  }
  EXPECT_TRUE(same);
  EXPECT_TRUE(differs);
  EXPECT_NEAR(prompt / 20000, 512, 512 * 0.03);  // lognormal with the stated mean
  // Poisson at 4/s: 20000 arrivals take about 5000 s.
  EXPECT_NEAR(a.requests.back().arrival_s, 5000, 5000 * 0.03);
  const Workload p = generated(100, 4.0, 1, 64);
  for (const Request& r : p.requests) {
    EXPECT_GE(r.prefix, 0);
    EXPECT_LT(r.prefix, 3);
    EXPECT_EQ(r.prefix_tokens, 64);
    EXPECT_GT(r.prompt_tokens, 64);
  }
}

TEST(Workload, AWorkloadWrittenAsCsvReadsBackTheSame) {
  for (const Workload& w : {generated(50, 3.0, 2, 40), generated(20, 3.0, 2), fixed_batch(3, 10, 2)}) {
    const Workload back = parse_trace(to_csv(w), "w.csv");
    ASSERT_EQ(back.requests.size(), w.requests.size());
    EXPECT_EQ(back.prefix_names.size(), w.prefix_names.size());
    auto prefix_name = [](const Workload& x, const Request& r) {
      return r.prefix < 0 ? std::string("-") : x.prefix_names[std::size_t(r.prefix)];
    };
    for (std::size_t i = 0; i < w.requests.size(); ++i) {
      EXPECT_NEAR(back.requests[i].arrival_s, w.requests[i].arrival_s, 1e-9);
      EXPECT_EQ(back.requests[i].prompt_tokens, w.requests[i].prompt_tokens);
      EXPECT_EQ(back.requests[i].output_tokens, w.requests[i].output_tokens);
      EXPECT_EQ(prefix_name(back, back.requests[i]), prefix_name(w, w.requests[i]));
      EXPECT_EQ(back.requests[i].prefix_tokens, w.requests[i].prefix_tokens);
    }
  }
}

TEST(KvCache, EvictsUnusedPrefixesLeastRecentlyUsedFirst) {
  KvCache kv(10, 16, 3);
  EXPECT_EQ(kv.blocks_for(33), 3);
  ASSERT_TRUE(kv.allocate(6));
  kv.insert(0, 2);  // two prefixes cached from blocks their first users hold
  kv.insert(1, 2);
  kv.release_prefix(1);  // prefix 1 unused first, then prefix 0
  kv.release_prefix(0);
  kv.release(2);  // the users' own blocks
  EXPECT_EQ(kv.free(), 6);
  EXPECT_EQ(kv.evictable(), 4);
  EXPECT_FALSE(kv.allocate(11));
  EXPECT_EQ(kv.free(), 6);  // a failed allocation takes nothing
  kv.acquire(0);            // in use again: cannot be evicted
  ASSERT_TRUE(kv.allocate(8));  // needs 2 more than free: evicts prefix 1
  EXPECT_FALSE(kv.cached(1));
  EXPECT_TRUE(kv.cached(0));
  EXPECT_EQ(kv.evictions(), 1);
  EXPECT_EQ(kv.available(), 0);
  EXPECT_FALSE(kv.allocate(1));
}

TEST(StepCost, AUniformStepIsExactlyAnalyzeStep) {
  const Layout layout = make_layout(llama(), a100(), 1, 1, std::nullopt);
  opmodel::Scenario s;
  const StepCost cost(layout, s, a100());
  const Roofs roofs = Roofs::of(a100());
  for (auto [b, q, k] : {std::tuple{1, 1024, 0}, std::tuple{8, 1, 1500}, std::tuple{3, 200, 77}}) {
    s.batch = b;
    s.q_len = q;
    s.kv_len = k;
    StepResult step;
    analyze_step(llama(), s, roofs, Phase::prefill, step);
    opmodel::BatchShape shape;
    shape.add({b, q, k, 1}, llama());
    double t = 0;
    cost.stage_times(shape, &t, nullptr);
    EXPECT_EQ(t, step.time_s) << b << " " << q << " " << k;
  }
}

// With calibrated op times a uniform step costs what analyze expects of it on the same calibrated profile.
TEST(StepCost, CalibratedTimesAreAnalyzesExpectation) {
  hardware::Profile hw = a100();
  const Layout layout = make_layout(llama(), hw, 1, 1, std::nullopt);
  opmodel::Scenario s;
  try {
    hardware::Profile bare = hw;  // neither a calibration nor the preset's efficiency figures
    bare.efficiency.reset();
    bare.shipped.reset();
    const StepCost uncalibrated(layout, s, bare, true);
    FAIL() << "expected SimError";
  } catch (const SimError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'calibration'"), std::string::npos) << e.what();
  }
  hardware::Calibration c;
  for (hardware::KernelClass k : hardware::kKernelClasses) c.fits.push_back({k, "", "", "", 0.6, 0.45, 2e-6, 1});
  hw.calibration = c;
  const StepCost cost(layout, s, hw, true);
  const Roofs roofs = Roofs::of(hw);
  for (auto [b, q, k] : {std::tuple{1, 1024, 0}, std::tuple{8, 1, 1500}, std::tuple{3, 200, 77}}) {
    s.batch = b;
    s.q_len = q;
    s.kv_len = k;
    StepResult step;
    analyze_step(llama(), s, roofs, q > 1 ? Phase::prefill : Phase::decode, step);
    const StepExpectation e = expect_step(step, s, hw, roofs);
    ASSERT_TRUE(e.total_s.has_value());
    opmodel::BatchShape shape;
    shape.add({b, q, k, 1}, llama());
    double t = 0;
    cost.stage_times(shape, &t, nullptr);
    EXPECT_NEAR(t, *e.total_s, 1e-12 * t) << b << " " << q << " " << k;
    EXPECT_GT(t, step.time_s);
  }
  // A calibration without a fit for the decode GEMV fails when the cost model is built, naming what is missing.
  hw.calibration->fits.front().phase = "prefill";  // gemm: prefill only
  hw.calibration->fits[1].phase = "prefill";       // gemv: prefill only
  try {
    const StepCost partial(layout, s, hw, true);
    FAIL() << "expected SimError";
  } catch (const SimError& e) {
    EXPECT_NE(std::string(e.what()).find("has no fit for gemv op"), std::string::npos) << e.what();
  }
}

TEST(StepCost, TensorParallelShardsAndAddsTwoRingAllReducesPerLayer) {
  // Ring all-reduce by hand: 8 devices, 1 MB, 100 GB/s, 2 us: 14 steps of 125 kB each.
  EXPECT_DOUBLE_EQ(ring_allreduce_s(1e6, 8, 100e9, 2e-6), 14 * (1e6 / 8) / 100e9 + 14 * 2e-6);
  EXPECT_EQ(ring_allreduce_s(1e6, 1, 100e9, 2e-6), 0);
  const Layout one = make_layout(llama(), a100(), 1, 1, std::nullopt);
  EXPECT_EQ(one.shard.num_heads, 32);
  EXPECT_EQ(one.link_bytes_per_s, 0);  // one device: no link needed
  const Layout two = make_layout(llama(), a100(), 2, 1, 1e-6);
  EXPECT_EQ(two.shard.num_heads, 16);
  EXPECT_EQ(two.shard.num_kv_heads, 16);
  EXPECT_EQ(two.shard.intermediate_size, 5504);
  EXPECT_EQ(two.shard.vocab_size, 16000);
  opmodel::Scenario s;
  const StepCost sharded(two, s, a100());
  opmodel::BatchShape shape;
  shape.add({4, 1, 1000, 1}, llama());
  double t2 = 0;
  sharded.stage_times(shape, &t2, nullptr);
  // The shard's ops (exactly one device's share) plus 2 all-reduces of 4 x 4096 fp16 activations per layer.
  const StepCost shard_alone(one, s, a100());
  s.batch = 4;
  s.q_len = 1;
  s.kv_len = 1000;
  StepResult step;
  analyze_step(two.shard, s, Roofs::of(a100()), Phase::decode, step);
  const double allreduce = ring_allreduce_s(4 * 4096 * 2.0, 2, 300e9, 1e-6);
  EXPECT_NEAR(t2, step.time_s + 32 * 2 * allreduce, 1e-12 * t2);
  double t1 = 0;
  shard_alone.stage_times(shape, &t1, nullptr);
  EXPECT_LT(t2, 0.6 * t1);  // about half the weights per device, plus the all-reduces
}

// Expected all-reduces take the profile's nccl-tests figures: the small-message time plus the ring's bytes at the
// attained bus bandwidth (A100: 43.83 us, 0.772 of 300 GB/s); the bound keeps the bare ring.
TEST(StepCost, ExpectedAllReducesUseTheMeasuredCollectives) {
  const Layout two = make_layout(llama(), a100(), 2, 1, std::nullopt);
  ASSERT_TRUE(two.allreduce_bus_efficiency.has_value());
  EXPECT_DOUBLE_EQ(*two.allreduce_bus_efficiency, 0.772);
  EXPECT_DOUBLE_EQ(*two.allreduce_small_s, 43.83e-6);
  opmodel::Scenario s;
  opmodel::BatchShape shape;
  shape.add({4, 1, 1000, 1}, llama());
  TimeByOp bound_tally, expected_tally;
  double t = 0;
  StepCost(two, s, a100(), false).stage_times(shape, &t, &bound_tally);
  StepCost(two, s, a100(), true).stage_times(shape, &t, &expected_tally);
  const double bytes = 4 * 4096 * 2.0;
  EXPECT_NEAR(bound_tally.allreduce_s, 32 * 2 * ring_allreduce_s(bytes, 2, 300e9, 0), 1e-15);
  EXPECT_NEAR(expected_tally.allreduce_s, 32 * 2 * (43.83e-6 + 2 * 0.5 * bytes / (300e9 * 0.772)), 1e-12);
}

// The per-op tally is keyed by name: steps listing different ops add to the right rows.
TEST(StepCost, TheTallyMatchesOpsByName) {
  TimeByOp t;
  EXPECT_EQ(t.slot("q_proj"), 0u);
  EXPECT_EQ(t.slot("kv_b_proj"), 1u);
  EXPECT_EQ(t.slot("q_proj"), 0u);
  EXPECT_EQ(t.slot("kv_b_proj", 1), 1u);  // at its hint
  EXPECT_EQ(t.slot("q_proj", 1), 0u);     // not at its hint: found by name
  EXPECT_EQ(t.size, 2u);
  EXPECT_EQ(t.names[1], "kv_b_proj");
}

TEST(StepCost, PipelineStagesShareTheLayers) {
  const Layout l = make_layout(llama(), a100(), 1, 3, std::nullopt);
  EXPECT_EQ(l.stage_layers, (std::vector<std::int64_t>{11, 11, 10}));
  const Layout one = make_layout(llama(), a100(), 1, 1, std::nullopt);
  opmodel::Scenario s;
  const StepCost staged(l, s, a100()), whole(one, s, a100());
  opmodel::BatchShape shape;
  shape.add({2, 300, 0, 1}, llama());
  std::vector<double> t(3);
  double total = 0;
  staged.stage_times(shape, t.data(), nullptr);
  whole.stage_times(shape, &total, nullptr);
  EXPECT_NEAR(t[0] + t[1] + t[2], total, 1e-12 * total);
  EXPECT_GT(t[1], t[2]);  // 11 layers against 10 (and lm_head is small at prefill)
  // Memory: every stage holds its layers; the first the embedding, the last the head.
  const auto mem = stage_memory(l, s);
  const auto parts = opmodel::weight_bytes_by_part(llama(), s);
  EXPECT_NEAR(mem[0].weights_bytes + mem[1].weights_bytes + mem[2].weights_bytes, parts.total(), 1);
  EXPECT_DOUBLE_EQ(mem[2].kv_bytes_per_token, 524288.0 * 10 / 32);
}

TEST(StepCost, LayoutErrorsNameTheCause) {
  EXPECT_EQ(error_of([] { make_layout(llama(), a100(), 3, 1, std::nullopt); }),
            "option --tp: tp 3 does not divide the 32 query heads of llama-2-7b");
  EXPECT_NE(error_of([] { make_layout(opmodel::resolve_model("llama-2-70b"), a100(), 16, 1, std::nullopt); })
                .find("tp 16 does not divide the 8 KV heads"),
            std::string::npos);
  EXPECT_EQ(error_of([] { make_layout(llama(), a100(), 1, 33, std::nullopt); }),
            "option --pp: pp 33 exceeds the 32 layers of llama-2-7b");
  EXPECT_EQ(error_of([] { make_layout(llama(), hardware::preset("epyc-9654"), 2, 1, std::nullopt); }),
            "hardware profile preset epyc-9654: field 'interconnect.bytes_per_s_per_direction': is needed for --tp 2 "
            "--pp 1 (all-reduces and pipeline sends)");
}

TEST(Simulate, ASingleRequestEqualsAnalyzeGen) {
  // analyze --gen G: the prefill, then G decode steps at contexts prompt .. prompt + G - 1. The simulator
  // counts the prefill's token as the first output: the same steps are a request of G + 1 output tokens.
  AnalysisRequest req;
  req.prompt = 1024;
  req.gen = 128;
  for (std::int64_t batch : {1, 8}) {
    req.scenario.batch = batch;
    const RequestResult a = *analyze(llama(), a100(), req).whole_request;
    const Workload w = fixed_batch(batch, 1024, 129);
    for (Scheduler sched : kSchedulers) {
      SCOPED_TRACE(std::string(to_string(sched)) + " batch " + std::to_string(batch));
      SimConfig c = config(sched);
      c.max_tokens = 8192;  // the whole batch's prompts in one step, as analyze has them
      const Summary s = summarize(simulate(llama(), a100(), w, c));
      EXPECT_NEAR(s.ttft_s.mean, a.ttft_s, 1e-12 * a.ttft_s);
      EXPECT_NEAR(s.tpot_s.mean, a.tpot_s, 1e-12 * a.tpot_s);
      EXPECT_NEAR(s.e2e_s.mean, a.total_time_s, 1e-12 * a.total_time_s);
      EXPECT_EQ(s.e2e_s.p99, s.e2e_s.p50);
    }
  }
}

TEST(Simulate, EveryRequestFinishesAndTokensAreConserved) {
  const Workload w = generated(600, 12.0, 3, 48);  // with shared prefixes
  for (Scheduler sched : kSchedulers) {
    SCOPED_TRACE(to_string(sched));
    const SimResult r = simulate(llama(), a100(), w, config(sched));
    expect_conserved(w, r);
    EXPECT_GT(r.prefix_hits, 0);
    // And under a cache so small that requests get preempted.
    SimConfig small = config(sched);
    small.kv_blocks = 400;
    const SimResult p = simulate(llama(), a100(), w, small);
    expect_conserved(w, p);
    if (sched != Scheduler::static_batch) {
      EXPECT_GT(p.lost_tokens, 0);
    }
    // Speculative decoding emits every output too (its verifications compute rejected drafts as well).
    SimConfig spec = small;
    opmodel::ModelConfig draft = llama();
    draft.num_layers = 2;
    spec.speculation = Speculation{draft, 3, 0.6};
    const SimResult s = simulate(llama(), a100(), w, spec);
    std::int64_t emitted = 0;
    for (const StepRecord& st : s.steps) {
      emitted += st.emitted_tokens;
      EXPECT_LE(st.kv_blocks_used, s.memory.kv_blocks);
    }
    EXPECT_EQ(emitted, summarize(s).output_tokens);
    EXPECT_GT(s.spec_steps, 0);
  }
}

TEST(Simulate, DeterministicUnderASeed) {
  const Workload w = generated(300, 20.0, 5);
  SimConfig c = config(Scheduler::chunked);
  c.speculation = Speculation{opmodel::resolve_model("llama-2-7b"), 3, 0.6};
  c.seed = 9;
  const RunInfo run{llama(), a100(), w, c};
  auto json_of = [&](const SimConfig& cfg) {
    const SimResult r = simulate(llama(), a100(), w, cfg);
    return to_json(RunInfo{llama(), a100(), w, cfg}, r, summarize(r)).dump();
  };
  const std::string a = json_of(c);
  EXPECT_EQ(a, json_of(c));
  SimConfig other = c;
  other.seed = 10;
  EXPECT_NE(a, json_of(other));  // different acceptance draws
  // The workload generator too: the same seed gives the same run.
  const SimResult again = simulate(llama(), a100(), generated(300, 20.0, 5), c);
  EXPECT_EQ(to_json(run, again, summarize(again)).dump(), a);
}

TEST(Simulate, TensorParallelOneIsOneDevice) {
  const Workload w = generated(200, 8.0, 2);
  SimConfig c = config(Scheduler::continuous);
  const SimResult base = simulate(llama(), a100(), w, c);
  c.tp = 1;
  c.pp = 1;
  c.replicas = 1;
  c.link_latency_s = 5e-6;  // no link is used on one device
  const SimResult one = simulate(llama(), a100(), w, c);
  const RunInfo run{llama(), a100(), w, c};
  auto strip = [](nlohmann::json j) {
    j.erase("config");
    return j.dump();
  };
  EXPECT_EQ(strip(to_json(run, base, summarize(base))), strip(to_json(run, one, summarize(one))));
  // Two devices: half the weights each, faster decode steps.
  c.tp = 2;
  const SimResult two = simulate(llama(), a100(), w, c);
  EXPECT_NEAR(two.memory.weights_bytes, base.memory.weights_bytes / 2, 0.01 * base.memory.weights_bytes);
  EXPECT_LT(summarize(two).tpot_s.mean, 0.7 * summarize(base).tpot_s.mean);
  EXPECT_GT(two.time_by_op.allreduce_s, 0);
}

TEST(Simulate, ASaturatedServerObeysLittlesLaw) {
  // Arrivals at 3x what one A100 serves: the queue grows; L (requests in the system, averaged over time from
  // the steps) against lambda W (completion rate x mean time in the system, from the requests).
  const Workload w = generated(1500, 30.0, 4);
  for (Scheduler sched : kSchedulers) {
    const Summary s = summarize(simulate(llama(), a100(), w, config(sched)));
    const double lambda_w = s.requests_per_s * s.e2e_s.mean;
    EXPECT_GT(s.mean_in_system, 100) << to_string(sched);  // saturated: a long queue
    EXPECT_NEAR(s.mean_in_system, lambda_w, 0.01 * lambda_w) << to_string(sched);
  }
}

TEST(Simulate, PreemptionExactlyWhenTheKvCacheIsFull) {
  // 4 requests of 32 prompt and 33 output tokens end holding 32 + 33 - 1 = 64 tokens: 4 blocks of 16 each.
  const Workload w = fixed_batch(4, 32, 33);
  for (Scheduler sched : {Scheduler::continuous, Scheduler::chunked}) {
    SCOPED_TRACE(to_string(sched));
    SimConfig c = config(sched);
    c.kv_blocks = 16;  // exactly enough: full at the end, no preemption
    const SimResult fits = simulate(llama(), a100(), w, c);
    EXPECT_TRUE(fits.preemptions.empty());
    EXPECT_EQ(summarize(fits).peak_kv_blocks, 16);
    c.kv_blocks = 15;  // one block short
    const SimResult full = simulate(llama(), a100(), w, c);
    ASSERT_FALSE(full.preemptions.empty());
    for (const PreemptionEvent& e : full.preemptions) {
      EXPECT_EQ(e.blocks_available, 0);  // only when nothing is left
      EXPECT_GT(e.blocks_needed, e.blocks_available);
      EXPECT_EQ(e.request, 3);  // the newest request goes
    }
    EXPECT_EQ(summarize(full).preemptions, std::int64_t(full.preemptions.size()));
    expect_conserved(w, full);
  }
  // Static batching holds each request's blocks up front: a short cache runs fewer at once, never preempts.
  SimConfig c = config(Scheduler::static_batch);
  c.kv_blocks = 15;
  const SimResult st = simulate(llama(), a100(), w, c);
  EXPECT_TRUE(st.preemptions.empty());
  EXPECT_EQ(summarize(st).peak_kv_blocks, 12);
  // Also when speculating: the blocks stay held whatever the verifications accept.
  c.kv_blocks = 16;
  c.speculation = Speculation{llama(), 4, 1.0};
  for (const StepRecord& s : simulate(llama(), a100(), w, c).steps) EXPECT_EQ(s.kv_blocks_used, 16);
}

TEST(Simulate, PrefixCachingReusesBlocksAndSkipsTheirPrefill) {
  // 10 requests, 0.5 s apart, share a 100-token system prompt: 6 whole blocks of 16 (96 tokens) are reused.
  std::string trace = "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n";
  for (int i = 0; i < 10; ++i) trace += std::to_string(0.5 * i) + ",300,20,system,100\n";
  const Workload w = parse_trace(trace, "p.csv");
  SimConfig c = config(Scheduler::continuous);
  const SimResult on = simulate(llama(), a100(), w, c);
  EXPECT_EQ(on.prefix_lookups, 10);
  EXPECT_EQ(on.prefix_hits, 9);
  EXPECT_EQ(on.cached_tokens, 9 * 96);
  EXPECT_DOUBLE_EQ(*summarize(on).prefix_hit_rate, 0.9);
  expect_conserved(w, on);
  c.prefix_caching = false;
  const SimResult off = simulate(llama(), a100(), w, c);
  EXPECT_EQ(off.computed_tokens, on.computed_tokens + 9 * 96);
  EXPECT_LT(summarize(on).ttft_s.mean, summarize(off).ttft_s.mean);
  EXPECT_EQ(off.prefix_lookups, 0);
}

TEST(Simulate, SpeculativeDecodingEmitsTheExpectedTokensPerStep) {
  opmodel::ModelConfig draft = llama();  // a 4-layer Llama: same vocabulary, an eighth of the decode cost
  draft.name = "llama-4-layers";
  draft.num_layers = 4;
  const Workload one = fixed_batch(1, 128, 41);
  SimConfig c = config(Scheduler::continuous);
  // Every draft accepted: 40 tokens after the prefill in 8 verifications of 5.
  c.speculation = Speculation{draft, 4, 1.0};
  SimResult r = simulate(llama(), a100(), one, c);
  EXPECT_EQ(r.spec_steps, 8);
  EXPECT_EQ(r.spec_tokens, 40);
  EXPECT_DOUBLE_EQ(r.spec_expected_tokens, 5);
  expect_conserved(one, r);
  // None accepted: one token per verification, and slower than not speculating at all.
  c.speculation->accept_rate = 0;
  r = simulate(llama(), a100(), one, c);
  EXPECT_EQ(r.spec_steps, 40);
  EXPECT_LT(*summarize(r).spec_tpot_speedup, 1.0);
  // alpha = 0.7, k = 4: (1 - 0.7^5) / 0.3 = 2.7731 tokens per step, measured over many requests.
  c.speculation->accept_rate = 0.7;
  r = simulate(llama(), a100(), generated(400, 4.0, 8), c);
  EXPECT_NEAR(r.spec_expected_tokens, 2.7731, 1e-4);
  EXPECT_NEAR(summarize(r).spec_tokens_per_step, 2.7731, 0.1);
  EXPECT_GT(r.time_by_op.draft_s, 0);
  ASSERT_TRUE(r.baseline);
  // Per token: about (4 drafts x 1/8 + 1 verification) / 2.77 of a decode step.
  EXPECT_GT(*summarize(r).spec_tpot_speedup, 1.5);
}

TEST(Simulate, PipelineShowsItsBubble) {
  const Workload one = fixed_batch(1, 512, 17);
  SimConfig c = config(Scheduler::continuous);
  const Summary whole = summarize(simulate(llama(), a100(), one, c));
  c.pp = 2;
  c.link_latency_s = 0;
  const SimResult r = simulate(llama(), a100(), one, c);
  // One sequence cannot be split: the stages run one after the other (plus a send), half the stage time idle.
  const double send = 512 * 4096 * 2 / 300e9;
  EXPECT_NEAR(summarize(r).ttft_s.mean, whole.ttft_s.mean + send, 1e-9 * whole.ttft_s.mean);
  EXPECT_NEAR(summarize(r).bubble_share, 0.5, 0.02);
  // Many sequences in 4 micro-batches over 2 stages: the bubble shrinks to about (P-1)/(M+P-1) = 1/5.
  c.microbatches = 4;
  const Summary many = summarize(simulate(llama(), a100(), fixed_batch(64, 128, 9), c));
  EXPECT_NEAR(many.bubble_share, 0.2, 0.03);
  EXPECT_EQ(r.layout.stage_layers, (std::vector<std::int64_t>{16, 16}));
}

TEST(Simulate, ReplicasDivideTheLoad) {
  const Workload w = generated(800, 20.0, 6);
  SimConfig c = config(Scheduler::continuous);
  const Summary one = summarize(simulate(llama(), a100(), w, c));
  c.replicas = 2;
  const SimResult r = simulate(llama(), a100(), w, c);
  const Summary two = summarize(r);
  EXPECT_LT(two.e2e_s.mean, one.e2e_s.mean);
  EXPECT_EQ(r.requests[0].replica, 0);
  EXPECT_EQ(r.requests[1].replica, 1);
  expect_conserved(w, r);
  // Two identical requests on two replicas: each alone, as on one device.
  const Summary alone = summarize(simulate(llama(), a100(), fixed_batch(1, 256, 9), config(Scheduler::continuous)));
  const Summary pair = summarize(simulate(llama(), a100(), fixed_batch(2, 256, 9), c));
  EXPECT_DOUBLE_EQ(pair.e2e_s.mean, alone.e2e_s.mean);
}

TEST(Simulate, MemoryLeavesTheKvCache) {
  const SimResult r = simulate(llama(), a100(), fixed_batch(1, 64, 4), config(Scheduler::chunked));
  const MemoryPlan& m = r.memory;
  opmodel::Scenario s;
  EXPECT_DOUBLE_EQ(m.weights_bytes, opmodel::weight_bytes(llama(), s));
  EXPECT_EQ(m.workspace_tokens, 2048);
  EXPECT_DOUBLE_EQ(m.block_bytes, 16 * 524288.0);
  EXPECT_DOUBLE_EQ(m.usable_bytes, 72e9);
  EXPECT_EQ(m.kv_blocks, std::int64_t(std::floor((72e9 - m.weights_bytes - m.workspace_bytes) / m.block_bytes)));
  // Llama-2-70B in fp16 (138 GB) does not fit one 80 GB device; on 4 it does.
  const auto l70 = opmodel::resolve_model("llama-2-70b");
  EXPECT_NE(error_of([&] { simulate(l70, a100(), fixed_batch(1, 64, 4), SimConfig{}); })
                .find("leave no room for the KV cache in 72.0 GB usable"),
            std::string::npos);
  SimConfig c;
  c.tp = 4;
  EXPECT_GT(simulate(l70, a100(), fixed_batch(1, 64, 4), c).memory.kv_blocks, 1000);
}

TEST(Simulate, BadConfigurationsSayWhy) {
  const Workload w = fixed_batch(1, 64, 4);
  auto err = [&](const SimConfig& c) { return error_of([&] { simulate(llama(), a100(), w, c); }); };
  SimConfig c;
  c.kv_blocks = 4;  // 64 + 4 - 1 = 67 tokens need 5 blocks
  EXPECT_EQ(err(c), "request 1: 64 prompt + 4 output tokens need 5 KV blocks of 16 tokens; a replica holds 4");
  const Workload t = parse_trace("arrival_s,prompt_tokens,output_tokens\n0,10,1\n1,1000,1\n", "big.csv");
  EXPECT_NE(error_of([&] { simulate(llama(), a100(), t, c); }).find("trace big.csv:3: 1000 prompt + 1 output tokens"),
            std::string::npos);
  c = SimConfig{};
  c.pp = 2;
  c.speculation = Speculation{llama(), 4, 0.5};
  EXPECT_EQ(err(c), "option --draft-model: speculative decoding with --pp > 1 is not modelled");
  c.pp = 1;
  c.speculation->draft = opmodel::resolve_model("tiny");
  EXPECT_NE(err(c).find("the draft's vocabulary (256) differs from llama-2-7b's (32000)"), std::string::npos);
  c = SimConfig{};
  c.block_size = 0;
  EXPECT_NE(err(c).find("option --block-size: must be in [1, 4096], got 0"), std::string::npos);
  c = SimConfig{};
  c.memory_utilization = 1.5;
  EXPECT_NE(err(c).find("option --mem-util"), std::string::npos);
  // A profile without a capacity needs --kv-blocks.
  hardware::Profile no_capacity = a100();
  no_capacity.memory.size_bytes.reset();
  no_capacity.origin = "gpu.json";
  ASSERT_FALSE(no_capacity.capacity_bytes());
  const std::string e = error_of([&] { simulate(llama(), no_capacity, w, SimConfig{}); });
  EXPECT_EQ(e, "hardware profile gpu.json: field 'memory.capacity_bytes': is needed to size the KV cache (or give "
                 "--kv-blocks)");
}

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("roofline_sim_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(SimulateCli, TableJsonAndPerfettoTrace) {
  const fs::path dir = temp_dir();
  const Result t = run("simulate --model llama-2-7b --hw a100-80g-sxm --rate 10 --requests 50 --scheduler chunked");
  ASSERT_EQ(t.code, 0) << t.out;
  for (const char* s : {"scheduler chunked (256 sequences, 2048 tokens per step)", "TTFT (time to first token)",
                        "TPOT", "E2E", "p99", "throughput:", "preemptions: 0", "KV cache: peak", "device time by op",
                        "gate_proj", "memory per device: weights 13.5 GB"})
    EXPECT_NE(t.out.find(s), std::string::npos) << s << "\n" << t.out;

  const fs::path json_out = dir / "sim.json", trace_out = dir / "trace.json";
  const Result j =
      run("simulate --model llama-2-7b --hw a100-80g-sxm --tp 2 --pp 2 --rate 10 --requests 30 --format json -o " +
          json_out.string() + " --trace-out " + trace_out.string());
  ASSERT_EQ(j.code, 0) << j.out;
  std::ifstream in(json_out);
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["config"]["devices"], 4);
  EXPECT_EQ(doc["workload"]["requests"], 30);
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s"})
    for (const char* stat : {"mean", "p50", "p90", "p99"}) EXPECT_GT(doc["latency"][key][stat].get<double>(), 0);
  EXPECT_GT(doc["throughput"]["output_tokens_per_s"].get<double>(), 0);
  EXPECT_TRUE(doc["config"]["link"]["latency_s"].is_null());  // the A100 preset gives no latency
  EXPECT_FALSE(doc["timeline"].empty());
  EXPECT_GT(doc["pipeline"]["bubble_share"].get<double>(), 0);

  std::ifstream tin(trace_out);
  const auto trace = nlohmann::json::parse(tin);
  std::set<int> tids;
  std::size_t slices = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++slices;
    tids.insert(e["tid"].get<int>());
    EXPECT_GT(e["dur"].get<double>(), 0);
    EXPECT_TRUE(e["args"].contains("prefill_tokens"));
    EXPECT_TRUE(e["args"].contains("decode_seqs"));
  }
  EXPECT_EQ(tids, (std::set<int>{0, 1, 2, 3}));  // one track per device: 2 stages x 2 tp ranks
  EXPECT_GT(slices, 30u);
  fs::remove_all(dir);
}

TEST(SimulateCli, ASingleRequestMatchesAnalyze) {
  const Result s = run("simulate --model llama-2-7b --hw a100-80g-sxm --batch 1 --prompt 512 --gen 65 --format json");
  const Result a = run("analyze --model llama-2-7b --hw a100-80g-sxm --batch 1 --prompt 512 --gen 64 --format json");
  ASSERT_EQ(s.code, 0) << s.out;
  ASSERT_EQ(a.code, 0) << a.out;
  const auto sj = nlohmann::json::parse(s.out), aj = nlohmann::json::parse(a.out);
  const double ttft = aj["request"]["ttft_s"], tpot = aj["request"]["tpot_s"], total = aj["request"]["total_time_s"];
  EXPECT_NEAR(sj["latency"]["ttft_s"]["mean"].get<double>(), ttft, 1e-12 * ttft);
  EXPECT_NEAR(sj["latency"]["tpot_s"]["mean"].get<double>(), tpot, 1e-12 * tpot);
  EXPECT_NEAR(sj["latency"]["e2e_s"]["mean"].get<double>(), total, 1e-12 * total);
}

TEST(SimulateCli, BadInputFailsClearlyWithoutPartialOutput) {
  const fs::path dir = temp_dir();
  const fs::path out = dir / "never.json", trace_out = dir / "never-trace.json";
  std::ofstream(dir / "bad.csv") << "arrival_s,prompt_tokens,output_tokens\n0,100,10\n0.5,abc,10\n";
  std::ofstream(dir / "gpu.json") << R"({"name": "lonely", "peak_flops_per_s": {"fp16": 1e14, "fp32": 1e13},
                                       "memory": {"bytes_per_s": 1e12, "capacity_bytes": 8e10}})";
  const std::string tail = " --format json -o " + out.string() + " --trace-out " + trace_out.string();
  const std::string base = "simulate --model llama-2-7b --hw a100-80g-sxm ";
  struct Case {
    std::string args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {base + "--trace " + (dir / "bad.csv").string() + tail, 1,
       "bad.csv:3: column 'prompt_tokens': expected an integer, got 'abc'"},
      {base + "--trace " + (dir / "none.csv").string() + tail, 1, "none.csv: cannot be read"},
      {base + "--rate 5 --prompt-dist zipf:2" + tail, 2, "option '--prompt-dist': unknown distribution 'zipf:2'"},
      {base + "--rate -5" + tail, 2, "option '--rate': must be in"},
      {base + "--rate 5 --requests 0" + tail, 2, "option '--requests': must be in [1,"},
      {base + "--batch 2 --prompt 10 --gen 0" + tail, 2, "option '--gen': must be in [1,"},
      {base + "--batch 2 --prompt 99999999999999999999 --gen 5" + tail, 2, "out of range"},
      {base + "--rate 5 --tp 3" + tail, 2, "option '--tp': tp 3 does not divide the 32 query heads of llama-2-7b"},
      {base + "--rate 5 --pp 64" + tail, 2, "option '--pp': pp 64 exceeds the 32 layers of llama-2-7b"},
      {base + "--batch 1 --prompt 5000 --gen 2 --strict" + tail, 2,
       "option '--strict': 1 of 1 requests run past llama-2-7b's max_position_embeddings of 4096"},
      {"simulate --model llama-2-7b --hw " + (dir / "gpu.json").string() + " --rate 5 --tp 2" + tail, 1,
       "field 'interconnect.bytes_per_s_per_direction': is needed for --tp 2"},
      {base + "--rate 5 --scheduler fifo" + tail, 2, "expected static, continuous or chunked, got 'fifo'"},
      {base + "--rate 5 --trace x.csv" + tail, 2, "give one workload"},
      {base + tail, 2, "give one workload"},
      {base + "--batch 2 --gen 5" + tail, 2, "option '--prompt': is required"},
      {base + "--batch 2 --prompt 5 --gen 5 --prompt-dist fixed:3" + tail, 2,
       "option '--prompt-dist': applies to a generated workload (--rate) only"},
      {base + "--rate 5 --accept-rate 0.5" + tail, 2, "option '--accept-rate': needs --draft-model"},
      {base + "--rate 5 --kv-blocks 2 --prompt-dist fixed:100" + tail, 1,
       "output tokens need 10 KV blocks of 16 tokens; a replica holds 2"},
      {base + "--rate 5 --format csv -o " + out.string(), 2, "expected table or json"},
  };
  for (const Case& c : cases) {
    const Result r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(out)) << c.args;
    EXPECT_FALSE(fs::exists(trace_out)) << c.args;
  }
  EXPECT_EQ(run("simulate --help").code, 0);
  fs::remove_all(dir);
}

TEST(Simulate, TheTimelineSamplesStepsWithoutKeepingThemAll) {
  const Workload w = generated(400, 10.0, 9);
  SimConfig c = config(Scheduler::chunked);
  c.replicas = 2;
  const SimResult all = simulate(llama(), a100(), w, c);
  c.keep_steps = false;
  const SimResult sampled = simulate(llama(), a100(), w, c);
  EXPECT_TRUE(sampled.steps.empty());
  EXPECT_GT(all.steps.size(), 2000u);
  const RunInfo run{llama(), a100(), w, c};
  EXPECT_EQ(to_json(run, all, summarize(all)).dump(), to_json(run, sampled, summarize(sampled)).dump());
  for (int rep = 0; rep < 2; ++rep) {
    std::vector<const StepRecord*> points;
    for (const StepRecord& st : sampled.timeline)
      if (st.replica == rep) points.push_back(&st);
    EXPECT_GE(points.size(), 256u);
    EXPECT_LT(points.size(), 512u);
    for (std::size_t i = 1; i < points.size(); ++i) EXPECT_GT(points[i]->start_s, points[i - 1]->start_s);
  }
}

// Fidelity: each published row is analyzed as the table says (precision, batch, lengths) and judged by the
// expected figure's error; the bound stays the roofline's.
TEST(Fidelity, RowsAreAnalyzedAsPublishedAndJudged) {
  const std::string header = "id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source\n";
  const auto rows = roofline::parse_fidelity_csv(
      header + "a,llama-2-7b,a100-80g-sxm,1,fp16,1,128,1,ttft_ms,20,primary,src a\n"
               "b,llama-2-7b,h100-sxm,1,fp8,8,128,64,out_tok_s_per_gpu,1000,held_out,src b\n"
               "c,llama-2-7b,l4,1,fp8,1,128,1,ttft_ms,14,primary,src c\n",
      "m.csv");
  ASSERT_EQ(rows.size(), 3u);
  const roofline::Fidelity f = roofline::judge_fidelity(rows);
  ASSERT_EQ(f.points.size(), 3u);
  // Row a: analyze's own prefill step, in milliseconds: the bound, and the expectation from the A100's figures.
  roofline::AnalysisRequest req;
  req.prompt = 128;
  req.decode = false;
  const auto a = roofline::analyze(opmodel::resolve_model("llama-2-7b"), hardware::preset("a100-80g-sxm"), req);
  EXPECT_DOUBLE_EQ(f.points[0].bound, a.steps[0].time_s * 1e3);
  ASSERT_TRUE(f.points[0].expected.has_value());
  EXPECT_DOUBLE_EQ(*f.points[0].expected, *a.expected[0].total_s * 1e3);
  EXPECT_DOUBLE_EQ(*f.points[0].error(), *f.points[0].expected / 20 - 1);
  EXPECT_NE(f.points[0].expectation_source.find("a100-80g-sxm"), std::string::npos);
  // Row b: 8 x 64 tokens over the prefill and 63 decode steps; expected below the bound's rate.
  EXPECT_GT(f.points[1].bound, *f.points[1].expected);
  // Row c: the L4 has no published GEMM or attention-prefill figure, so no expectation, and the row is not judged.
  EXPECT_FALSE(f.points[2].expected.has_value());
  const auto primary = std::find_if(f.groups.begin(), f.groups.end(),
                                    [](const auto& g) { return g.set == "primary" && g.hw == "all"; });
  ASSERT_NE(primary, f.groups.end());
  EXPECT_EQ(primary->rows, 2u);
  EXPECT_EQ(primary->judged, 1u);
  EXPECT_DOUBLE_EQ(primary->median_abs_error, std::abs(*f.points[0].error()));
}

// The shipped table as the README reports it: a change to the expected-time model or a preset that loses fidelity
// shows here (the targets are 10% and every row within 20% on the primary rows; this holds what has been reached).
TEST(Fidelity, TheShippedTableKeepsItsFidelity) {
  const std::string path = std::string(ROOFLINE_SOURCE_DIR) + "/docs/fidelity/measurements.csv";
  const auto text = common::read_text_file(path);
  ASSERT_TRUE(text.has_value()) << path;
  const roofline::Fidelity f = roofline::judge_fidelity(roofline::parse_fidelity_csv(*text, path));
  // Held out: Mistral-7B's GQA decode is measured no faster than Llama-2-7B's MHA, which the model does not follow
  // (see the README), so that set holds a lower mark.
  for (auto [set, median, within] : {std::tuple{"primary", 0.12, 0.90}, std::tuple{"held_out", 0.22, 0.60}}) {
    const std::string_view name = set;  // a named copy: clang 14 cannot capture a structured binding
    const auto all = std::find_if(f.groups.begin(), f.groups.end(),
                                  [&](const auto& g) { return g.set == name && g.hw == "all"; });
    ASSERT_NE(all, f.groups.end()) << set;
    EXPECT_EQ(all->judged, all->rows) << set;
    EXPECT_LE(all->median_abs_error, median) << set;
    EXPECT_GE(double(all->within_20), within * double(all->rows)) << set;
  }
}

TEST(Fidelity, BadTablesNameFileLineAndColumn) {
  const std::string header = "id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source\n";
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv("id,model\n", "m.csv"); }),
            "m.csv: field 'header': must be 'id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source'");
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv(header + "a,m,h,1,fp4,1,1,1,ttft_ms,1,primary,s\n", "m.csv"); }),
            "m.csv:2: field 'column 'precision'': expected fp16 or fp8, got 'fp4'");
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv(header + "a,m,h,1,fp8,0,1,1,ttft_ms,1,primary,s\n", "m.csv"); }),
            "m.csv:2: field 'column 'batch'': must be in [1, 1048576], got 0");
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv(header + "a,m,h,1,fp8,1,1,1,tps,1,primary,s\n", "m.csv"); }),
            "m.csv:2: field 'column 'metric'': expected ttft_ms or out_tok_s_per_gpu, got 'tps'");
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv(header + "a,m,h,1,fp8,1,1,1,ttft_ms,-3,primary,s\n", "m.csv"); }),
            "m.csv:2: field 'column 'measured'': expected a positive number, got '-3'");
  EXPECT_EQ(error_of([&] { roofline::parse_fidelity_csv(header + "a,m,h,1,fp8,1,1,1,ttft_ms,3,primary,s,x\n", "m.csv"); }),
            "m.csv:2: expected 12 columns, got 13 (fields may not hold commas)");
  // Lines ending in CRLF, or with blanks around the fields, read the same (every CSV reader shares one splitter).
  EXPECT_EQ(roofline::parse_fidelity_csv(header.substr(0, header.size() - 1) + "\r\n" +
                                             "a, llama-2-7b ,l4,1,fp16,1,128,1,ttft_ms,20,primary,s\r\n",
                                         "m.csv")[0].model,
            "llama-2-7b");
  // The shipped table parses and every row names a preset and a source.
  const auto text = common::read_text_file(std::string(ROOFLINE_SOURCE_DIR) + "/docs/fidelity/measurements.csv");
  ASSERT_TRUE(text.has_value());
  EXPECT_GE(roofline::parse_fidelity_csv(*text, "measurements.csv").size(), 30u);
}

// A tensor-parallel row runs its static batch through the simulator on tp devices: the whole prompt in one prefill,
// all-reduces included; the expected run takes the profile's kernel and collective figures.
TEST(Fidelity, TensorParallelRowsRunTheSimulator) {
  const std::string header = "id,model,hw,tp,precision,batch,isl,osl,metric,measured,set,source\n";
  const auto rows = roofline::parse_fidelity_csv(
      header + "t,llama-2-70b,h100-sxm,4,fp8,1,128,1,ttft_ms,20,held_out,src\n"
               "u,llama-2-70b,h100-sxm,2,fp8,8,128,16,out_tok_s_per_gpu,300,held_out,src\n",
      "m.csv");
  const roofline::Fidelity f = roofline::judge_fidelity(rows);
  ASSERT_EQ(f.points.size(), 2u);
  // The bound TTFT: the simulator's prefill step on 4 devices (each a quarter of the heads and the MLP) plus the
  // all-reduces, against analyze's one-device step of the same prompt: faster, but not 4x faster.
  roofline::AnalysisRequest one;
  one.prompt = 128;
  one.decode = false;
  one.scenario.weight_dtype = one.scenario.act_dtype = one.scenario.kv_dtype = opmodel::DType::fp8;
  const double single = roofline::analyze(opmodel::resolve_model("llama-2-70b"), hardware::preset("h100-sxm"), one)
                            .steps[0].time_s * 1e3;
  EXPECT_LT(f.points[0].bound, single);
  EXPECT_GT(f.points[0].bound, single / 4);
  ASSERT_TRUE(f.points[0].expected.has_value());
  EXPECT_GT(*f.points[0].expected, f.points[0].bound);  // a longer TTFT expected than the bound
  ASSERT_TRUE(f.points[1].expected.has_value());
  EXPECT_LT(*f.points[1].expected, f.points[1].bound);  // a lower throughput expected than the bound
}
