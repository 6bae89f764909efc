// A plain-text table with aligned columns, a header rule and optional footer rows (totals).
#pragma once

#include <string>
#include <vector>

namespace reports {

enum class Align { left, right };

class Table {
 public:
  struct Column {
    std::string title;
    Align align = Align::right;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // Each row must have one cell per column (throws std::invalid_argument otherwise).
  void add_row(std::vector<std::string> cells);
  void add_footer(std::vector<std::string> cells);  // printed below a second rule
  std::string render() const;

  const std::vector<Column>& columns() const { return columns_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  const std::vector<std::vector<std::string>>& footer() const { return footer_; }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_, footer_;
};

}  // namespace reports
