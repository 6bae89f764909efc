// Charts: rendered files are valid, their data hold the analysis's exact values, every preset renders; point
// labels never overlap one another or a marker; a validation's chart holds its file's predicted and measured
// values, and a bad file is an error naming the field, with nothing written.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "hardware/presets.hpp"
#include "roofline/present/charts.hpp"
#include "roofline/present/measured_chart.hpp"
#include "run_roofline.hpp"
#include "validation_json.hpp"

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
  ExploreSettings settings;
  settings.compare = {hardware::preset("h100-sxm"), hardware::preset("mi300x")};
  settings.sweep_batches = powers_of_two(1, 64);
  const auto chart = roofline_chart(a, explore(a, settings));
  EXPECT_EQ(chart.lines.size(), 9u);  // 7 projections, lm_head and attention, each joined across 7 batches
  // Two series per profile (prefill, decode), the main profile's two expected series (hollow markers: the A100
  // preset's published efficiencies), then one per swept batch but 8, which the decode series shows.
  ASSERT_EQ(chart.series.size(), 2u + 2u + 4u + 6u);
  EXPECT_EQ(chart.series[1].name, "prefill: batch 8, 1024 tokens (expected)");
  EXPECT_EQ(chart.series[1].marker, 6);
  ASSERT_FALSE(chart.series[1].points.empty());
  for (const auto& e : chart.series[1].points) {  // each below its op's bound point, at the same intensity
    const auto bound = std::find_if(chart.series[0].points.begin(), chart.series[0].points.end(),
                                    [&](const auto& b) { return b.x == e.x; });
    ASSERT_NE(bound, chart.series[0].points.end());
    EXPECT_LT(e.y, bound->y);
  }
  EXPECT_EQ(chart.series.back().name, "decode: batch 64, 1024 cached (linear, attention)");
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
  const auto batch = batch_chart(a, explore(a, {.compare = {}, .sweep_batches = {}, .max_batch = 64}));
  ASSERT_EQ(batch.series[0].points.size(), 7u);
  EXPECT_DOUBLE_EQ(batch.series[0].points[3].second, 1e3 * a.steps[1].time_s);
  EXPECT_DOUBLE_EQ(batch.series[1].points[3].second, 8 / a.steps[1].time_s);
  EXPECT_EQ(batch.vertical.size(), 1u);  // the compute-bound batch is marked
  const auto batch_files = reports::render(batch, (dir.path / "batch.png").string());
  EXPECT_NE(slurp(batch_files.data).find(fmt::format("8 {:.17g}", 1e3 * a.steps[1].time_s)), std::string::npos);

  // Context: at 1024 cached tokens the step is the analysis's decode step (batch 8, kv_len = prompt).
  const auto context = context_chart(a, explore(a, {.compare = {}, .sweep_batches = {}, .max_batch = 256, .max_context = 4096}));
  EXPECT_DOUBLE_EQ(context.series[0].points[3].first, 1024);
  EXPECT_DOUBLE_EQ(context.series[0].points[3].second, 1e3 * a.steps[1].time_s);
  reports::render(context, (dir.path / "context.png").string());

  // Memory: weights constant, KV linear in batch, capacity and the largest fitting batch marked.
  const auto memory = memory_chart(a, explore(a, {.compare = {}, .sweep_batches = {}, .max_batch = 256}));
  EXPECT_DOUBLE_EQ(memory.series[1].points[3].second, a.memory.kv_cache_bytes / 1e9);  // batch 8
  ASSERT_EQ(memory.horizontal.size(), 1u);
  EXPECT_DOUBLE_EQ(memory.horizontal[0].at, 80.0);
  ASSERT_EQ(memory.vertical.size(), 1u);
  EXPECT_DOUBLE_EQ(memory.vertical[0].at, 64);  // 13.5 GB + 64 x 1024 x 0.52 MB + activations < 80 GB < at 128
  reports::render(memory, (dir.path / "memory.png").string());
}

// --- label placement ---

namespace {

// No two placed boxes intersect, none covers a marker, all lie inside the plot area.
void expect_no_overlap(const reports::LabelLayout& l, const std::vector<reports::PixelBox>& markers,
                       const reports::LogPlotArea& area) {
  for (std::size_t i = 0; i < l.placed.size(); ++i) {
    const auto& b = l.placed[i].box;
    EXPECT_TRUE(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= area.width_px && b.y1 <= area.height_px) << l.placed[i].text;
    for (std::size_t j = i + 1; j < l.placed.size(); ++j)
      EXPECT_FALSE(b.intersects(l.placed[j].box)) << l.placed[i].text << " / " << l.placed[j].text;
    for (const auto& m : markers) EXPECT_FALSE(b.intersects(m)) << l.placed[i].text;
  }
}

reports::PixelBox marker_box(const reports::LogPlotArea& a, double x, double y, double r) {
  return {a.px_x(x) - r, a.px_y(y) - r, a.px_x(x) + r, a.px_y(y) + r};
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

TEST(LabelPlacer, TextWidthFollowsTheFontsAdvances) {
  EXPECT_DOUBLE_EQ(reports::text_width_em("attn_norm"), 10571.0 / 2048);  // a 1255, t 803, n 1298, _ 1024 ...
  EXPECT_LT(reports::text_width_em("iiii"), reports::text_width_em("mmmm"));
  EXPECT_DOUBLE_EQ(reports::text_width_em("\xc3\xa9"), 1.0);  // one non-ASCII character (2 bytes): 1 em
}

TEST(LabelPlacer, CrowdedChartHasNoOverlapsAndEveryLabelIsAccountedFor) {
  const reports::LogPlotArea area{800, 600, 0.01, 1e4, 1e9, 1e15};
  reports::LabelStyle style;
  // 150 points packed into 2 x 2 decades (about 230 x 200 px), names of 3 to 26 characters, and obstacles.
  std::vector<reports::LabelRequest> labels;
  std::vector<reports::Obstacle> obstacles;
  std::vector<reports::PixelBox> markers;
  std::uint32_t seed = 12345;
  auto uniform = [&] {
    seed = seed * 1664525u + 1013904223u;
    return double(seed >> 8) / double(1u << 24);
  };
  for (int i = 0; i < 150; ++i) {
    const double x = std::pow(10, 0 + 2 * uniform()), y = std::pow(10, 11 + 2 * uniform());
    labels.push_back({x, y, fmt::format("op{}_{}", i, std::string(std::size_t(uniform() * 22), 'x'))});
    markers.push_back(marker_box(area, x, y, 6));  // the requests' default marker
  }
  for (int i = 0; i < 20; ++i) {
    const double x = std::pow(10, 0.5 + uniform()), y = std::pow(10, 11.5 + uniform());
    obstacles.push_back({x, y, 8});
    markers.push_back(marker_box(area, x, y, 8));
  }
  const auto layout = reports::place_labels(labels, obstacles, area, style);
  expect_no_overlap(layout, markers, area);
  // The crowd is dense enough to use every fallback: labels in full, numbers with the text in the key, dropped.
  std::size_t full = 0;
  for (const auto& p : layout.placed) full += !p.is_number;
  EXPECT_GT(full, 0u);
  EXPECT_FALSE(layout.key.empty());
  EXPECT_FALSE(layout.dropped.empty());

  // Each name is shown exactly once: in a placed label, in the key or among the dropped (merges join with ',').
  std::map<std::string, int> seen;
  for (const auto& p : layout.placed)
    if (!p.is_number)
      for (const auto& n : split(p.text)) ++seen[n];
  for (const auto& k : layout.key)
    for (const auto& n : split(k.text)) ++seen[n];
  for (const auto& d : layout.dropped)
    for (const auto& n : split(d)) ++seen[n];
  ASSERT_EQ(seen.size(), labels.size());
  for (const auto& [name, count] : seen) EXPECT_EQ(count, 1) << name;

  // Key entries are numbered 1, 2, ... and each number is on the chart once.
  std::vector<std::string> numbers;
  for (const auto& p : layout.placed)
    if (p.is_number) numbers.push_back(p.text);
  ASSERT_EQ(numbers.size(), layout.key.size());
  for (std::size_t i = 0; i < layout.key.size(); ++i) {
    EXPECT_EQ(layout.key[i].number, std::to_string(i + 1));
    EXPECT_EQ(numbers[i], layout.key[i].number);
  }
  // A label's data position is where its box says: the text's left end (after the clearance) and middle.
  for (const auto& p : layout.placed) {
    EXPECT_NEAR(area.px_x(p.x), p.box.x0 + style.gap_px, 1e-6);
    EXPECT_NEAR(area.px_y(p.y), (p.box.y0 + p.box.y1) / 2, 1e-6);
  }
}

TEST(LabelPlacer, SparsePointsAreLabelledRightBesideThem) {
  const reports::LogPlotArea area{800, 600, 0.01, 1e4, 1e9, 1e15};
  const auto layout = reports::place_labels({{0.1, 1e10, "rope"}, {10, 1e12, "lm_head"}, {1000, 1e14, "q_proj"}}, {},
                                            area);
  ASSERT_EQ(layout.placed.size(), 3u);
  EXPECT_TRUE(layout.key.empty());
  for (const auto& p : layout.placed) {
    // The first choice: right of the point, vertically centred on it.
    EXPECT_EQ(p.box.x0, area.px_x(p.text == "rope" ? 0.1 : p.text == "lm_head" ? 10 : 1000) + 6);
    EXPECT_NEAR((p.box.y0 + p.box.y1) / 2, area.px_y(p.text == "rope" ? 1e10 : p.text == "lm_head" ? 1e12 : 1e14),
                1e-9);
  }
}

TEST(LabelPlacer, CoincidentPointsShareOneLabel) {
  const reports::LogPlotArea area{800, 600, 0.01, 1e4, 1e9, 1e15};
  const auto layout = reports::place_labels({{8, 1e12, "q_proj @64"},
                                             {8.001, 1e12, "k_proj @64"},
                                             {1, 1e11, "attention"},
                                             {1, 1e11, "attention @64"},
                                             {1, 1e11, "rope"},
                                             {0, 1e11, "off the log axis"},
                                             {2, 1e11, ""}},
                                            {}, area);
  std::vector<std::string> texts;
  for (const auto& p : layout.placed) texts.push_back(p.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"q_proj,k_proj @64", "attention,rope"}));
}

TEST(Charts, ComparisonAndSweepLabelsDoNotOverlap) {
  const Analysis a = analysis("a100-80g-sxm");
  ExploreSettings settings;
  settings.compare = {hardware::preset("h100-sxm"), hardware::preset("mi300x")};
  settings.sweep_batches = powers_of_two(1, 256);
  const auto chart = roofline_chart(a, explore(a, settings));
  const auto layout = reports::label_layout(chart);
  EXPECT_GE(layout.placed.size(), 8u);
  std::vector<reports::PixelBox> markers;
  for (const auto& se : chart.series)
    for (const auto& p : se.points)
      if (p.x > 0 && p.y > 0) markers.push_back(marker_box(layout.area, p.x, p.y, 6));  // circles, squares: 6
  expect_no_overlap(layout, markers, layout.area);
  // The data file holds each placed label, the script each key entry.
  const std::string data = reports::gnuplot_data(chart);
  for (const auto& p : layout.placed)
    EXPECT_NE(data.find(fmt::format("{:.17g} {:.17g} \"{}\"", p.x, p.y, p.text)), std::string::npos) << p.text;
  const std::string script = reports::gnuplot_script(chart, "c.png", "c.dat", false);
  for (const auto& k : layout.key) EXPECT_NE(script.find("keyentry title '" + k.number + ": "), std::string::npos);
}

// --- validation charts: predicted and measured points of a validate JSON ---

namespace {

ValidationFile small_file() { return parse_validation_file(small_validation().dump(2), "v.json"); }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(MeasuredChart, PngAndSvgAreValidAndDataHoldTheFilesExactValues) {
  TempDir dir;
  const ValidationFile v = small_file();
  const auto ops = select_ops(v, {});
  ASSERT_EQ(ops.size(), 6u);  // one shape per phase already
  const auto chart = measured_roofline_chart(v, ops, hardware::preset("a100-80g-sxm"));
  ASSERT_EQ(chart.series.size(), 4u);  // prefill predicted, measured; decode predicted, measured
  EXPECT_EQ(chart.series[0].name, "prefill: batch 1, 128 tokens, weights fp16: predicted");
  EXPECT_EQ(chart.series[3].name, "decode: batch 1, 128 cached, weights fp16: measured");
  // One plot entry per pair of series joins each op's two points; embed's pair (no FLOPs) has no segment.
  ASSERT_EQ(chart.lines.size(), 2u);
  EXPECT_TRUE(chart.lines[0].pairs);
  EXPECT_EQ(chart.lines[0].points.size(), 6u);
  const auto files = reports::render(chart, (dir.path / "measured.png").string());
  const std::string png = slurp(files.image);
  ASSERT_GT(png.size(), 10000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

  const std::string data = slurp(files.data);
  const auto json = small_validation();
  for (const auto& op : json["ops"]) {
    const double x = op["intensity_flops_per_byte"], flops = op["flops"], predicted = op["predicted_s"],
                 measured = op["measured_median_s"], achieved = op["achieved_flops_per_s"];
    const std::string name = op["op"];
    // The comment block carries the row as the file gives it, the plotted blocks its two points.
    EXPECT_NE(data.find(fmt::format("# {} {} fp16 {} {} {} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g}\n", name,
                                    op["phase"].get<std::string>(), op["batch"].get<int>(), op["q_len"].get<int>(),
                                    op["kv_len"].get<int>(), flops, op["bytes"].get<double>(), x, predicted, measured,
                                    achieved)),
              std::string::npos)
        << name;
    if (flops == 0) {  // embed: not on a log axis
      EXPECT_EQ(data.find(fmt::format("{:.17g} {:.17g} \"{}\"", x, achieved, name)), std::string::npos);
      continue;
    }
    EXPECT_NE(data.find(fmt::format("{:.17g} {:.17g} \"\"\n", x, flops / predicted)), std::string::npos) << name;
    EXPECT_NE(data.find(fmt::format("{:.17g} {:.17g} \"{}\"\n", x, achieved, name)), std::string::npos) << name;
    EXPECT_NE(data.find(fmt::format("{:.17g} {:.17g}\n{:.17g} {:.17g}\n", x, flops / predicted, x, achieved)),
              std::string::npos)
        << name << ": the line joining the pair";
  }
  // The decode line block: embed's pair leaves no blank line (two would end the block), the others one apiece.
  const auto q_proj = fmt::format("{:.17g} ", json["ops"][4]["intensity_flops_per_byte"].get<double>());
  const auto block_at = data.rfind("# line\n", data.find(q_proj + fmt::format("{:.17g}\n", 33554432 / 1.6460335458558117e-05)));
  ASSERT_NE(block_at, std::string::npos);
  const std::string block = data.substr(block_at, data.find("\n\n\n", block_at) - block_at);
  EXPECT_EQ(count_of(block, "\n\n"), 1u) << block;
  EXPECT_EQ(block.rfind("# line\n" + q_proj, 0), 0u) << block;
  EXPECT_NE(data.find(" 312000000000000\n"), std::string::npos);  // the profile's fp16 roof
  EXPECT_NE(data.find("# slope HBM2e 2.04 TB/s"), std::string::npos);

  const auto svg = reports::render(chart, (dir.path / "measured.svg").string());
  const std::string text = slurp(svg.image);
  EXPECT_EQ(text.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count_of(text, "<svg"), 1u);
  EXPECT_EQ(count_of(text, "</svg>"), 1u);
  EXPECT_NE(text.find("decode: batch 1, 128 cached, weights fp16: measured"), std::string::npos);
}

TEST(MeasuredChart, WithoutAProfileTheRoofsAreTheFilesPeaks) {
  const ValidationFile v = small_file();
  const auto chart = measured_roofline_chart(v, select_ops(v, {}), std::nullopt);
  ASSERT_EQ(chart.ceilings.size(), 1u);  // every op was predicted at the fp16 peak
  EXPECT_EQ(chart.ceilings[0].flops_per_s, 312e12);
  EXPECT_EQ(chart.ceilings[0].label, "fp16 312 TFLOP/s (the validation's peak)");
  EXPECT_TRUE(chart.slopes.empty());
  EXPECT_NE(reports::gnuplot_data(chart).find("NaN NaN"), std::string::npos);  // no ridge without a slope
}

TEST(MeasuredChart, ARepresentativeShapePerPhaseOrTheFilteredRows) {
  auto json = small_validation();
  json["ops"] = nlohmann::ordered_json::array();
  // A sweep: prefill at 3 shapes and decode at 4, for two weight dtypes; two ops each.
  for (const char* w : {"bf16", "int8"}) {
    for (auto [b, q] : {std::pair{4, 16}, {1, 64}, {1, 16}})
      for (const char* op : {"q_proj", "attention"})
        json["ops"].push_back(validation_op(op, "prefill", b, q, 0, 1e9 * b * q, 1e7, 1e-5, 2e-5, w));
    for (auto [b, kv] : {std::pair{1, 128}, {1, 4096}, {8, 128}, {8, 4096}})
      for (const char* op : {"q_proj", "attention"})
        json["ops"].push_back(validation_op(op, "decode", b, 1, kv, 1e8 * b, 1e7, 1e-5, 2e-5, w));
  }
  const ValidationFile v = parse_validation_file(json.dump(), "sweep.json");
  auto shapes = [](const std::vector<const MeasuredOp*>& ops) {
    std::vector<std::string> s;
    for (const auto* op : ops) s.push_back(fmt::format("{} {} {} {} {} {}", op->op, op->phase, op->weight_dtype, op->batch, op->q_len, op->kv_len));
    return s;
  };
  // Default: the first dtype, the lower median batch (1 of 1, 4 and of 1, 8), the lower median length at it.
  EXPECT_EQ(shapes(select_ops(v, {})),
            (std::vector<std::string>{"q_proj prefill bf16 1 16 0", "attention prefill bf16 1 16 0",
                                      "q_proj decode bf16 1 1 128", "attention decode bf16 1 1 128"}));
  // Three batches and three lengths: the middle of each.
  auto json3 = small_validation();
  json3["ops"] = nlohmann::ordered_json::array();
  for (int b : {8, 1, 64})
    for (int kv : {4096, 128, 512}) json3["ops"].push_back(validation_op("q_proj", "decode", b, 1, kv, 1e8, 1e7, 1e-5, 2e-5));
  EXPECT_EQ(shapes(select_ops(parse_validation_file(json3.dump(), "v3.json"), {})),
            (std::vector<std::string>{"q_proj decode fp16 8 1 512"}));
  // A filter narrows first; a repeated key admits either value; `all` keeps every row that passes.
  MeasuredSelection s;
  s.filter = parse_measured_filter("phase=decode,weight_dtype=int8,kv_len=128");
  EXPECT_EQ(shapes(select_ops(v, s)),
            (std::vector<std::string>{"q_proj decode int8 1 1 128", "attention decode int8 1 1 128"}));
  s.filter = parse_measured_filter("op=attention,batch=1,batch=8,phase=decode");
  s.all = true;
  EXPECT_EQ(select_ops(v, s).size(), 8u);  // 4 shapes x 2 dtypes
  const auto chart = measured_roofline_chart(v, select_ops(v, s), std::nullopt);
  ASSERT_EQ(chart.series.size(), 4u);  // decode bf16 and int8, predicted and measured
  EXPECT_EQ(chart.series[0].name, "decode: 4 shapes, weights bf16: predicted");
  for (const auto& p : chart.series[1].points) EXPECT_EQ(p.label, "");  // names across shapes would only repeat
  s.filter = parse_measured_filter("batch=3");
  EXPECT_TRUE(select_ops(v, s).empty());

  EXPECT_THROW(parse_measured_filter("phase"), std::invalid_argument);
  EXPECT_THROW(parse_measured_filter("phase=decode,"), std::invalid_argument);
  EXPECT_THROW(parse_measured_filter("=decode"), std::invalid_argument);
  try {
    parse_measured_filter("layer=3");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'layer' (known: op, weight_dtype"), std::string::npos) << e.what();
  }
}

TEST(MeasuredChart, BadFilesNameTheFileAndTheField) {
  auto message = [](const std::string& text) {
    try {
      parse_validation_file(text, "v.json");
    } catch (const ValidationFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto json = small_validation();
  json["ops"][1].erase("measured_median_s");
  EXPECT_EQ(message(json.dump()), "v.json: ops[1].measured_median_s: missing");
  json = small_validation();
  json["ops"][4]["predicted_s"] = 0;
  EXPECT_EQ(message(json.dump()), "v.json: ops[4].predicted_s: expected a positive number, got 0");
  json["ops"][4]["predicted_s"] = "fast";
  EXPECT_EQ(message(json.dump()), "v.json: ops[4].predicted_s: expected a number, got \"fast\"");
  json = small_validation();
  json["ops"][0]["batch"] = 1.5;
  EXPECT_EQ(message(json.dump()), "v.json: ops[0].batch: expected a non-negative integer, got 1.5");
  json = small_validation();
  json.erase("model");
  EXPECT_EQ(message(json.dump()), "v.json: model: missing");
  json = small_validation();
  json["ops"] = nlohmann::ordered_json::array();
  EXPECT_EQ(message(json.dump()), "v.json: ops: empty: the validation holds no op");
  json = small_validation();
  json["notes"] = {"fine", 3};
  EXPECT_EQ(message(json.dump()), "v.json: notes[1]: expected a string, got 3");
  EXPECT_EQ(message("[1, 2]"), "v.json: expected a JSON object (roofline validate --format json)");
  EXPECT_EQ(message("{\"ops\": [").rfind("v.json: not valid JSON: ", 0), 0u);
  // Found by fuzz_measured: a number past double's range is nlohmann's out_of_range, not a parse_error, and
  // ended the program.
  EXPECT_EQ(message("{\"ops\": [8.2e792207792]}").rfind("v.json: not valid JSON: ", 0), 0u);
  // Optional parts: expected_s per op, the calibration and held-out statistics whatever their shape.
  json = small_validation();
  json["ops"][2]["expected_s"] = 2e-6;
  json["calibration"] = {{"any", "shape"}};
  const ValidationFile v = parse_validation_file(json.dump(), "v.json");
  EXPECT_EQ(v.ops[2].expected_s, 2e-6);
  EXPECT_FALSE(v.ops[1].expected_s);
  ASSERT_TRUE(v.calibration);
  EXPECT_EQ((*v.calibration)["any"], "shape");
  EXPECT_FALSE(v.held_out_statistics);
}

TEST(MeasuredChart, PlotCommandWritesTheChartOrNothing) {
  TempDir dir;
  const fs::path good = dir.path / "v.json", bad = dir.path / "bad.json";
  std::ofstream(good) << small_validation().dump(2);
  auto json = small_validation();
  json["ops"][3].erase("achieved_flops_per_s");
  std::ofstream(bad) << json.dump(2);
  const fs::path out = dir.path / "out" / "chart.png";
  fs::create_directories(out.parent_path());

  Result r = run(fmt::format("plot --measured {} -o {}", bad.string(), out.string()));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(bad.string() + ": ops[3].achieved_flops_per_s: missing"), std::string::npos) << r.out;
  r = run(fmt::format("plot --measured {} --model llama-2-7b -o {}", good.string(), out.string()));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'--model': not with --measured"), std::string::npos) << r.out;
  r = run(fmt::format("plot --measured {} --measured-filter batch=3 -o {}", good.string(), out.string()));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no op of " + good.string() + " has batch=3"), std::string::npos) << r.out;
  r = run(fmt::format("plot --measured {} --chart memory -o {}", good.string(), out.string()));
  EXPECT_EQ(r.code, 2) << r.out;
  r = run(fmt::format("plot --model tiny --hw l4 --prompt 64 --measured-points all -o {}", out.string()));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(fs::is_empty(out.parent_path()));  // no chart, script, data or temporary

  r = run(fmt::format("plot --measured {} --hw a100-80g-sxm --measured-filter phase=decode -o {}", good.string(),
                      out.string()));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_GT(fs::file_size(out), 10000u);
  const std::string data = slurp(dir.path / "out" / "chart.dat");
  EXPECT_NE(data.find("\"q_proj\""), std::string::npos);
  EXPECT_EQ(data.find("# q_proj prefill"), std::string::npos);  // filtered out
  EXPECT_NE(data.find("# q_proj decode"), std::string::npos);
  EXPECT_NE(slurp(dir.path / "out" / "chart.gp").find("set output 'chart.png'"), std::string::npos);
}
