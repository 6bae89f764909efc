// The HTML report of a validation (the JSON `roofline validate --format json` writes): its context, the accuracy
// statistics, the held-out statistics and calibration of a sweep (shown as the file gives them, since their
// shape may change), the per-op table and the roofline chart with the measured points.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware/profile.hpp"
#include "reports/html.hpp"
#include "roofline/present/html_report.hpp"
#include "roofline/present/measured_chart.hpp"
#include "roofline/validate/validation_file.hpp"

namespace roofline {

// Sections with ids validation-context, validation-statistics, [validation-held-out, validation-calibration,]
// validation-ops and validation-chart, so they can share a page with an analysis's. The chart's roofs are the
// profile's when given (see measured_roofline_chart). Throws ChartError.
std::vector<reports::HtmlSection> validation_sections(const ValidationFile& v, const std::optional<hardware::Profile>& hw,
                                                      const MeasuredSelection& selection, const ReportInfo& info);

// "validation of tiny.json (2 layers) on host".
std::string validation_title(const ValidationFile& v);

// A JSON value as HTML: an array of objects as a table (the string fields first, as they name a row, then the
// others, each in the order the file first gives it; a missing cell is "-"), an object as terms with its arrays
// and objects below, anything else as text. Numbers follow the project's JSON names: a field ending in _per_s
// is a rate, in _s a duration; one naming an error, fraction, agreement, efficiency or share is a percentage.
std::string json_html(const nlohmann::ordered_json& value, const std::string& caption);

}  // namespace roofline
