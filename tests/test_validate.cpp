// roofline validate: the join of measurements to predictions (and its mismatch errors), the cache levels,
// the statistics on data with a known answer, the measured CSV, and a quick end-to-end run of a tiny model.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/model.hpp"
#include "engine/weights.hpp"
#include "opmodel/model_config.hpp"
#include "common/quantile.hpp"
#include "common/text_file.hpp"
#include "roofline/validate/calibration_fit.hpp"
#include "roofline/core/analysis.hpp"
#include "hardware/presets.hpp"
#include "roofline/validate/engine_setup.hpp"
#include "roofline/validate/validation.hpp"
#include "roofline/validate/run.hpp"
#include "roofline/validate/sweep.hpp"
#include "run_roofline.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace roofline;

// A device with round numbers: 1 TFLOP/s fp32, a 1 MB cache at 1 TB/s, 50 GB/s main memory.
hardware::Profile synthetic_profile() {
  hardware::Profile p;
  p.name = "synthetic";
  p.description = "test device";
  p.kind = "cpu";
  p.peak_flops_per_s[static_cast<std::size_t>(hardware::Precision::fp32)] = hardware::Figure{1e12, "test", "", {}, {}, {}, {}};
  p.memory.name = "DRAM";
  p.memory.bytes_per_s = hardware::Figure{5e10, "test", "", {}, {}, {}, {}};
  hardware::MemoryLevel l2;
  l2.name = "L2";
  l2.size_bytes = hardware::Figure{1e6, "test", "", {}, {}, {}, {}};
  l2.bytes_per_s = hardware::Figure{1e12, "test", "", {}, {}, {}, {}};
  p.caches.push_back(l2);
  return p;
}

// The tiny preset timed by the engine at one prefill and one decode shape.
std::vector<Measurement> tiny_measurements(engine::AttentionKind kind) {
  const engine::Config c = engine_config({"tiny", std::nullopt});
  const engine::Weights w = engine::random_weights(c, 1, {});
  engine::Model model(w, kind);
  engine::Probe probe;
  time_engine(model, {{engine::Phase::prefill, 2, 8}, {engine::Phase::decode, 2, 20}}, {0, 2}, probe);
  return measurements_from_records(probe.records);
}

opmodel::Scenario fp32_scenario(opmodel::AttentionImpl a) {
  opmodel::Scenario s;
  s.weight_dtype = s.act_dtype = s.kv_dtype = opmodel::DType::fp32;
  s.attention = a;
  return s;
}

// Repetitions visit every point in turn, so that a slow stretch of the machine spreads over all points; the
// points share one cache, and the decode point still sees its whole context.
TEST(Validate, TimingVisitsThePointsInTurn) {
  const engine::Config c = engine_config({"tiny", std::nullopt});
  const engine::Weights w = engine::random_weights(c, 1, {});
  engine::Model model(w, engine::AttentionKind::tiled);
  engine::Probe probe;
  time_engine(model, {{engine::Phase::prefill, 3, 8}, {engine::Phase::decode, 2, 40}}, {1, 3}, probe);
  std::vector<engine::Phase> visits;  // the phase of each run of records
  for (const auto& r : probe.records) {
    if (visits.empty() || visits.back() != r.phase) visits.push_back(r.phase);
    if (r.phase == engine::Phase::decode) {
      EXPECT_EQ(r.batch, 2);
      EXPECT_EQ(r.kv_len, 40);
    } else {
      EXPECT_EQ(r.batch, 3);
      EXPECT_EQ(r.q_len, 8);
    }
  }
  const std::vector<engine::Phase> want = {engine::Phase::prefill, engine::Phase::decode, engine::Phase::prefill,
                                           engine::Phase::decode, engine::Phase::prefill, engine::Phase::decode};
  EXPECT_EQ(visits, want);
}

TEST(Validate, JoinsEveryEngineOpToItsPrediction) {
  const opmodel::ModelConfig m = opmodel::resolve_model("tiny");
  for (auto [kind, impl] : {std::pair{engine::AttentionKind::tiled, opmodel::AttentionImpl::flash},
                            std::pair{engine::AttentionKind::naive, opmodel::AttentionImpl::naive}}) {
    const auto measured = tiny_measurements(kind);
    const auto rows = validate_ops(m, fp32_scenario(impl), synthetic_profile(), measured);
    ASSERT_EQ(rows.size(), measured.size());
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (const auto& r : rows) {
      seen.insert({r.op, r.step.kv_len});
      EXPECT_EQ(r.step.batch, 2);
      // 2 repetitions x 2 layers, or x 1 for the per-step ops.
      const bool per_step = r.op == "embed" || r.op == "final_norm" || r.op == "lm_head";
      EXPECT_EQ(r.measured_s.samples, per_step ? 2 : 4) << r.op;
      EXPECT_GT(r.predicted_s, 0) << r.op;
      EXPECT_LE(r.predicted_s, r.main_memory_predicted_s * (1 + 1e-12)) << r.op;  // caches only help
      EXPECT_NEAR(r.roof_fraction, r.predicted_s / r.measured_s.median, 1e-12);
    }
    EXPECT_EQ(seen.size(), rows.size());
    const auto prefill = std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.step.phase == Phase::prefill; });
    EXPECT_EQ(prefill, std::int64_t(rows.size()) / 2);
  }
}

TEST(Validate, AnOpOnOneSideOnlyIsAnError) {
  const opmodel::ModelConfig m = opmodel::resolve_model("tiny");
  auto measured = tiny_measurements(engine::AttentionKind::tiled);
  // Measured with flash attention, predicted with naive: attention is unpredicted, qk_matmul unmeasured.
  const std::string wrong_impl = error_of(
      [&] { validate_ops(m, fp32_scenario(opmodel::AttentionImpl::naive), synthetic_profile(), measured); });
  EXPECT_NE(wrong_impl.find("'attention' was measured but opmodel has no such op"), std::string::npos) << wrong_impl;
  EXPECT_NE(wrong_impl.find("opmodel predicts 'qk_matmul' but it was not measured"), std::string::npos) << wrong_impl;
  measured.erase(std::find_if(measured.begin(), measured.end(), [](const auto& x) { return x.op == "rope"; }));
  const std::string missing = error_of(
      [&] { validate_ops(m, fp32_scenario(opmodel::AttentionImpl::flash), synthetic_profile(), measured); });
  EXPECT_NE(missing.find("'rope' but it was not measured"), std::string::npos) << missing;
  EXPECT_THROW(validate_ops(m, fp32_scenario(opmodel::AttentionImpl::flash), synthetic_profile(), measured),
               ValidationError);
}

TEST(Validate, LevelsAndTheBoundOfOneOp) {
  const hardware::Profile p = synthetic_profile();
  EXPECT_EQ(level_for(p, 1e6).name, "L2");
  EXPECT_EQ(level_for(p, 1e6 + 1).name, "DRAM");
  EXPECT_DOUBLE_EQ(level_for(p, 2e6).bytes_per_s, 5e10);
  // A gemm of tiny at 64 tokens: weights (the whole step's, a few hundred KB) and activations both in L2.
  const opmodel::ModelConfig m = opmodel::resolve_model("tiny");
  Measurement x{"", {Phase::prefill, 1, 64, 0}, {1e-6}};
  std::vector<Measurement> all;
  opmodel::Scenario s = fp32_scenario(opmodel::AttentionImpl::flash);
  for (const char* op : {"embed", "attn_norm", "q_proj", "k_proj", "v_proj", "rope", "attention", "o_proj", "attn_add",
                         "mlp_norm", "gate_proj", "up_proj", "act_mul", "down_proj", "mlp_add", "final_norm", "lm_head"}) {
    x.op = op;
    all.push_back(x);
  }
  const auto rows = validate_ops(m, s, p, all);
  const auto q = std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.op == "q_proj"; });
  ASSERT_NE(q, rows.end());
  // q_proj: 2*64*64*64 FLOP at 1e12 = 524 ns; 64*64*4 weights + 2*64*64*4 activations at 1e12 = 49 ns.
  EXPECT_EQ(q->kind, ValidationKind::gemm);
  EXPECT_NEAR(q->predicted_s, 2.0 * 64 * 64 * 64 / 1e12, 1e-15);
  EXPECT_EQ(q->predicted_bound, Bound::compute);
  EXPECT_EQ(q->stream_level, "L2");
  EXPECT_NEAR(q->main_memory_predicted_s, 3 * 64 * 64 * 4 / 5e10, 1e-15);  // analyze: memory-bound from DRAM
  EXPECT_EQ(q->main_memory_bound, Bound::memory);
  EXPECT_NEAR(q->achieved_flops_per_s, 2.0 * 64 * 64 * 64 / 1e-6, 1);
  EXPECT_EQ(q->binding, Bound::compute);
}

ValidationRow synthetic_row(double predicted, double measured, Bound analyze, Bound binding) {
  ValidationRow r;
  r.op = "q_proj";
  r.kind = ValidationKind::gemm;
  r.predicted_s = predicted;
  r.measured_s = spread_of({measured});
  r.roof_fraction = predicted / measured;
  r.main_memory_bound = analyze;
  r.binding = binding;
  return r;
}

TEST(Validate, StatisticsOnAKnownAnswer) {
  EXPECT_DOUBLE_EQ(common::quantile({3, 1, 2}, 0.5), 2);
  EXPECT_DOUBLE_EQ(common::quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(common::quantile({0, 10}, 0.9), 9);
  const Spread s = spread_of({5, 1, 3, 2, 4});
  EXPECT_EQ(s.samples, 5);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  // Errors of +10%, +20%, ..., +100% (|err| median 55%, p90 91%); 3 of 10 bounds agree.
  std::vector<ValidationRow> rows;
  for (int i = 1; i <= 10; ++i)
    rows.push_back(synthetic_row(1 + 0.1 * i, 1, Bound::memory, i <= 3 ? Bound::memory : Bound::compute));
  rows.back().step.phase = Phase::decode;
  const auto stats = statistics(rows);
  const auto all = std::find_if(stats.begin(), stats.end(), [](const auto& g) { return g.kind == "all" && g.phase == "all"; });
  ASSERT_NE(all, stats.end());
  EXPECT_EQ(all->ops, 10);
  EXPECT_NEAR(all->median_abs_error, 0.55, 1e-12);
  EXPECT_NEAR(all->p90_abs_error, 0.91, 1e-12);
  EXPECT_NEAR(all->bound_agreement, 0.3, 1e-12);
  EXPECT_NEAR(all->median_roof_fraction, 1.55, 1e-12);
  EXPECT_FALSE(all->expected_median_abs_error.has_value());
  const auto decode = std::find_if(stats.begin(), stats.end(), [](const auto& g) { return g.kind == "gemm" && g.phase == "decode"; });
  ASSERT_NE(decode, stats.end());
  EXPECT_EQ(decode->ops, 1);
  EXPECT_NEAR(decode->median_abs_error, 1.0, 1e-12);
  EXPECT_NEAR(decode->bound_agreement, 0, 1e-12);
}

TEST(Validate, MeasuredCsv) {
  const auto ms = parse_measured_csv(
      "op,phase,batch,q_len,kv_len,seconds\nq_proj,decode,4,1,128,2e-6\nq_proj,decode,4,1,128,4e-6\n\n"
      "q_proj,prefill,1,512,0,1e-4\n", "t.csv");
  ASSERT_EQ(ms.size(), 2u);
  const auto& d = ms[0].step.phase == Phase::decode ? ms[0] : ms[1];
  EXPECT_EQ(d.step.batch, 4);
  EXPECT_EQ(d.step.kv_len, 128);
  EXPECT_EQ(d.seconds.size(), 2u);
  EXPECT_NE(error_of([] { parse_measured_csv("op,phase,seconds\n", "t.csv"); }).find("t.csv:1: expected the header"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_measured_csv("op,phase,batch,q_len,kv_len,seconds\nq_proj,decode,4,1,128,x\n", "t.csv"); })
                .find("t.csv:2: 'x' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_measured_csv("op,phase,batch,q_len,kv_len,seconds\nq_proj,train,4,1,128,1\n", "t.csv"); })
                .find("phase 'train'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_measured_csv("op,phase,batch,q_len,kv_len,seconds\nq_proj,decode,0,1,128,1\n", "t.csv"); })
                .find("integer >= 1"),
            std::string::npos);
  EXPECT_THROW(parse_measured_csv("op,phase,batch,q_len,kv_len,seconds\n", "t.csv"), ValidationError);
}

TEST(ValidateCommand, TinyModelEndToEndAndMeasuredCsv) {
  const fs::path dir = temp_dir("validate");
  const fs::path hw = dir / "hw.json";
  std::ofstream(hw) << hardware::to_json(synthetic_profile()).dump(2);
  const Result r = run("validate --model tiny --hw " + hw.string() +
                       " --prompt 16 --kv-len 32 --batch 2 --repetitions 2 --threads 1 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ops"].size(), 34u);  // 17 ops of tiny with flash attention, in each phase
  EXPECT_NE(j["cache_treatment"].get<std::string>().find("hierarchical"), std::string::npos);
  for (const auto& op : j["ops"]) {
    EXPECT_GT(op["measured_median_s"].get<double>(), 0);
    EXPECT_LE(op["measured_min_s"].get<double>(), op["measured_median_s"].get<double>());
  }
  EXPECT_FALSE(j["statistics"].empty());

  // The same shapes measured elsewhere: a CSV with every op, then one without rope.
  std::string csv = "op,phase,batch,q_len,kv_len,seconds\n";
  for (const auto& op : j["ops"])
    csv += op["op"].get<std::string>() + "," + op["phase"].get<std::string>() + "," +
           std::to_string(op["batch"].get<int>()) + "," + std::to_string(op["q_len"].get<int>()) + "," +
           std::to_string(op["kv_len"].get<int>()) + ",1e-6\n";
  std::ofstream(dir / "times.csv") << csv;
  const Result ext = run("validate --model tiny --hw " + hw.string() + " --measured " + (dir / "times.csv").string() +
                         " --format csv -o " + (dir / "out.csv").string());
  ASSERT_EQ(ext.code, 0) << ext.out;
  std::ifstream out(dir / "out.csv");
  std::string header;
  std::getline(out, header);
  EXPECT_EQ(header.rfind("op,weight_dtype,kind,phase,batch", 0), 0u);
  std::string no_rope;
  std::stringstream lines(csv);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("rope,", 0) != 0) no_rope += line + "\n";
  std::ofstream(dir / "partial.csv") << no_rope;
  const Result bad = run("validate --model tiny --hw " + hw.string() + " --measured " + (dir / "partial.csv").string() +
                         " -o " + (dir / "bad.txt").string());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("'rope' but it was not measured"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(dir / "bad.txt"));  // no partial output
  EXPECT_EQ(run("validate --model tiny --format xml").code, 2);
  fs::remove_all(dir);
}

// --fuse add_norm: the engine runs each residual add inside the next RMSNorm and opmodel predicts the same op, so
// every timed op joins a prediction; the engine cannot run the other fusions.
TEST(ValidateCommand, FusedAddNormJoinsTheEnginesFusedOp) {
  const fs::path dir = temp_dir("validate_fuse");
  const fs::path hw = dir / "hw.json";
  std::ofstream(hw) << hardware::to_json(synthetic_profile()).dump(2);
  const std::string args = "validate --model tiny --hw " + hw.string() +
                           " --prompt 16 --kv-len 32 --repetitions 1 --threads 1 --format json";
  const Result r = run(args + " --fuse add_norm");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  std::set<std::string> ops;
  for (const auto& op : j["ops"]) ops.insert(op["op"].get<std::string>());
  EXPECT_TRUE(ops.count("add_norm"));
  EXPECT_TRUE(ops.count("attn_norm"));  // the first layer's, whose input is the embedding
  for (const char* gone : {"attn_add", "mlp_add", "mlp_norm", "final_norm"}) EXPECT_FALSE(ops.count(gone)) << gone;
  EXPECT_EQ(j["ops"].size(), 28u);  // 17 ops less attn_add, mlp_norm, mlp_add, final_norm, plus add_norm: 14 a phase
  EXPECT_NE(j["scenario"].get<std::string>().find("fused: add_norm"), std::string::npos) << j["scenario"];
  const Result qkv = run(args + " --fuse qkv -o " + (dir / "out.json").string());
  EXPECT_EQ(qkv.code, 2);
  EXPECT_NE(qkv.out.find("--fuse"), std::string::npos) << qkv.out;
  EXPECT_NE(qkv.out.find("unfused"), std::string::npos) << qkv.out;
  EXPECT_FALSE(fs::exists(dir / "out.json"));
  const Result unknown = run(args + " --fuse rope");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.out.find("unknown fusion 'rope'"), std::string::npos) << unknown.out;
  fs::remove_all(dir);
}

}  // namespace

namespace {

// Rows whose measured time is exactly a planted achievable roofline: GEMM on both sides of the ridge
// (compute 60%, memory 80% of the roofs, 2 us per call), and an element-wise op with only memory time.
TEST(Calibration, FitRecoversPlantedEfficienciesAndOverhead) {
  std::vector<ValidationRow> rows;
  for (int i = 1; i <= 20; ++i) {
    ValidationRow g = synthetic_row(0, 1, Bound::memory, Bound::memory);
    g.compute_s = 1e-7 * i * i;
    g.memory_s = 2e-6 * i;  // the ridge lies between i = 16 and i = 17 after scaling
    g.measured_s = spread_of({2e-6 + std::max(g.compute_s / 0.6, g.memory_s / 0.8)});
    g.weights = g.kernel_weights = "fp32";
    rows.push_back(g);
    ValidationRow e = g;
    e.kind = ValidationKind::elementwise;
    e.op = "rope";
    e.compute_s = 1e-9 * i;
    e.memory_s = 1e-6 * i;
    e.measured_s = spread_of({e.memory_s / 0.7});
    rows.push_back(e);
  }
  const Calibration c = fit_calibration(rows, "planted");
  EXPECT_EQ(c.source, "planted");
  ASSERT_EQ(c.fits.size(), 2u);
  const auto* g = c.find({ValidationKind::gemm, "q_proj", "fp32", "prefill"});
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->weights, "fp32");
  EXPECT_EQ(g->phase, "prefill");
  EXPECT_EQ(g->op, "");  // one GEMM kernel for every projection
  EXPECT_NEAR(g->compute_efficiency, 0.6, 1e-4);
  EXPECT_NEAR(g->memory_efficiency, 0.8, 1e-4);
  EXPECT_NEAR(g->overhead_s, 2e-6, 1e-9);
  EXPECT_EQ(g->points, 20);
  const auto* e = c.find({ValidationKind::elementwise, "rope", "fp32", "prefill"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->op, "rope");
  EXPECT_NEAR(e->memory_efficiency, 0.7, 1e-4);
  EXPECT_NEAR(e->overhead_s, 0, 1e-10);
  EXPECT_NEAR(e->compute_efficiency, 1, 1e-3);  // no row depends on it: held at 1
  EXPECT_EQ(c.find({ValidationKind::elementwise, "act_mul", "fp32", "prefill"}), nullptr);
  EXPECT_EQ(c.find({ValidationKind::gemm, "q_proj", "fp32", "decode"}), nullptr);
  EXPECT_EQ(c.find({ValidationKind::attention, "attention", "fp32", "prefill"}), nullptr);
  apply_calibration(c, rows);
  for (const auto& s : statistics(rows)) {
    ASSERT_TRUE(s.expected_median_abs_error.has_value());
    EXPECT_LT(*s.expected_p90_abs_error, 1e-3);
  }
}

// MLA's absorbed projections (a product per head) and the MoE router (a GEMV, then top-k and grouping) are fitted
// apart from the one GEMV the dense projections share: planted at other efficiencies, each gets its own fit back, and
// the dense projections keep theirs.
TEST(Calibration, CompositeProjectionsGetFitsOfTheirOwn) {
  std::vector<ValidationRow> rows;
  const std::vector<std::pair<std::string, double>> planted = {{"q_proj", 0.8}, {"o_proj", 0.8}, {"q_absorb", 0.3},
                                                               {"o_absorb", 0.25}, {"router", 0.4}};
  for (const auto& [op, efficiency] : planted)
    for (int i = 1; i <= 12; ++i) {
      ValidationRow r = synthetic_row(0, 1, Bound::memory, Bound::memory);
      r.kind = ValidationKind::gemv;
      r.op = op;
      r.step.phase = Phase::decode;
      r.compute_s = 1e-9 * i;
      r.memory_s = 1e-6 * i;
      r.measured_s = spread_of({r.memory_s / efficiency});
      r.weights = r.kernel_weights = "fp32";
      rows.push_back(r);
    }
  const Calibration c = fit_calibration(rows, "planted");
  EXPECT_EQ(c.fits.size(), 4u);  // the dense projections' one, and one each for the three composites
  for (const auto& [op, efficiency] : planted) {
    const auto* f = c.find({ValidationKind::gemv, op, "fp32", "decode"});
    ASSERT_NE(f, nullptr) << op;
    EXPECT_NEAR(f->memory_efficiency, efficiency, 1e-4) << op;
    EXPECT_EQ(f->op, op == "q_proj" || op == "o_proj" ? "" : op);
  }
  EXPECT_EQ(c.find({ValidationKind::gemv, "k_proj", "fp32", "decode"})->op, "");
}

}  // namespace

namespace {

TEST(Sweep, PlanSkipsOverBudgetDecodeAndAlternatesHalves) {
  // 1 KiB of K and V per token, a 1 MiB budget: batch x (context + 1) <= 1024 tokens.
  const SweepPlan plan = sweep_plan(1024, 1 << 20);
  std::int64_t decode = 0;
  for (const EnginePoint& p : plan.points)
    if (p.phase == engine::Phase::decode) {
      ++decode;
      EXPECT_LE(p.batch * (p.length + 1), 1024) << p.batch << " x " << p.length;
    }
  EXPECT_EQ(decode, 3 + 1);  // batch 1: 128, 256, 512 (1025 > 1024); batch 4: 128 (4 x 129 <= 1024 < 4 x 257)
  EXPECT_EQ(plan.points.size() + plan.skipped.size(), 14u + 28u);
  for (const EnginePoint& p : plan.skipped) EXPECT_EQ(p.phase, engine::Phase::decode);
  EXPECT_EQ(plan.held_out.size(), plan.points.size() / 2);
  for (std::size_t i = 0; i < plan.points.size(); ++i)
    EXPECT_EQ(plan.is_held_out(step_key(plan.points[i])), i % 2 == 1) << i;
  const StepKey k = step_key({engine::Phase::decode, 4, 128});
  EXPECT_EQ(k.q_len, 1);
  EXPECT_EQ(k.kv_len, 128);
}

// A calibration with every fit at half the roofs plus 1 us: each op's expectation is 1 us + 2 x its
// hierarchical roof time, and the step total is their count-weighted sum.
TEST(Calibration, AnalyzeExpectsWhatTheFitSays) {
  hardware::Profile p = synthetic_profile();
  hardware::Calibration c;
  for (hardware::KernelClass k : hardware::kKernelClasses) c.fits.push_back({k, "", "", "", 0.5, 0.5, 1e-6, 1});
  p.calibration = c;
  const opmodel::ModelConfig m = opmodel::resolve_model("tiny");
  AnalysisRequest req;
  req.scenario = fp32_scenario(opmodel::AttentionImpl::flash);
  req.scenario.batch = 2;
  req.prompt = 16;
  req.gen = 3;
  const Analysis a = analyze(m, p, req);
  ASSERT_EQ(a.expected.size(), a.steps.size());
  const StepResult& st = a.steps.front();
  const double stream = step_stream_bytes(st);
  double total = 0;
  for (std::size_t i = 0; i < st.op_count; ++i) {
    const OpPoint& op = st.ops[i];
    const HierarchicalTimes t = hierarchical_times(op.cost, Roofs::of(p).peak(op.precision), stream, p);
    ASSERT_TRUE(a.expected.front().op_s[i].has_value()) << op.cost.name;
    EXPECT_NEAR(*a.expected.front().op_s[i], 1e-6 + 2 * std::max(t.compute_s, t.memory_s), 1e-15) << op.cost.name;
    total += double(op.cost.count) * *a.expected.front().op_s[i];
  }
  ASSERT_TRUE(a.expected.front().total_s.has_value());
  EXPECT_NEAR(*a.expected.front().total_s, total, 1e-12);
  ASSERT_TRUE(a.whole_request && a.whole_request->expected_ttft_s && a.whole_request->expected_tpot_s);
  EXPECT_NEAR(*a.whole_request->expected_ttft_s, total, 1e-12);
  EXPECT_GT(*a.whole_request->expected_tpot_s, a.whole_request->tpot_s);
  // Without a fit for the attention, that op has none and the step no total.
  p.calibration->fits.erase(p.calibration->fits.begin() + 2);
  const Analysis partial = analyze(m, p, req);
  EXPECT_FALSE(partial.expected.front().total_s.has_value());
  EXPECT_FALSE(partial.whole_request->expected_ttft_s.has_value());
  p.calibration.reset();
  EXPECT_TRUE(analyze(m, p, req).expected.empty());
}

TEST(ValidateCommand, SweepStoresTheCalibrationInTheProfileAndAnalyzeUsesIt) {
  const fs::path dir = temp_dir("sweep");
  const fs::path hw = dir / "hw.json", cal = dir / "calibrated.json";
  std::ofstream(hw) << hardware::to_json(synthetic_profile()).dump(2);
  EXPECT_EQ(run("validate --model tiny --hw " + hw.string() + " --save-profile " + cal.string()).code, 2);
  EXPECT_FALSE(fs::exists(cal));
  const Result budget = run("validate --model tiny --hw " + hw.string() + " --sweep --sweep-kv-gib 0 -o " + cal.string());
  EXPECT_EQ(budget.code, 2);
  EXPECT_NE(budget.out.find("'--sweep-kv-gib': must be in"), std::string::npos) << budget.out;
  EXPECT_EQ(run("validate --model tiny --hw " + hw.string() + " --sweep --point-seconds -1").code, 2);
  // tiny's layers are 64 wide: the default group of 128 is refused before the fp32 pass, not after it.
  const Result group = run("validate --model tiny --hw " + hw.string() + " --sweep -o " + cal.string());
  EXPECT_EQ(group.code, 2);
  EXPECT_NE(group.out.find("'--group-size': 128 does not fit the int8 pass"), std::string::npos) << group.out;
  EXPECT_EQ(group.out.find("fp32 weights"), std::string::npos) << group.out;
  EXPECT_FALSE(fs::exists(cal));
  const Result r = run("validate --model tiny --hw " + hw.string() + " --sweep --group-size 16 --repetitions 1 " +
                       "--warmup 0 --point-seconds 0 --threads 1 --format json --save-profile " + cal.string() +
                       " -o " + (dir / "sweep.json").string());
  ASSERT_EQ(r.code, 0) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("validate --sweep: int8 weights, 42 shapes... done"), std::string::npos) << r.out;  // progress
  const auto j = nlohmann::json::parse(std::ifstream(dir / "sweep.json"));
  std::set<std::string> halves;
  for (const auto& op : j["ops"]) halves.insert(op["half"].get<std::string>());
  EXPECT_EQ(halves, (std::set<std::string>{"fit", "held-out"}));
  ASSERT_TRUE(j.contains("calibration"));
  EXPECT_FALSE(j["held_out_statistics"].empty());
  const hardware::Profile p = hardware::load_profile_file(cal.string());
  ASSERT_TRUE(p.calibration.has_value());
  EXPECT_EQ(hardware::to_json(*p.calibration), j["calibration"]);
  EXPECT_NE(p.calibration->find({hardware::KernelClass::gemv, "q_proj", "int8", "decode"}), nullptr);
  const Result a = run("analyze --model tiny --hw " + cal.string() +
                       " --prompt 64 --gen 4 --wdtype fp32 --adtype fp32 --kvdtype fp32 --format json");
  ASSERT_EQ(a.code, 0) << a.out;
  const auto aj = nlohmann::json::parse(a.out);
  EXPECT_GT(aj["request"]["expected_ttft_s"].get<double>(), 0);
  EXPECT_GT(aj["phases"][0]["ops"][0]["expected_s"].get<double>(), 0);
  const Result table = run("analyze --model tiny --hw " + cal.string() + " --prompt 64 --gen 4 --wdtype fp32 " +
                           "--adtype fp32 --kvdtype fp32");
  EXPECT_NE(table.out.find("expected (calibrated): TTFT"), std::string::npos) << table.out;
  const std::string sim = "simulate --model tiny --kv-blocks 64 --batch 2 --prompt 64 --gen 5 --wdtype fp32 --adtype fp32 --kvdtype fp32 --time-model ";
  const Result calibrated = run(sim + "calibrated --hw " + cal.string());
  ASSERT_EQ(calibrated.code, 0) << calibrated.out;
  EXPECT_NE(calibrated.out.find("op times: calibrated expectations"), std::string::npos) << calibrated.out;
  EXPECT_EQ(run(sim + "guess --hw " + cal.string()).code, 2);
  const Result no_calibration = run(sim + "calibrated --hw " + hw.string());
  EXPECT_EQ(no_calibration.code, 1) << no_calibration.out;
  EXPECT_NE(no_calibration.out.find("'calibration': is required"), std::string::npos) << no_calibration.out;
  const fs::path html = dir / "report.html";
  const Result report = run("report --model tiny --hw " + cal.string() + " --prompt 64 --gen 4 --wdtype fp32 " +
                            "--adtype fp32 --kvdtype fp32 -o " + html.string());
  ASSERT_EQ(report.code, 0) << report.out;
  std::stringstream page;
  page << std::ifstream(html).rdbuf();
  EXPECT_NE(page.str().find("Expected (calibrated)"), std::string::npos);
  EXPECT_NE(page.str().find("<th class=\"r\">expected</th>"), std::string::npos);
  fs::remove_all(dir);
}

// Times measured elsewhere calibrate their profile: a CSV whose times follow a planted achievable roofline
// (compute at 50%, memory at 80% of the roofs, 3 us a call) is fitted on half its shapes and predicts the
// other half exactly.
TEST(ValidateCommand, MeasuredTimesCalibrateTheirProfile) {
  const fs::path dir = temp_dir("measured_cal");
  const fs::path hw = dir / "hw.json", cal = dir / "cal.json";
  std::ofstream(hw) << hardware::to_json(synthetic_profile()).dump(2);
  const std::vector<std::string> ops = {"embed", "attn_norm", "q_proj", "k_proj", "v_proj", "rope", "attention",
                                        "o_proj", "attn_add", "mlp_norm", "gate_proj", "up_proj", "act_mul",
                                        "down_proj", "mlp_add", "final_norm", "lm_head"};
  std::vector<std::string> shapes;
  for (int q : {4, 8, 12, 16, 24, 32, 48, 64}) shapes.push_back("prefill,1," + std::to_string(q) + ",0");
  for (int kv : {8, 16, 32, 64, 128, 256, 512, 1024}) shapes.push_back("decode,1,1," + std::to_string(kv));
  auto csv_with = [&](const std::function<double(const std::string&, const std::string&)>& seconds) {
    std::string csv = "op,phase,batch,q_len,kv_len,seconds\n";
    for (const auto& shape : shapes)
      for (const auto& op : ops) csv += fmt::format("{},{},{:.17g}\n", op, shape, seconds(op, shape));
    return csv;
  };
  std::ofstream(dir / "dummy.csv") << csv_with([](const std::string&, const std::string&) { return 1e-6; });
  const std::string base = "validate --model tiny --hw " + hw.string() + " --measured ";
  ASSERT_EQ(run(base + (dir / "dummy.csv").string() + " --format json -o " + (dir / "roofs.json").string()).code, 0);
  std::map<std::string, double> planted;
  const auto roofs = nlohmann::json::parse(std::ifstream(dir / "roofs.json"));
  for (const auto& op : roofs["ops"])
    planted[fmt::format("{},{},{},{},{}", op["op"].get<std::string>(), op["phase"].get<std::string>(),
                        op["batch"].get<int>(), op["q_len"].get<int>(), op["kv_len"].get<int>())] =
        3e-6 + std::max(op["compute_s"].get<double>() / 0.5, op["memory_s"].get<double>() / 0.8);
  std::ofstream(dir / "planted.csv") << csv_with(
      [&](const std::string& op, const std::string& shape) { return planted.at(op + "," + shape); });
  const Result r = run(base + (dir / "planted.csv").string() + " --format json --save-profile " + cal.string() +
                       " -o " + (dir / "out.json").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(std::ifstream(dir / "out.json"));
  bool judged = false;
  for (const auto& g : j["held_out_statistics"]) {
    if (g["kind"] != "all" || g["phase"] != "all") continue;
    judged = true;
    EXPECT_LT(g["expected_p90_abs_error"].get<double>(), 1e-3) << g;
  }
  EXPECT_TRUE(judged);
  const hardware::Profile p = hardware::load_profile_file(cal.string());
  ASSERT_TRUE(p.calibration.has_value());
  const auto* gemm = p.calibration->find({hardware::KernelClass::gemm, "q_proj", "fp32", "prefill"});
  ASSERT_NE(gemm, nullptr);
  EXPECT_NEAR(gemm->overhead_s, 3e-6, 1e-8);
  // One step shape cannot be split into a fit half and a held-out half.
  std::ofstream(dir / "one.csv") << "op,phase,batch,q_len,kv_len,seconds\nq_proj,decode,1,1,8,1e-6\n";
  const Result one = run(base + (dir / "one.csv").string() + " --save-profile " + (dir / "x.json").string());
  EXPECT_EQ(one.code, 2) << one.out;
  EXPECT_NE(one.out.find("two or more step shapes"), std::string::npos) << one.out;
  EXPECT_FALSE(fs::exists(dir / "x.json"));
  fs::remove_all(dir);
}

}  // namespace

// --layers keeps a config's per-layer lists consistent (GPT-OSS's layer_types, Llama 4's no_rope_layers, Qwen's
// mlp_only_layers), so a reduced model still parses.
TEST(EngineSetup, ALayerCountOverrideTrimsThePerLayerLists) {
  nlohmann::json j;
  for (const auto& f : opmodel::embedded_files())
    if (f.name == "gpt-oss-20b") j = nlohmann::json::parse(f.text);
  ASSERT_TRUE(j.is_object());
  roofline::set_layer_count(j, 2);
  EXPECT_EQ(j["layer_types"].size(), 2u);
  const auto m = opmodel::parse_model_config(j, "g", "g.json");
  EXPECT_EQ(m.num_layers, 2);
  EXPECT_EQ(m.local_layers, 1);
  nlohmann::json q = {{"num_hidden_layers", 8}, {"mlp_only_layers", {0, 5, 7}}};
  roofline::set_layer_count(q, 6);
  EXPECT_EQ(q["mlp_only_layers"], nlohmann::json::array({0, 5}));
  nlohmann::json wrapped = {{"model_type", "llama4"},
                            {"text_config", {{"hidden_size", 8}, {"no_rope_layers", {1, 1, 1, 0}}}}};
  roofline::set_layer_count(wrapped, 3);
  EXPECT_EQ(wrapped["text_config"]["num_hidden_layers"], 3);
  EXPECT_EQ(wrapped["text_config"]["no_rope_layers"].size(), 3u);
}
