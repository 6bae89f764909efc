// Charts: rendered files are valid, their data hold the analysis's exact values, every preset renders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "roofline/charts.hpp"

namespace fs = std::filesystem;
using namespace roofline;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Analysis analysis(const std::string& hw, opmodel::DType dt = opmodel::DType::fp16) {
  AnalysisRequest r;
  r.scenario.batch = 8;
  r.scenario.weight_dtype = r.scenario.act_dtype = r.scenario.kv_dtype = dt;
  r.prompt = 1024;
  return analyze(opmodel::resolve_model("llama-2-7b"), hardware::preset(hw), r);
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("roofline_charts_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(Charts, PngIsValidAndDataHoldExactValues) {
  TempDir dir;
  const Analysis a = analysis("a100-80g-sxm");
  const auto files = reports::render(roofline_chart(a), (dir.path / "roofline.png").string());
  const std::string png = slurp(files.image);
  ASSERT_GT(png.size(), 10000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string data = slurp(files.data);
  // Ceilings at the profile's numbers, slopes at its bandwidths, each op at its exact intensity.
  EXPECT_NE(data.find(" 312000000000000\n"), std::string::npos);
  EXPECT_NE(data.find("# slope HBM2e 2.04 TB/s"), std::string::npos);
  EXPECT_NE(data.find(fmt::format("{:.17g} 312000000000000", 312e12 / 2039e9)), std::string::npos);  // ridge
  for (const StepResult& st : a.steps)
    for (const OpPoint& p : st) {
      if (p.intensity <= 0) continue;  // embed: no FLOPs, not on a log axis
      const std::string row = fmt::format("{:.17g} {:.17g} \"{}\"", p.intensity, p.attainable_flops_per_s, p.cost.name);
      EXPECT_NE(data.find(row), std::string::npos) << p.cost.name;
    }
  const std::string script = slurp(files.script);
  EXPECT_NE(script.find("set output 'roofline.png'"), std::string::npos);
  EXPECT_NE(script.find("'roofline.dat' index"), std::string::npos);
  EXPECT_NE(script.find("set logscale xy"), std::string::npos);
  // Nothing temporary is left beside the outputs.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) entries += e.path().filename().string().rfind(".~", 0) != 0;
  EXPECT_EQ(entries, 3u);
}

TEST(Charts, SvgParsesAndComparisonAndSweepRender) {
  TempDir dir;
  const Analysis a = analysis("a100-80g-sxm");
  auto chart = roofline_chart(a, {hardware::preset("h100-sxm"), hardware::preset("mi300x")});
  add_batch_sweep(chart, a, 64);
  EXPECT_EQ(chart.lines.size(), 9u);  // 7 projections, lm_head and attention, each joined across 7 batches
  const auto files = reports::render(chart, (dir.path / "compare.svg").string());
  const std::string svg = slurp(files.image);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("mi300x fp16 1.31 PFLOP/s"), std::string::npos);
  EXPECT_NE(svg.find("h100-sxm HBM3 3.35 TB/s"), std::string::npos);
}

TEST(Charts, EveryPresetProfileRenders) {
  TempDir dir;
  for (const auto& name : hardware::preset_names()) {
    const auto& hw = hardware::preset(name);
    const auto dt = hw.peak(hardware::Precision::fp16)   ? opmodel::DType::fp16
                    : hw.peak(hardware::Precision::bf16) ? opmodel::DType::bf16
                                                         : opmodel::DType::fp32;
    const auto files = reports::render(roofline_chart(analysis(name, dt)), (dir.path / (name + ".png")).string());
    EXPECT_GT(fs::file_size(files.image), 10000u) << name;
  }
}

TEST(Charts, BadPathsAreErrorsAndLeaveNothing) {
  TempDir dir;
  const auto chart = roofline_chart(analysis("l4"));
  EXPECT_THROW(reports::render(chart, (dir.path / "chart.jpg").string()), reports::ChartError);
  EXPECT_THROW(reports::render(chart, (dir.path / "missing" / "chart.png").string()), reports::ChartError);
  EXPECT_TRUE(fs::is_empty(dir.path));
}

TEST(Charts, BreakdownBatchContextAndMemoryChartsHoldTheAnalysisValues) {
  TempDir dir;
  const Analysis a = analysis("a100-80g-sxm");
  // Breakdown: each bar sums to 100% of its phase.
  const auto bars = breakdown_chart(a);
  ASSERT_EQ(bars.categories.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    double sum = 0;
    for (const auto& seg : bars.segments) sum += seg.values[i];
    EXPECT_NEAR(sum, 100.0, 1e-9);
  }
  const auto bar_files = reports::render(bars, (dir.path / "breakdown.svg").string());
  EXPECT_NE(slurp(bar_files.image).find("</svg>"), std::string::npos);
  EXPECT_NE(slurp(bar_files.data).find("\"q_proj\""), std::string::npos);

  // Batch: the point at batch 8 is the analysis's own decode step.
  const auto batch = batch_chart(a, 64);
  ASSERT_EQ(batch.series[0].points.size(), 7u);
  EXPECT_DOUBLE_EQ(batch.series[0].points[3].second, 1e3 * a.steps[1].time_s);
  EXPECT_DOUBLE_EQ(batch.series[1].points[3].second, 8 / a.steps[1].time_s);
  EXPECT_EQ(batch.vertical.size(), 1u);  // the compute-bound batch is marked
  const auto batch_files = reports::render(batch, (dir.path / "batch.png").string());
  EXPECT_NE(slurp(batch_files.data).find(fmt::format("8 {:.17g}", 1e3 * a.steps[1].time_s)), std::string::npos);

  // Context: at 1024 cached tokens the step is the analysis's decode step (batch 8, kv_len = prompt).
  const auto context = context_chart(a, 4096);
  EXPECT_DOUBLE_EQ(context.series[0].points[3].first, 1024);
  EXPECT_DOUBLE_EQ(context.series[0].points[3].second, 1e3 * a.steps[1].time_s);
  reports::render(context, (dir.path / "context.png").string());

  // Memory: weights constant, KV linear in batch, capacity and the largest fitting batch marked.
  const auto memory = memory_chart(a, 256);
  EXPECT_DOUBLE_EQ(memory.series[1].points[3].second, a.memory.kv_cache_bytes / 1e9);  // batch 8
  ASSERT_EQ(memory.horizontal.size(), 1u);
  EXPECT_DOUBLE_EQ(memory.horizontal[0].at, 80.0);
  ASSERT_EQ(memory.vertical.size(), 1u);
  EXPECT_DOUBLE_EQ(memory.vertical[0].at, 64);  // 13.5 GB + 64 x 1024 x 0.52 MB + activations < 80 GB < at 128
  reports::render(memory, (dir.path / "memory.png").string());
}
