// One line of a simple CSV (no quoted fields), as every CSV reader of the project reads it: the fields between
// commas, each trimmed of spaces, tabs and a CR (a file saved with CRLF endings reads the same); a trailing comma
// gives a last, empty field. Fields view the line: keep it alive while using them.
#pragma once

#include <string_view>
#include <vector>

namespace common {

inline std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

inline std::vector<std::string_view> split_csv_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(trim_blanks(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// The rows of a CSV text whose first line is `header` (blanks around it allowed): fn(line, fields) for each
// non-blank line after it, `line` counted from 1 (the first row is line 2). False, and no row read, when the first
// line is not the header: the caller names that error in its own type.
template <typename Fn>
bool for_each_csv_row(std::string_view text, std::string_view header, Fn&& fn) {
  std::size_t start = 0;
  for (int line = 1; start <= text.size(); ++line) {
    const std::size_t end = text.find('\n', start);
    const std::string_view content = text.substr(start, end == std::string_view::npos ? end : end - start);
    start = end == std::string_view::npos ? text.size() + 1 : end + 1;
    if (line == 1) {
      if (trim_blanks(content) != header) return false;
    } else if (!trim_blanks(content).empty()) {
      fn(line, split_csv_line(content));
    }
  }
  return true;
}

}  // namespace common
