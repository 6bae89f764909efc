// The HTML report: one self-contained page (reports::HtmlPage) of sections. A page is assembled from producers
// of sections: analysis_sections() is the one for an analysis, validation_sections() (validation_report.hpp)
// the one for a validation (predicted against measured time per op); a command puts whichever sections it
// collects on the page.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "reports/html.hpp"
#include "roofline/core/analysis.hpp"
#include "roofline/present/charts.hpp"

namespace roofline {

struct ReportInfo {  // how the report was made, shown with its context
  std::string version;       // of roofline
  std::string generated_at;  // "2026-11-21 05:53 UTC"
  std::string command;       // the command line that made it
};

// Context (model, hardware, scenario, dtypes, how the report was made), summary (request times, step times,
// memory and its fit, roof and ridge, compute-bound batch), one table per phase (the cells of `analyze`'s
// table), and the charts (roofline, breakdown, batch, context, memory) as inline SVG. Throws ChartError.
std::vector<reports::HtmlSection> analysis_sections(const Analysis& a, const Exploration& e,
                                                    const ReportInfo& info);

// The title of an analysis's page: "llama-2-7b on a100-80g-sxm".
std::string analysis_title(const Analysis& a);

// A profile's roofs as report terms: "Peaks" (each precision) and "Memory" (bandwidth and capacity).
std::vector<std::pair<std::string, std::string>> roof_terms(const hardware::Profile& hw);

}  // namespace roofline
