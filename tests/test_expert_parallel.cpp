// Expert parallelism and disaggregated serving in the simulator: the load of the busiest expert device, the
// all-to-all's bytes and its growth as the link slows, memory per device, DP attention's KV; and a prefill pool
// handing KV caches to a decode pool: where that wins (prefill interference) and where it loses (a slow link).
#include <gtest/gtest.h>

#include <cmath>

#include "hardware/presets.hpp"
#include "opmodel/footprint.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/simulate/cost.hpp"
#include "roofline/simulate/disaggregated.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/simulator.hpp"
#include "roofline/simulate/summary.hpp"
#include "run_roofline.hpp"

using namespace roofline;
using namespace roofline::sim;

namespace {

const opmodel::ModelConfig& qwen_moe() {
  static const opmodel::ModelConfig m = opmodel::resolve_model("qwen3-30b-a3b");
  return m;
}
const opmodel::ModelConfig& llama3() {
  static const opmodel::ModelConfig m = opmodel::resolve_model("llama-3-8b");
  return m;
}
const hardware::Profile& h100() { return hardware::preset("h100-sxm"); }
const hardware::Profile& a100() { return hardware::preset("a100-80g-sxm"); }

Workload workload(std::int64_t n, double rate, const char* prompt, const char* output, std::uint64_t seed = 3) {
  Generator g;
  g.requests = n;
  g.rate_per_s = rate;
  g.prompt = parse_distribution(prompt, "prompt-dist");
  g.output = parse_distribution(output, "output-dist");
  g.seed = seed;
  return generate(g);
}

TEST(ExpertParallel, ExpectedMaximumOfNormalsMatchesTables) {
  // E[max of n standard normals]: 1/sqrt(pi) for 2, and the tabulated 1.0294, 1.4236, 1.7660 for 4, 8, 16.
  EXPECT_DOUBLE_EQ(expected_max_standard_normal(1), 0);
  EXPECT_NEAR(expected_max_standard_normal(2), 1 / std::sqrt(3.14159265358979), 1e-6);
  EXPECT_NEAR(expected_max_standard_normal(4), 1.02938, 1e-4);
  EXPECT_NEAR(expected_max_standard_normal(8), 1.42360, 1e-4);
  EXPECT_NEAR(expected_max_standard_normal(16), 1.76599, 1e-4);
}

TEST(ExpertParallel, LoadFactorFollowsRandomRoutingAndTheGivenSkew) {
  const Layout l = make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {4, false, std::nullopt});
  // rows = T k; factor = 1 + E[max of 4] sqrt(3 / rows), at most ep.
  EXPECT_NEAR(max_load_factor(l, 8.0 * 1024), 1 + 1.02938 * std::sqrt(3.0 / 8192), 1e-4);
  EXPECT_DOUBLE_EQ(max_load_factor(l, 1), 4);  // one routed row: all of it on one device
  EXPECT_GT(max_load_factor(l, 64), max_load_factor(l, 6400));  // imbalance fades with more rows
  const Layout skewed = make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {4, false, 1.5});
  EXPECT_DOUBLE_EQ(max_load_factor(skewed, 64), 1.5);
  const Layout none = make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {});
  EXPECT_DOUBLE_EQ(max_load_factor(none, 64), 1);
}

TEST(ExpertParallel, RemoteDevicesPerToken) {
  EXPECT_DOUBLE_EQ(remote_devices_per_token(1, 8), 0);
  EXPECT_DOUBLE_EQ(remote_devices_per_token(2, 1), 0.5);                      // the other device half the time
  EXPECT_NEAR(remote_devices_per_token(8, 8), 7 * (1 - std::pow(7.0 / 8, 8)), 1e-12);
  EXPECT_LT(remote_devices_per_token(8, 8), 7);
}

TEST(ExpertParallel, ExpertWeightsAreSplitOverEpDevices) {
  opmodel::Scenario s;
  const Layout tp = make_layout(qwen_moe(), h100(), 4, 1, std::nullopt);
  const Layout ep = make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {4, false, std::nullopt});
  const auto parts = opmodel::weight_bytes_by_part(qwen_moe(), s);
  // Either way each device holds a quarter of the experts' bytes; TP shards each expert, EP keeps them whole.
  EXPECT_NEAR(stage_memory(ep, s)[0].weights_bytes, stage_memory(tp, s)[0].weights_bytes, 1e-3 * parts.total());
  EXPECT_EQ(ep.shard.moe_intermediate_size, qwen_moe().moe_intermediate_size);
  EXPECT_EQ(tp.shard.moe_intermediate_size, qwen_moe().moe_intermediate_size / 4);
  // DP attention: whole attention and vocabulary on every device.
  const Layout dp = make_layout(qwen_moe(), h100(), 8, 1, std::nullopt, {8, true, std::nullopt});
  EXPECT_EQ(dp.shard.num_heads, qwen_moe().num_heads);
  const double dense = parts.total() - parts.experts;
  EXPECT_NEAR(stage_memory(dp, s)[0].weights_bytes, dense + parts.experts / 8, 1e-6 * parts.total());
}

TEST(ExpertParallel, AllToAllGrowsAsTheLinkSlows) {
  const Workload w = workload(64, 1e9, "fixed:512", "fixed:32");
  SimConfig c;
  c.scheduler = Scheduler::chunked;
  c.tp = 8;
  c.expert = {8, true, std::nullopt};
  hardware::Profile slow = h100();
  slow.interconnect->bytes_per_s_per_direction->value /= 100;
  const SimResult fast_run = simulate(qwen_moe(), h100(), w, c);
  const SimResult slow_run = simulate(qwen_moe(), slow, w, c);
  EXPECT_GT(fast_run.time_by_op.alltoall_s, 0);
  EXPECT_EQ(fast_run.time_by_op.allreduce_s, 0);  // DP attention with EP: no all-reduce
  EXPECT_NEAR(slow_run.time_by_op.alltoall_s / fast_run.time_by_op.alltoall_s, 100, 1);
  EXPECT_GT(summarize(slow_run).tpot_s.p50, summarize(fast_run).tpot_s.p50);
  // One dispatch: T d a remote / bw (no latency in the profile) for the rank's tokens.
  const StepCost cost(fast_run.layout, c.scenario, h100());
  const double d = double(qwen_moe().hidden_size), k = double(qwen_moe().experts_per_token);
  EXPECT_NEAR(cost.alltoall_s(100), 100 * d * 2 * remote_devices_per_token(8, k) / 450e9, 1e-12);
  // Expected: the measured empty call plus the bytes at the attained 82.2% of the link.
  const StepCost expected(fast_run.layout, c.scenario, h100(), true);
  EXPECT_NEAR(expected.alltoall_s(100), 25e-6 + 100 * d * 2 * remote_devices_per_token(8, k) / (450e9 * 0.822), 1e-12);
}

TEST(ExpertParallel, DpAttentionHoldsMoreKvForMla) {
  // MLA's latent is whole on every tensor-parallel device; with DP attention each device holds its own sequences'.
  const opmodel::ModelConfig& ds = opmodel::resolve_model("deepseek-v2-lite");
  const Workload w = workload(16, 1e9, "fixed:256", "fixed:16");
  SimConfig c;
  c.tp = 4;
  const SimResult tp = simulate(ds, h100(), w, c);
  c.expert = {4, true, std::nullopt};
  const SimResult dp = simulate(ds, h100(), w, c);
  EXPECT_EQ(dp.memory.kv_ranks, 4);
  EXPECT_GT(dp.memory.kv_blocks, 3 * tp.memory.kv_blocks);
}

TEST(ExpertParallel, RefusesWhatItDoesNotModel) {
  EXPECT_THROW(make_layout(llama3(), h100(), 8, 1, std::nullopt, {8, false, std::nullopt}), OptionError);
  EXPECT_THROW(make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {2, false, std::nullopt}), OptionError);
  EXPECT_THROW(make_layout(qwen_moe(), h100(), 4, 2, std::nullopt, {4, false, std::nullopt}), OptionError);
  try {
    make_layout(qwen_moe(), h100(), 4, 1, std::nullopt, {4, false, 9.0});
    FAIL();
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "ep-skew");
    EXPECT_NE(std::string(e.what()).find("got 9"), std::string::npos);
  }
}

// Llama-3-8B on two A100s, 40 prompts of 6000 tokens (128 out) at 2.5/s, chunked prefill of 8192 tokens a step:
// two replicas of one server, against one prefill and one decode instance over `link`.
struct TwoWays {
  Workload w = workload(40, 2.5, "fixed:6000", "fixed:128");
  Summary together;
  DisaggResult apart;
  Summary split;
  explicit TwoWays(const KvLink& link) {
    SimConfig c;
    c.scheduler = Scheduler::chunked;
    c.max_tokens = 8192;
    c.replicas = 2;
    together = summarize(simulate(llama3(), a100(), w, c));
    c.replicas = 1;
    apart = simulate_disaggregated(llama3(), a100(), w, {c, c, link});
    split = summarize_requests(apart.requests);
  }
};

// Long prompts and tight TPOT: in one server, prefill chunks share steps with decodes and stretch every token;
// a decode pool of its own keeps TPOT at the decode step's time.
TEST(Disaggregated, WinsWherePrefillInterferesWithDecodes) {
  const TwoWays r({"nvlink", 300e9, 0});
  EXPECT_LT(r.split.tpot_s.p90, 0.5 * r.together.tpot_s.p90);
  // Every KV cache crossed once: prompt tokens x 32 layers x 2 x 8 heads x 128 x 2 B.
  EXPECT_NEAR(r.apart.transfer.bytes, 40 * 6000 * opmodel::kv_bytes_per_token(llama3(), opmodel::DType::fp16), 1);
  EXPECT_EQ(r.split.output_tokens, 40 * 128);
  for (std::size_t i = 0; i < r.w.requests.size(); ++i) {
    const RequestOutcome& o = r.apart.requests[i];
    EXPECT_GE(o.first_token_s, r.w.requests[i].arrival_s);
    EXPECT_GT(o.finish_s, o.first_token_s);
  }
}

TEST(Disaggregated, LosesWhereTheKvTransferDominates) {
  // 0.1 GB/s: a 786 MB cache takes 7.9 s, all of it between the first and the second token.
  const TwoWays r({"slow", 0.1e9, 0});
  EXPECT_GT(r.split.tpot_s.p90, 2 * r.together.tpot_s.p90);
  EXPECT_GT(r.split.e2e_s.p50, r.together.e2e_s.p50);
  EXPECT_GT(r.apart.transfer.time_s.p50, 7.8);
}

TEST(Disaggregated, SingleTokenRequestsNeverReachTheDecodePool) {
  const Workload w = workload(20, 10, "fixed:128", "fixed:1");
  SimConfig c;
  const DisaggResult r = simulate_disaggregated(llama3(), a100(), w, {c, c, {"nvlink", 300e9, 0}});
  EXPECT_TRUE(r.decode.requests.empty());
  EXPECT_EQ(r.transfer.bytes, 0);
  for (const RequestOutcome& o : r.requests) EXPECT_DOUBLE_EQ(o.finish_s, o.first_token_s);
  EXPECT_THROW(simulate_disaggregated(llama3(), a100(), w, {c, c, {"none", 0, 0}}), OptionError);
}

TEST(Disaggregated, CommandLine) {
  const std::string base = "simulate --model llama-3-8b --hw a100-80g-sxm --rate 2 --requests 20 --prompt-dist fixed:2048 "
                           "--output-dist fixed:32 --scheduler chunked ";
  const Result ok = run(base + "--prefill-pool 1:tp1 --decode-pool 1:tp1 --kv-link ib-ndr:2e-6");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("prefill pool"), std::string::npos);
  EXPECT_NE(ok.out.find("KV transfers"), std::string::npos);
  EXPECT_NE(ok.out.find("ib-ndr at 50.0 GB/s"), std::string::npos) << ok.out;
  const Result json = run(base + "--prefill-pool 1:tp1 --decode-pool 1:tp1 --format json");
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_NE(json.out.find("\"kv_transfer\""), std::string::npos);
  const Result half = run(base + "--prefill-pool 1:tp1");
  EXPECT_EQ(half.code, 2);
  EXPECT_NE(half.out.find("--decode-pool"), std::string::npos);
  const Result bad = run(base + "--prefill-pool 1:tq2 --decode-pool 1:tp1");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("'tq2'"), std::string::npos) << bad.out;
  const Result both = run(base + "--prefill-pool 1:tp1 --decode-pool 1:tp1 --tp 2");
  EXPECT_EQ(both.code, 2);
  const Result ep = run("simulate --model llama-3-8b --hw h100-sxm --batch 4 --prompt 64 --gen 8 --tp 2 --ep 2");
  EXPECT_EQ(ep.code, 2);
  EXPECT_NE(ep.out.find("has no experts"), std::string::npos) << ep.out;
}

}  // namespace
