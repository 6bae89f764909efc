#include "reports/table.hpp"

#include <algorithm>
#include <stdexcept>

namespace reports {

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) throw std::invalid_argument("Table::add_row: wrong number of cells");
  rows_.push_back(std::move(cells));
}

void Table::add_footer(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) throw std::invalid_argument("Table::add_footer: wrong number of cells");
  footer_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].title.size();
    for (const auto* block : {&rows_, &footer_})
      for (const auto& r : *block) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::size_t pad = width[c] - cells[c].size();
      if (c) l += "  ";
      if (columns_[c].align == Align::right) l.append(pad, ' ');
      l += cells[c];
      if (columns_[c].align == Align::left && c + 1 < cells.size()) l.append(pad, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  auto rule = [&] {
    std::size_t total = 0;
    for (std::size_t w : width) total += w;
    out += std::string(total + 2 * (width.size() - 1), '-') + "\n";
  };
  std::vector<std::string> titles;
  for (const auto& c : columns_) titles.push_back(c.title);
  line(titles);
  rule();
  for (const auto& r : rows_) line(r);
  if (!footer_.empty()) {
    rule();
    for (const auto& r : footer_) line(r);
  }
  return out;
}

}  // namespace reports
