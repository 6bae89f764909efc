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
