#include "common/strict_number.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

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

}  // namespace common
