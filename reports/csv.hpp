// RFC 4180 CSV: fields with a comma, quote or newline are quoted, quotes doubled.
#pragma once

#include <string>
#include <vector>

namespace reports {

std::string csv_field(const std::string& s);
std::string csv_row(const std::vector<std::string>& fields);  // ends with "\n"

}  // namespace reports
