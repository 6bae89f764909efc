// roofline search: the space and its enumeration, planted outcomes (a single deployment meeting the targets,
// disaggregation winning under prefill interference and losing over a slow link), the reuse of runs against the
// exhaustive search, determinism, and the command line with its outputs and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hardware/presets.hpp"
#include "opmodel/model_config.hpp"
#include "roofline/present/search_output.hpp"
#include "roofline/search/search.hpp"
#include "roofline/search/space.hpp"
#include "run_roofline.hpp"
#include "test_support.hpp"

using namespace roofline;
using namespace roofline::search;

namespace {

sim::Workload workload(std::int64_t n, double rate, const char* prompt, const char* output) {
  sim::Generator g;
  g.requests = n;
  g.rate_per_s = rate;
  g.prompt = sim::parse_distribution(prompt, "isl");
  g.output = sim::parse_distribution(output, "osl");
  g.seed = 5;
  return sim::generate(g);
}

Problem problem(const char* model, const char* hw, int gpus, sim::Workload w, Targets t) {
  Problem p;
  p.model = opmodel::resolve_model(model);
  p.hw = hardware::preset(hw);
  p.workload = std::move(w);
  p.gpus = gpus;
  p.targets = t;
  p.link = {"nvlink", 300e9, 0};
  return p;
}

// One value per knob (tp and pp lists, batches as given), 16-bit formats, aggregated only.
Space narrow(std::vector<int> tp, std::vector<std::int64_t> batches, std::int64_t tokens = 2048) {
  Space s;
  s.tp = std::move(tp);
  s.pp = {1};
  s.max_batch = std::move(batches);
  s.max_tokens = {tokens};
  s.weights = {"checkpoint"};
  s.kv = {opmodel::DType::fp16};
  s.disaggregated = false;
  return s;
}

SpaceContext context(int gpus) {
  SpaceContext c;
  c.gpus = gpus;
  return c;
}

TEST(SearchSpace, EnumeratesLayoutsThatFitTheDevices) {
  Space s;
  s.max_batch = {64};
  s.max_tokens = {2048};
  s.weights = {"checkpoint"};
  s.kv = {opmodel::DType::fp16};
  s.disaggregated = false;
  const auto all = enumerate(s, context(8));
  // (tp, pp) with tp pp <= 8 from {1, 2, 4, 8} x {1, 2, 4}: 9 layouts, each with 8 / (tp pp) replicas.
  EXPECT_EQ(all.size(), 9u);
  for (const Deployment& d : all) EXPECT_EQ(d.gpus(), 8);
  s.all_replica_counts = true;
  EXPECT_EQ(enumerate(s, context(8)).size(), 8u + 4 + 2 + 4 + 2 + 1 + 2 + 1 + 1);
  s.all_replica_counts = false;
  s.aggregated = false;
  s.disaggregated = true;
  s.tp = {1, 2};
  // x tp1 + y tp1 = 8 (7 splits), x tp1 + y tp2 = 8 (3), x tp2 + y tp1 = 8 (3), x tp2 + y tp2 = 8 (3).
  const auto pools = enumerate(s, context(8));
  EXPECT_EQ(pools.size(), 16u);
  for (const Deployment& d : pools) {
    EXPECT_TRUE(d.disaggregated);
    EXPECT_EQ(d.gpus(), 8);
  }
}

TEST(SearchSpace, MoeAddsExpertLayoutsAndBatchesAscend) {
  const Space s = narrow({2}, {64, 8});
  SpaceContext c = context(2);
  c.moe = true;
  const auto all = enumerate(s, c);
  ASSERT_EQ(all.size(), 6u);  // experts sharded, ep 2, ep 2 with DP attention; batches 8 then 64
  EXPECT_EQ(all[0].max_batch, 8);
  EXPECT_EQ(all[1].max_batch, 64);
  EXPECT_EQ(all[2].serve.ep, 2);
  EXPECT_TRUE(all[4].serve.dp_attention);
  EXPECT_EQ(differences(all[0], all[2]), std::vector<std::string>{"experts"});
  Deployment wider = all[0];
  wider.serve.tp = 1;
  wider.serve.instances = 2;
  EXPECT_EQ(differences(all[0], wider), std::vector<std::string>{"layout"});
}

TEST(SearchSpace, ParsesAFileAndNamesWhatIsWrong) {
  const Space s = parse_space(nlohmann::json::parse(R"({"tp": [4, 2, 2], "weights": ["fp8", "checkpoint"],
                                                        "kv": ["fp8"], "disaggregated": false})"),
                              "space.json");
  EXPECT_EQ(s.tp, (std::vector<int>{2, 4}));
  EXPECT_EQ(s.weights, (std::vector<std::string>{"checkpoint", "fp8"}));
  EXPECT_EQ(s.kv, std::vector<opmodel::DType>{opmodel::DType::fp8});
  EXPECT_FALSE(s.disaggregated);
  auto message = [](const char* text) {
    try {
      parse_space(nlohmann::json::parse(text), "space.json");
    } catch (const SearchError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"tpp": [1]})").find("'tpp'"), std::string::npos) << message(R"({"tpp": [1]})");
  EXPECT_NE(message(R"({"tp": [0]})").find("tp"), std::string::npos);
  EXPECT_NE(message(R"({"tp": []})").find("non-empty"), std::string::npos);
  EXPECT_NE(message(R"({"weights": ["fp9"]})").find("'fp9'"), std::string::npos);
  EXPECT_NE(message(R"({"aggregated": false, "disaggregated": false})").find("nothing to search"), std::string::npos);
  EXPECT_NE(message("[1]").find("space.json"), std::string::npos);
  // A space too large to search is refused before anything is built.
  const Space huge = parse_space(nlohmann::json::parse(R"({"max_batch": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,
      19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40], "max_tokens": [1,2,3,4,5,6,7,8,9,10,11,12,
      13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,
      50], "tp": [1], "all_replica_counts": true})"), "space.json");
  try {
    enumerate(huge, context(1024));
    FAIL() << "a space of over a million deployments was enumerated";
  } catch (const SearchError& e) {
    EXPECT_NE(std::string(e.what()).find("narrow its lists"), std::string::npos) << e.what();
  }
}

// Llama-3-8B on two A100s, light load: one device per replica decodes in ~8 ms a token, two in tensor
// parallel in about half; a batch of one queues the requests past the TTFT target.
TEST(Search, PlantedSingleDeploymentMeetsTheTargets) {
  const Problem p = problem("llama-3-8b", "a100-80g-sxm", 2, workload(40, 4, "fixed:512", "fixed:64"), {1.0, 0.006});
  const auto candidates = enumerate(narrow({1, 2}, {1, 64}), context(2));
  ASSERT_EQ(candidates.size(), 4u);
  const SearchResult r = run_search(p, candidates, {});
  EXPECT_EQ(r.meeting, 1u);
  ASSERT_TRUE(r.best);
  const Deployment& best = r.candidates[*r.best].deployment;
  EXPECT_EQ(best.serve.tp, 2);
  EXPECT_EQ(best.max_batch, 64);
  // Its neighbours lost for named reasons: 2x tp1 on TPOT, batch 1 on TTFT.
  ASSERT_EQ(r.neighbours.size(), 2u);  // 2x tp1 batch 64, 1x tp2 batch 1 (2x tp1 batch 1 differs twice)
  for (const Neighbour& n : r.neighbours) {
    if (n.knobs == std::vector<std::string>{"layout"}) EXPECT_NE(n.why.find("TPOT p90"), std::string::npos) << n.why;
    else EXPECT_NE(n.why.find("TTFT p90"), std::string::npos) << n.why;
  }
}

Space pools_only_space() {
  Space s = narrow({1}, {256}, 8192);
  s.disaggregated = true;
  return s;  // aggregated 2x tp1, disaggregated 1x tp1 + 1x tp1
}

TEST(Search, DisaggregationWinsWherePrefillInterferenceBreaksTpot) {
  const Problem p =
      problem("llama-3-8b", "a100-80g-sxm", 2, workload(40, 2.5, "fixed:6000", "fixed:128"), {5.0, 0.015});
  const SearchResult r = run_search(p, enumerate(pools_only_space(), context(2)), {});
  ASSERT_EQ(r.candidates.size(), 2u);
  ASSERT_TRUE(r.best);
  EXPECT_TRUE(r.candidates[*r.best].deployment.disaggregated);
  ASSERT_EQ(r.neighbours.size(), 1u);
  EXPECT_NE(r.neighbours[0].why.find("TPOT p90"), std::string::npos) << r.neighbours[0].why;
}

TEST(Search, DisaggregationLosesWhereTheKvTransferDominates) {
  Problem p = problem("llama-3-8b", "a100-80g-sxm", 2, workload(40, 2.5, "fixed:6000", "fixed:128"), {5.0, 0.030});
  p.link = {"0.1 GB/s", 0.1e9, 0};
  const SearchResult r = run_search(p, enumerate(pools_only_space(), context(2)), {});
  ASSERT_TRUE(r.best);
  EXPECT_FALSE(r.candidates[*r.best].deployment.disaggregated);
  ASSERT_EQ(r.neighbours.size(), 1u);
  EXPECT_NE(r.neighbours[0].why.find("TPOT p90"), std::string::npos) << r.neighbours[0].why;
}

TEST(Search, ReusingRunsChangesNothingAgainstTheExhaustiveSearch) {
  const Problem p =
      problem("llama-3-8b", "h100-sxm", 4, workload(100, 60, "lognormal:512:0.6", "lognormal:96:0.6"), {0.3, 0.02});
  Space s = narrow({1, 2}, {4, 8, 32, 128, 512});
  s.disaggregated = true;
  const auto candidates = enumerate(s, context(4));
  const SearchResult pruned = run_search(p, candidates, {true, 2});
  const SearchResult full = run_search(p, candidates, {false, 2});
  EXPECT_GT(pruned.reused, 0u);
  EXPECT_GT(pruned.late, 0u);
  EXPECT_EQ(full.reused + full.late, 0u);
  EXPECT_LT(pruned.simulated, full.simulated);
  EXPECT_EQ(pruned.frontier, full.frontier);
  EXPECT_EQ(pruned.best, full.best);
  ASSERT_EQ(pruned.candidates.size(), full.candidates.size());
  EXPECT_EQ(pruned.closest, full.closest);
  ASSERT_EQ(pruned.neighbours.size(), full.neighbours.size());
  for (std::size_t i = 0; i < full.neighbours.size(); ++i) EXPECT_EQ(pruned.neighbours[i].index, full.neighbours[i].index);
  for (std::size_t i = 0; i < full.candidates.size(); ++i) {
    if (pruned.candidates[i].status == Status::late) {  // stopped early: the full run misses the TTFT target
      EXPECT_FALSE(full.candidates[i].meets_ttft) << i;
      continue;
    }
    EXPECT_EQ(pruned.candidates[i].ttft_p90_s, full.candidates[i].ttft_p90_s) << i;
    EXPECT_EQ(pruned.candidates[i].tpot_p90_s, full.candidates[i].tpot_p90_s) << i;
    EXPECT_EQ(pruned.candidates[i].tokens_per_s_per_gpu, full.candidates[i].tokens_per_s_per_gpu) << i;
  }
}

TEST(Search, DeterministicUnderASeedWhateverTheThreads) {
  const Problem p =
      problem("qwen3-30b-a3b", "h100-sxm", 4, workload(50, 10, "lognormal:512:0.6", "lognormal:64:0.6"), {1, 0.02});
  Space s = narrow({2, 4}, {16, 64});
  s.disaggregated = true;
  SpaceContext c = context(4);
  c.moe = true;
  const auto candidates = enumerate(s, c);
  const Problem copy = p;
  const nlohmann::json one = to_json({p, run_search(p, candidates, {true, 1})});
  nlohmann::json two = to_json({copy, run_search(copy, candidates, {true, 2})});
  two["counts"]["threads"] = one["counts"]["threads"];
  EXPECT_EQ(one, two);
  // Expert-parallel candidates ran and report their all-to-all through the same metrics.
  bool ep = false;
  for (const auto& cand : one["candidates"]) ep = ep || (cand["replicas"]["ep"] == 4 && cand["status"] == "simulated");
  EXPECT_TRUE(ep);
}

TEST(Search, TriesSpeculativeDecodingWithADraft) {
  Problem p = problem("llama-2-70b", "h100-sxm", 4, workload(30, 2, "fixed:512", "fixed:64"), {2, 0.05});
  p.draft = opmodel::resolve_model("llama-2-7b");
  p.accept_rate = 0.8;
  const Space s = narrow({4}, {16});
  SpaceContext c = context(4);
  c.draft = true;
  const SearchResult r = run_search(p, enumerate(s, c), {});
  ASSERT_EQ(r.candidates.size(), 2u);
  EXPECT_FALSE(r.candidates[0].deployment.speculate);
  EXPECT_TRUE(r.candidates[1].deployment.speculate);
  // At light load with 80% acceptance, speculation cuts the time per output token.
  EXPECT_LT(r.candidates[1].tpot_p90_s, r.candidates[0].tpot_p90_s);
  EXPECT_EQ(differences(r.candidates[0].deployment, r.candidates[1].deployment),
            std::vector<std::string>{"speculation"});
}

TEST(Search, RejectsWhatTheDevicesCannotHold) {
  const Problem p = problem("llama-3-70b", "a100-80g-sxm", 2, workload(10, 1, "fixed:256", "fixed:16"), {1, 0.1});
  const SearchResult r = run_search(p, enumerate(narrow({1, 2}, {16}), context(2)), {});
  ASSERT_EQ(r.candidates.size(), 2u);
  EXPECT_EQ(r.candidates[0].status, Status::memory);  // 141 GB of weights on one 80 GB device
  EXPECT_NE(r.candidates[0].reason.find("no room for the KV cache"), std::string::npos) << r.candidates[0].reason;
  EXPECT_EQ(r.memory, 1u);
}

TEST(SearchCli, TableJsonCsvChartAndReport) {
  const std::string dir = temp_dir("search_cli").string();
  std::ofstream(dir + "/space.json") << R"({"tp": [1, 2], "pp": [1], "max_batch": [8, 64], "max_tokens": [2048],
                                           "kv": ["fp16"], "weights": ["checkpoint"]})";
  const std::string base = "search --model llama-3-8b --hw a100-80g-sxm --gpus 2 --requests 30 --rate 4 --isl fixed:512 "
                           "--osl fixed:64 --ttft 1 --tpot 0.02 --space " + dir + "/space.json ";
  const Result table = run(base + "--chart " + dir + "/pareto.svg --html " + dir + "/search.html");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("choice: "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Pareto frontier"), std::string::npos);
  EXPECT_TRUE(std::filesystem::file_size(dir + "/pareto.svg") > 1000);
  std::ifstream html(dir + "/search.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("id=\"search-frontier\""), std::string::npos);
  const Result json = run(base + "--format json");
  ASSERT_EQ(json.code, 0) << json.out;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["candidates"].size(), j["counts"]["candidates"].get<std::size_t>());
  EXPECT_FALSE(j["best"].is_null());
  const Result csv = run(base + "--format csv");
  ASSERT_EQ(csv.code, 0) << csv.out;
  EXPECT_EQ(csv.out.rfind("index,deployment,mode,gpus", 0), 0u);
}

TEST(SearchCli, ErrorsNameTheOptionOrFile) {
  const std::string base = "search --model llama-3-8b --hw a100-80g-sxm --gpus 2 --requests 10 ";
  const Result no_target = run(base + "--tpot 0.02");
  EXPECT_EQ(no_target.code, 2);
  EXPECT_NE(no_target.out.find("--ttft"), std::string::npos) << no_target.out;
  const std::string dir = temp_dir("search_errors").string();
  std::ofstream(dir + "/bad.json") << R"({"tp": [1], "batch": [4]})";
  const Result bad = run(base + "--ttft 1 --tpot 0.02 --space " + dir + "/bad.json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("bad.json"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("'batch'"), std::string::npos) << bad.out;
  const Result link = run(base + "--ttft 1 --tpot 0.02 --kv-link fast");
  EXPECT_EQ(link.code, 2);
  EXPECT_NE(link.out.find("--kv-link"), std::string::npos) << link.out;
  const Result missing = run(base + "--ttft 1 --tpot 0.02 --space " + dir + "/absent.json");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("absent.json"), std::string::npos) << missing.out;
}

}  // namespace
