#include "reports/units.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace reports {
namespace {

// Three significant digits: 1.23, 12.3, 123.
std::string three_digits(double v) {
  const double a = std::fabs(v);
  if (a >= 99.95) return fmt::format("{:.0f}", v);
  if (a >= 9.995) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

}  // namespace

std::string si(double value, const std::string& unit) {
  if (value == 0 || !std::isfinite(value)) return fmt::format("{} {}", value, unit);
  static constexpr std::array<const char*, 11> prefixes = {"p", "n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  int exp3 = int(std::floor(std::log10(std::fabs(value)) / 3));
  // Beyond the largest prefix (a --force'd profile of 1.7e308 B/s): scientific, never hundreds of digits.
  // Below the smallest, the clamp shows it as the nothing it is ("0.00 ps").
  if (exp3 > 6) return fmt::format("{:.3g} {}", value, unit);
  exp3 = std::max(exp3, -4);
  double scaled = value / std::pow(10.0, 3 * exp3);
  if (std::fabs(scaled) >= 999.5 && exp3 < 6) {  // rounding carried into the next prefix
    scaled /= 1000;
    ++exp3;
  }
  return fmt::format("{} {}{}", three_digits(scaled), prefixes[std::size_t(exp3 + 4)], unit);
}

std::string duration(double seconds) { return si(seconds, "s"); }

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

}  // namespace reports
