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

}  // namespace common
