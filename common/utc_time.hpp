// The current time in UTC, as strftime formats it: reports, calibrations and measured profiles say when they
// were made.
#pragma once

#include <ctime>
#include <string>

namespace common {

inline std::string utc_now(const char* strftime_format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, strftime_format, &tm);
  return text;
}

}  // namespace common
