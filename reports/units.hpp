// Human-readable numbers with SI prefixes (k = 1e3, M = 1e6, G = 1e9, ...; never binary).
#pragma once

#include <string>

namespace reports {

// 1.23e9 -> "1.23 G" + unit; 3 significant digits; 0 -> "0 " + unit.
std::string si(double value, const std::string& unit);
// Seconds as "812 ns", "1.20 ms", "3.40 s".
std::string duration(double seconds);
// Fraction as "12.3%".
std::string percent(double fraction);

}  // namespace reports
