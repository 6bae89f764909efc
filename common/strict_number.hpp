// Strict number parsing for every reader of outside text (command-line options, trace and measured-times CSV):
// the whole text must be one decimal number, nothing before or after it, no leading '+', finite. Callers say
// what the number is and build their own typed error from the outcome.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace common {

// not_finite: "inf", "nan" and the like, which from_chars reads but no count or duration can be.
enum class NumberStatus { ok, malformed, out_of_range, not_finite };

template <class T>
struct Parsed {
  T value{};
  NumberStatus status = NumberStatus::malformed;
  bool ok() const { return status == NumberStatus::ok; }
};

// A decimal integer ("-12", "4096"); out_of_range when it does not fit in 64 bits.
Parsed<std::int64_t> parse_int64(std::string_view text);
// A decimal or scientific real ("0.5", "3e12"); overflow is out_of_range, inf and nan not_finite.
Parsed<double> parse_real(std::string_view text);

// An integer in [lo, hi]: sets value and returns "", or returns what is wrong in words ("expected an integer,
// got '12x'", "must be in [1, 64], got 0", "'99999999999999999999' is out of range (at most 64)") for the
// caller's own typed error, which names the option or column.
std::string integer_in_range(std::string_view text, std::int64_t lo, std::int64_t hi, std::int64_t& value);

}  // namespace common
