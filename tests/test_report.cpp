// The HTML report: the page's pieces (escaping, tables, inline SVG, sections), and `roofline report` end to end:
// a well-formed, self-contained page whose numbers are analyze's, escaped names, no file on any error, and a
// page for every preset profile; the page of a validation (alone or after an analysis), its generic tables.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "hardware/presets.hpp"
#include "reports/html.hpp"
#include "roofline/present/html_report.hpp"
#include "roofline/present/validation_report.hpp"
#include "run_roofline.hpp"
#include "validation_json.hpp"

namespace fs = std::filesystem;
using namespace roofline;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("roofline_report_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every element closed, in order. Void elements (meta) and self-closed tags (<use .../>) need no end tag;
// <!DOCTYPE>, <?xml?> and comments are skipped; <style> holds text. Returns what is wrong, empty if nothing.
std::string unbalanced(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input"};
  std::vector<std::string> open;
  for (std::size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at)) {
    if (html.compare(at, 4, "<!--") == 0) {
      at = html.find("-->", at) + 3;
      continue;
    }
    const std::size_t close = html.find('>', at);
    if (close == std::string::npos) return "a tag is not closed at " + std::to_string(at);
    const std::string tag = html.substr(at + 1, close - at - 1);
    at = close + 1;
    if (tag.empty() || tag[0] == '!' || tag[0] == '?') continue;
    const bool end = tag[0] == '/';
    const std::string name = tag.substr(end, tag.find_first_of(" \t\r\n/", end) - end);
    if (end) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) + ">";
      open.pop_back();
    } else if (tag.back() != '/' && !kVoid.count(name)) {
      open.push_back(name);
      if (name == "style") at = html.find("</style>", at);
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

// The cells of a plain-text table's body rows (between the two rules), split at runs of two or more spaces.
std::vector<std::vector<std::string>> text_rows(const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(table);
  int rules = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.find_first_not_of('-') == std::string::npos) {
      ++rules;
      continue;
    }
    if (rules != 1 || line.empty()) continue;
    std::vector<std::string> cells;
    static const std::regex gap(" {2,}");
    for (std::sregex_token_iterator it(line.begin(), line.end(), gap, -1), e; it != e; ++it) cells.push_back(*it);
    rows.push_back(cells);
  }
  return rows;
}

std::string unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                          {"&#39;", "'"}, {"&amp;", "&"}})
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// The cells of an HTML table's <tbody> rows, unescaped, trailing spaces dropped (as the text table drops them).
std::vector<std::vector<std::string>> html_rows(const std::string& html) {
  std::vector<std::vector<std::string>> rows;
  const auto body = html.substr(html.find("<tbody>"), html.find("</tbody>") - html.find("<tbody>"));
  static const std::regex row("<tr>(.*?)</tr>"), cell("<td class=\"[lr]\">(.*?)</td>");
  for (std::sregex_iterator r(body.begin(), body.end(), row), e; r != e; ++r) {
    std::vector<std::string> cells;
    const std::string tr = (*r)[1];
    for (std::sregex_iterator c(tr.begin(), tr.end(), cell); c != e; ++c) {
      std::string text = unescape((*c)[1]);
      while (!text.empty() && text.back() == ' ') text.pop_back();
      cells.push_back(text);
    }
    rows.push_back(cells);
  }
  return rows;
}

std::string section(const std::string& html, const std::string& id) {
  const auto begin = html.find("<section id=\"" + id + "\">");
  return begin == std::string::npos ? "" : html.substr(begin, html.find("</section>", begin) - begin);
}

}  // namespace

TEST(Html, TheTagCheckerCatchesMistakes) {  // the checker the page tests rely on
  EXPECT_EQ(unbalanced("<div><meta charset=\"utf-8\"><use href='#a'/><p>a > b</p></div>"), "");
  EXPECT_NE(unbalanced("<div><p></div>"), "");
  EXPECT_NE(unbalanced("<div>"), "");
  EXPECT_NE(unbalanced("</p>"), "");
}

TEST(Html, EscapesMarkupCharacters) {
  EXPECT_EQ(reports::html_escape("<a href=\"x\">'R&D'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;R&amp;D&#39;&lt;/a&gt;");
  EXPECT_EQ(reports::html_escape("q_proj 1.20 ms"), "q_proj 1.20 ms");
  EXPECT_EQ(reports::html_terms({{"a<b", "c&d"}}), "<dl>\n<dt>a&lt;b</dt><dd>c&amp;d</dd>\n</dl>\n");
}

TEST(Html, TableKeepsCellsAlignmentAndFooter) {
  reports::Table t({{"op", reports::Align::left}, {"time"}});
  t.add_row({"<q>", "1 ms"});
  t.add_footer({"total", "1 ms"});
  const std::string h = reports::html_table(t, "step & more");
  EXPECT_NE(h.find("<caption>step &amp; more</caption>"), std::string::npos);
  EXPECT_NE(h.find("<thead>\n<tr><th class=\"l\">op</th><th class=\"r\">time</th></tr>\n</thead>"), std::string::npos);
  EXPECT_NE(h.find("<tbody>\n<tr><td class=\"l\">&lt;q&gt;</td><td class=\"r\">1 ms</td></tr>\n</tbody>"),
            std::string::npos);
  EXPECT_NE(h.find("<tfoot>\n<tr><td class=\"l\">total</td><td class=\"r\">1 ms</td></tr>\n</tfoot>"),
            std::string::npos);
  EXPECT_EQ(unbalanced(h), "");
}

TEST(Html, InlineSvgDropsThePrologAndPrefixesIds) {
  const std::string doc =
      "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 10 10\">\n<title>Gnuplot</title>\n<defs><circle id='gpPt6' "
      "r='1'/></defs>\n<g id=\"plot_1\"><use xlink:href='#gpPt6' fill='url(#gpPt6)'/></g>\n<g id=\"plot_1\"></g>\n"
      "<text>a > b</text>\n</svg>\n";
  const std::string s = reports::inline_svg(doc, "c1-", "Chart <1>");
  EXPECT_EQ(s.rfind("<svg role=\"img\" aria-label=\"Chart &lt;1&gt;\" viewBox", 0), 0u) << s;
  EXPECT_NE(s.find("<title>Chart &lt;1&gt;</title>"), std::string::npos);
  EXPECT_EQ(s.find("Gnuplot"), std::string::npos);
  EXPECT_NE(s.find("<circle id='c1-gpPt6'"), std::string::npos);
  EXPECT_NE(s.find("xlink:href='#c1-gpPt6' fill='url(#c1-gpPt6)'"), std::string::npos);
  // A repeated id is made unique; text is left as it is.
  EXPECT_NE(s.find("<g id=\"c1-plot_1\">"), std::string::npos);
  EXPECT_NE(s.find("<g id=\"c1-plot_1-2\">"), std::string::npos);
  EXPECT_NE(s.find("<text>a > b</text>"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 6), "</svg>");
  EXPECT_THROW(reports::inline_svg("<html></html>", "c1-", "x"), reports::HtmlError);
  EXPECT_THROW(reports::inline_svg(doc, "bad prefix", "x"), reports::HtmlError);
}

TEST(Html, PageListsSectionsAndRejectsBadIds) {
  reports::HtmlPage page{"A & B", {{"one", "First <1>", "<p>x</p>\n"}, {"two", "Second", ""}}};
  const std::string h = reports::render_page(page);
  EXPECT_EQ(h.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_NE(h.find("<title>A &amp; B</title>"), std::string::npos);
  EXPECT_NE(h.find("<li><a href=\"#one\">First &lt;1&gt;</a></li>"), std::string::npos);
  EXPECT_NE(h.find("<section id=\"two\">\n<h2>Second</h2>"), std::string::npos);
  EXPECT_EQ(unbalanced(h), "");
  page.sections[1].id = "one";
  EXPECT_THROW(reports::render_page(page), reports::HtmlError);
  page.sections[1].id = "a\"b";
  EXPECT_THROW(reports::render_page(page), reports::HtmlError);
}

TEST(Report, PageIsWellFormedSelfContainedAndHoldsAnalyzesNumbers) {
  TempDir dir;
  const std::string args = "--model llama-2-7b --hw a100-80g-sxm --batch 8 --prompt 1024 --gen 128";
  const Result rep = run("report " + args + " -o " + (dir.path / "r.html").string());
  ASSERT_EQ(rep.code, 0) << rep.out;
  const Result ana = run("analyze " + args + " -o " + (dir.path / "a.txt").string());
  ASSERT_EQ(ana.code, 0) << ana.out;
  const std::string html = slurp(dir.path / "r.html"), text = slurp(dir.path / "a.txt");

  EXPECT_EQ(unbalanced(html), "");
  EXPECT_EQ(count(html, "<svg "), 5u);  // roofline, breakdown, batch, context, memory
  EXPECT_EQ(count(html, "</svg>"), 5u);
  // Self-contained: nothing to fetch, nothing to run.
  for (const char* s : {"<script", "<link", " src=", "href=\"http", "href='http", "<img", "@import", "url(http"})
    EXPECT_EQ(html.find(s), std::string::npos) << s;
  // Every id on the page is unique (five gnuplot charts name their markers alike).
  std::map<std::string, int> ids;
  static const std::regex id_attr(" id=[\"']([^\"']+)[\"']");
  for (std::sregex_iterator it(html.begin(), html.end(), id_attr), e; it != e; ++it) ++ids[(*it)[1]];
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;

  // Each phase's rows are analyze's rows, cell for cell.
  const std::size_t decode_at = text.find("decode: batch 8");
  ASSERT_NE(decode_at, std::string::npos);
  const auto prefill_text = text_rows(text.substr(0, decode_at)), decode_text = text_rows(text.substr(decode_at));
  ASSERT_EQ(prefill_text.size(), 17u);  // embed, 14 ops per layer, final_norm, lm_head
  for (const auto& row : prefill_text) EXPECT_EQ(row.size(), 13u) << row[0];  // with the expected column
  EXPECT_EQ(html_rows(section(html, "prefill")), prefill_text);
  EXPECT_EQ(html_rows(section(html, "decode")), decode_text);

  // The summary's figures are analyze's.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("TTFT (.+), TPOT (.+), total (.+), ([0-9.]+) output tokens/s "
                                                    "\\(([0-9.]+) in decode\\)")));
  const std::string summary = section(html, "summary");
  EXPECT_NE(summary.find("<dt>Time to first token</dt><dd>" + m[1].str() + "</dd>"), std::string::npos) << m[1];
  EXPECT_NE(summary.find("<dd>" + m[2].str() + " (mean of 128 decode steps)</dd>"), std::string::npos) << m[2];
  EXPECT_NE(summary.find("<dt>Whole request</dt><dd>" + m[3].str() + "</dd>"), std::string::npos) << m[3];
  EXPECT_NE(summary.find("<dd>" + m[4].str() + " output tokens/s (" + m[5].str() + " in decode)</dd>"),
            std::string::npos);
  ASSERT_TRUE(std::regex_search(text, m, std::regex("ridge ([0-9.]+ FLOP/B)")));
  EXPECT_NE(summary.find("<dt>Ridge point</dt><dd>" + m[1].str() + "</dd>"), std::string::npos);
  ASSERT_TRUE(std::regex_search(text, m, std::regex("compute-bound at batch ([0-9]+)")));
  EXPECT_NE(summary.find("compute-bound at batch " + m[1].str() + "</dd>"), std::string::npos);
  ASSERT_TRUE(std::regex_search(text, m, std::regex("memory at ([0-9]+) tokens per sequence: (.+), total ([^ ]+ [A-Z]?B) "
                                                    "of ([^ ]+ [A-Z]?B) \\(fits\\)")));
  EXPECT_NE(summary.find("<dd>" + m[2].str() + ", total " + m[3].str() + " at " + m[1].str() + " tokens per sequence"),
            std::string::npos);
  EXPECT_NE(summary.find("<dt>Fits</dt><dd>yes of " + m[4].str() + "</dd>"), std::string::npos);
}

TEST(Report, NamesFromInputFilesAreEscaped) {
  TempDir dir;
  const fs::path hw = dir.path / "hw.json";
  std::ofstream(hw) << R"({"schema_version": 1, "name": "gpu<b>&'x'", "description": "<script>alert(1)</script>",
    "peak_flops_per_s": {"fp32": 50e12, "fp16": 400e12}, "memory": {"bytes_per_s": 2e12}})";
  // The model's name is its config file's stem.
  const fs::path model = dir.path / "m&<i>.json";
  fs::copy_file(fs::path(ROOFLINE_SOURCE_DIR) / "opmodel/presets/llama-2-7b.json", model);
  const fs::path out = dir.path / "r.html";
  const Result r = run("report --model '" + model.string() + "' --hw " + hw.string() + " --prompt 128 -o " +
                       out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out);
  EXPECT_EQ(unbalanced(html), "");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(html.find("<title>roofline report: m&amp;&lt;i&gt; on gpu&lt;b&gt;&amp;&#39;x&#39;</title>"),
            std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("unknown: the profile gives no capacity"), std::string::npos);
}

TEST(Report, ErrorsLeaveNoFile) {
  TempDir dir;
  const std::string args = "--model llama-2-7b --hw a100-80g-sxm --prompt 128";
  const fs::path missing = dir.path / "missing" / "r.html", out = dir.path / "r.html";
  Result r = run("report " + args + " -o " + missing.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(missing.string()), std::string::npos) << r.out;
  r = run("report --model no-such-model --hw a100-80g-sxm --prompt 128 -o " + out.string());
  EXPECT_EQ(r.code, 1) << r.out;
  r = run("report " + args + " --compare h100-sxm,no-such-gpu -o " + out.string());
  EXPECT_EQ(r.code, 1) << r.out;
  r = run("report " + args + " --batch-sweep 1,x -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  r = run("report " + args);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'--output': is required"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(dir.path));  // nothing written, nothing temporary left
}

TEST(Report, ChartOptionsReachTheCharts) {
  TempDir dir;
  const fs::path out = dir.path / "r.html";
  const Result r = run("report --model llama-2-7b --hw a100-80g-sxm --prompt 1024 --compare h100-sxm,mi300x "
                       "--batch-sweep 1,8,64 --max-context 4096 -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out);
  EXPECT_NE(html.find("mi300x fp16 1.31 PFLOP/s"), std::string::npos);                   // compared roofs
  EXPECT_NE(html.find("decode: batch 64, 1024 cached (linear, attention)"), std::string::npos);  // the sweep
  EXPECT_NE(html.find("decode: batch 8, 1024 cached (linear, attention)"), std::string::npos);
  const auto context_at = html.find("id=\"chart-context-gnuplot_canvas\"");
  ASSERT_NE(context_at, std::string::npos);
  const std::string context = html.substr(context_at, html.find("</svg>", context_at) - context_at);
  EXPECT_NE(context.find("<text> 4096</text>"), std::string::npos);  // the context chart's last tic
  EXPECT_EQ(context.find("<text> 8192</text>"), std::string::npos);
}

TEST(Report, SectionsOfAnAnalysisInOrder) {
  AnalysisRequest req;
  req.prompt = 256;
  const Analysis a = analyze(opmodel::resolve_model("tiny"), hardware::preset("l4"), req);
  const auto sections = analysis_sections(a, explore(a, {}), {"0.1.0", "2026-01-01 00:00 UTC", "roofline report"});
  std::vector<std::string> ids;
  for (const auto& s : sections) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"context", "summary", "prefill", "decode", "charts"}));
  EXPECT_NE(sections[0].body.find("<dt>Made by</dt><dd>roofline 0.1.0, 2026-01-01 00:00 UTC</dd>"), std::string::npos);
  // Without --gen the summary says how to get the request's figures rather than showing none.
  EXPECT_NE(sections[1].body.find("--gen N gives TTFT"), std::string::npos);
}

TEST(Report, EveryPresetProfileRenders) {
  for (const auto& name : hardware::preset_names()) {
    const auto& hw = hardware::preset(name);
    AnalysisRequest req;
    req.scenario.batch = 4;
    req.prompt = 512;
    req.gen = 16;
    const auto dt = hw.peak(hardware::Precision::fp16)   ? opmodel::DType::fp16
                    : hw.peak(hardware::Precision::bf16) ? opmodel::DType::bf16
                                                         : opmodel::DType::fp32;
    req.scenario.weight_dtype = req.scenario.act_dtype = req.scenario.kv_dtype = dt;
    const Analysis a = analyze(opmodel::resolve_model("llama-2-7b"), hw, req);
    const std::string html = reports::render_page(
        {analysis_title(a), analysis_sections(a, explore(a, {}), {"0.1.0", "2026-01-01 00:00 UTC", "roofline report"})});
    EXPECT_EQ(count(html, "</svg>"), 5u) << name;
    EXPECT_EQ(unbalanced(html), "") << name;
    EXPECT_NE(html.find(reports::html_escape(hw.description.empty() ? name : hw.description)), std::string::npos)
        << name;
  }
}

// --- the report of a validation ---

namespace {

fs::path write_json(const fs::path& path, const nlohmann::ordered_json& j) {
  std::ofstream(path) << j.dump(2);
  return path;
}

std::vector<std::string> section_ids(const std::string& html) {
  std::vector<std::string> ids;
  static const std::regex id("<section id=\"([^\"]+)\">");
  for (std::sregex_iterator it(html.begin(), html.end(), id), e; it != e; ++it) ids.push_back((*it)[1]);
  return ids;
}

}  // namespace

TEST(ValidationReport, PageHasContextStatisticsOpsAndAnInlineChart) {
  TempDir dir;
  const fs::path v = write_json(dir.path / "v.json", small_validation()), out = dir.path / "v.html";
  const Result r = run("report --validation " + v.string() + " --hw a100-80g-sxm -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out);
  EXPECT_EQ(unbalanced(html), "");
  EXPECT_EQ(section_ids(html), (std::vector<std::string>{"validation-context", "validation-statistics",
                                                         "validation-ops", "validation-chart"}));
  EXPECT_NE(html.find("<title>roofline report: validation of llama-2-7b (32 layers) on a100-80g-sxm</title>"),
            std::string::npos);
  const std::string context = section(html, "validation-context");
  for (const char* s : {"<dt>Scenario</dt><dd>weights fp16, activations fp16, KV fp16, flash attention, unfused</dd>",
                        "<dt>Source</dt><dd>measured: times.csv</dd>",
                        "<dt>Caches</dt><dd>hierarchical roofline, warm caches</dd>", "<dt>Peaks</dt><dd>"})
    EXPECT_NE(context.find(s), std::string::npos) << s;
  // The statistics as the file gives them: strings first, fractions as percentages.
  const auto stats = html_rows(section(html, "validation-statistics"));
  EXPECT_EQ(stats, (std::vector<std::vector<std::string>>{{"all", "all", "6", "43.2%", "87.7%", "100.0%", "56.8%"}}));
  // One row per op, in the file's order, with the file's times.
  const auto ops = html_rows(section(html, "validation-ops"));
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[1][5], "q_proj");
  EXPECT_EQ(ops[1][8], "13.8 us");   // predicted
  EXPECT_EQ(ops[1][10], "27.2 us");  // measured
  EXPECT_EQ(ops[1][14], "-49%");     // (13.77 - 27.18) / 27.18
  // The chart, inline; no calibration in this file, so no such sections.
  const std::string chart = section(html, "validation-chart");
  EXPECT_EQ(count(chart, "<svg "), 1u);
  EXPECT_EQ(count(chart, "</svg>"), 1u);
  EXPECT_NE(chart.find("prefill: batch 1, 128 tokens, weights fp16: measured"), std::string::npos);
  EXPECT_NE(chart.find("HBM2e 2.04 TB/s"), std::string::npos);
  for (const char* s : {"<script", "<link", " src=", "<img"}) EXPECT_EQ(html.find(s), std::string::npos) << s;
}

TEST(ValidationReport, CalibrationAndHeldOutStatisticsShowEveryField) {
  TempDir dir;
  auto json = small_validation();
  json["held_out_statistics"] = json["statistics"];
  // The calibration as the profile stores it: a source and fits. Whatever fields a fit has, each becomes a
  // column; a field one row lacks is "-".
  json["notes"] = {"int8 weights: no VNNI kernel on this host"};
  json["calibration"] = {{"fits", nlohmann::ordered_json::array()}, {"source", "validate --sweep, 2 threads"}};
  json["calibration"]["fits"].push_back({{"kind", "gemm"}, {"compute_efficiency", 0.625}, {"overhead_s", 1.5e-6},
                                         {"points", 12}, {"phase", "prefill"}});
  json["calibration"]["fits"].push_back({{"kind", "gemv"}, {"op", "lm_head"}, {"memory_efficiency", 0.8},
                                         {"overhead_s", 2e-7}, {"points", 30}, {"max_bytes_per_s", 4.5e10}});
  for (auto& op : json["ops"]) op["expected_s"] = op["measured_median_s"].get<double>() * 2;
  const fs::path v = write_json(dir.path / "v.json", json), out = dir.path / "v.html";
  const Result r = run("report --validation " + v.string() + " -o " + out.string());  // no --hw: the file's peaks
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out);
  EXPECT_EQ(unbalanced(html), "");
  EXPECT_EQ(section_ids(html),
            (std::vector<std::string>{"validation-context", "validation-statistics", "validation-held-out",
                                      "validation-calibration", "validation-ops", "validation-chart"}));
  const std::string calibration = section(html, "validation-calibration");
  EXPECT_NE(calibration.find("<dt>source</dt><dd>validate --sweep, 2 threads</dd>"), std::string::npos) << calibration;
  EXPECT_NE(calibration.find("<caption>fits</caption>"), std::string::npos) << calibration;
  EXPECT_NE(calibration.find("<tr><th class=\"l\">kind</th><th class=\"l\">phase</th><th class=\"l\">op</th>"
                             "<th class=\"r\">compute_efficiency</th><th class=\"r\">overhead_s</th><th class=\"r\">"
                             "points</th><th class=\"r\">memory_efficiency</th><th class=\"r\">max_bytes_per_s</th>"
                             "</tr>"),
            std::string::npos)
      << calibration;
  EXPECT_EQ(html_rows(calibration), (std::vector<std::vector<std::string>>{
                                        {"gemm", "prefill", "-", "62.5%", "1.50 us", "12", "-", "-"},
                                        {"gemv", "-", "lm_head", "-", "200 ns", "30", "80.0%", "45.0 G/s"}}));
  EXPECT_NE(section(html, "validation-context").find("<dt>Note</dt><dd>int8 weights: no VNNI kernel on this host</dd>"),
            std::string::npos);
  EXPECT_EQ(html_rows(section(html, "validation-held-out")), html_rows(section(html, "validation-statistics")));
  EXPECT_EQ(html_rows(section(html, "validation-ops"))[1].back(), "54.4 us");  // expected: 2 x 27.18 us
  EXPECT_NE(html.find("fp16 312 TFLOP/s (the validation's peak)"), std::string::npos);
}

TEST(ValidationReport, JsonOfAnyShapeRendersGenerically) {
  nlohmann::ordered_json j = {{"method", "least squares"}, {"rate_per_s", 2.5e9}, {"fits", {{{"kind", "gemm"}, {"x", 1}}}},
                              {"kinds", {"gemm", "gemv"}}};
  const std::string h = json_html(j, "calibration");
  EXPECT_EQ(unbalanced(h), "");
  EXPECT_NE(h.find("<dt>method</dt><dd>least squares</dd>"), std::string::npos) << h;
  EXPECT_NE(h.find("<dt>rate_per_s</dt><dd>2.50 G/s</dd>"), std::string::npos) << h;
  EXPECT_NE(h.find("<caption>calibration: fits</caption>"), std::string::npos) << h;
  EXPECT_NE(h.find("<p>calibration: kinds: gemm, gemv</p>"), std::string::npos) << h;
  EXPECT_EQ(json_html(nlohmann::ordered_json::array(), "none here"), "<p>none here: none</p>\n");
}

TEST(ValidationReport, AfterAnAnalysisOnOnePage) {
  TempDir dir;
  const fs::path v = write_json(dir.path / "v.json", small_validation()), out = dir.path / "both.html";
  const Result r = run("report --model tiny --hw l4 --prompt 64 --validation " + v.string() +
                       " --measured-filter phase=decode -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out);
  EXPECT_EQ(unbalanced(html), "");
  EXPECT_EQ(section_ids(html), (std::vector<std::string>{"context", "summary", "prefill", "decode", "charts",
                                                         "validation-context", "validation-statistics",
                                                         "validation-ops", "validation-chart"}));
  EXPECT_EQ(count(html, "</svg>"), 6u);
  std::map<std::string, int> ids;
  static const std::regex id_attr(" id=[\"']([^\"']+)[\"']");
  for (std::sregex_iterator it(html.begin(), html.end(), id_attr), e; it != e; ++it) ++ids[(*it)[1]];
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  EXPECT_NE(section(html, "validation-chart").find("Shown: 3 of 6 rows"), std::string::npos);
}

TEST(ValidationReport, BadFilesAndOptionsLeaveNoFile) {
  TempDir dir;
  auto json = small_validation();
  json["ops"][2].erase("intensity_flops_per_byte");
  const fs::path bad = write_json(dir.path / "bad.json", json), out = dir.path / "out" / "v.html";
  const fs::path good = write_json(dir.path / "v.json", small_validation());
  fs::create_directories(out.parent_path());
  Result r = run("report --validation " + bad.string() + " -o " + out.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(bad.string() + ": ops[2].intensity_flops_per_byte: missing"), std::string::npos) << r.out;
  r = run("report --validation " + (dir.path / "none.json").string() + " -o " + out.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("none.json: cannot read the file"), std::string::npos) << r.out;
  r = run("report --validation " + good.string() + " --prompt 64 -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'--prompt': applies to an analysis: give --model too"), std::string::npos) << r.out;
  r = run("report --validation " + good.string() + " --measured-points some -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  r = run("report -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'--model': is required (or --validation FILE)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(out.parent_path()));
}
