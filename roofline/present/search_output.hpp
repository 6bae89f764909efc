// Writers of a search (roofline/search/search.hpp): the console table, JSON, a CSV of every candidate, the
// Pareto chart and the HTML report's section. They render the result; the frontier and choice are the search's.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/html.hpp"
#include "reports/xy_chart.hpp"
#include "roofline/search/search.hpp"

namespace roofline {

struct SearchRun {
  const search::Problem& problem;
  const search::SearchResult& result;
  std::size_t shown = 12;  // frontier rows the table shows at most (the JSON and CSV hold all)
};

std::string render_table(const SearchRun& run);
nlohmann::json to_json(const SearchRun& run);
std::string to_csv(const SearchRun& run);
// Output tokens/s per GPU against tokens/s per user (1 / TPOT p90): every candidate with metrics, the frontier
// joined, those missing the TTFT target apart, the choice, and the TPOT target as a vertical line.
reports::XYChart pareto_chart(const SearchRun& run);
std::vector<reports::HtmlSection> search_sections(const SearchRun& run);

}  // namespace roofline
