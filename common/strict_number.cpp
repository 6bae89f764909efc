#include "common/strict_number.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

namespace common {

Parsed<std::int64_t> parse_int64(std::string_view text) {
  Parsed<std::int64_t> p;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, p.value);
  if (ec == std::errc::result_out_of_range) p.status = NumberStatus::out_of_range;
  else if (ec != std::errc() || ptr != last || text.empty()) p.status = NumberStatus::malformed;
  else p.status = NumberStatus::ok;
  return p;
}

Parsed<double> parse_real(std::string_view text) {
  Parsed<double> p;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, p.value);
  if (ec == std::errc::result_out_of_range) p.status = NumberStatus::out_of_range;
  else if (ec != std::errc() || ptr != last || text.empty()) p.status = NumberStatus::malformed;
  else if (!std::isfinite(p.value)) p.status = NumberStatus::not_finite;
  else p.status = NumberStatus::ok;
  return p;
}

std::string integer_in_range(std::string_view text, std::int64_t lo, std::int64_t hi, std::int64_t& value) {
  const auto [v, status] = parse_int64(text);
  if (status == NumberStatus::out_of_range) return fmt::format("'{}' is out of range (at most {})", text, hi);
  if (status != NumberStatus::ok) return fmt::format("expected an integer, got '{}'", text);
  if (v < lo || v > hi) return fmt::format("must be in [{}, {}], got {}", lo, hi, v);
  value = v;
  return {};
}

}  // namespace common
