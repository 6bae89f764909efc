// The command line's number parsers: strict integers and reals, option ranges, length distributions,
// --batch-sweep lists. A usage error is the documented answer to a bad one.
#include <cmath>

#include "common/strict_number.hpp"
#include "fuzz_support.hpp"
#include "roofline/cli/options.hpp"
#include "roofline/simulate/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text_of(data, size);
  const auto i = common::parse_int64(text);
  const auto r = common::parse_real(text);
  if (i.ok() && !r.ok() && r.status != common::NumberStatus::out_of_range) __builtin_trap();  // an integer is a real
  if (r.ok() && !std::isfinite(r.value)) __builtin_trap();
  try {
    roofline::cli::parse_integer("n", text, -5, 1 << 20);
  } catch (const roofline::cli::UsageError&) {
  }
  try {
    roofline::cli::parse_number("x", text, 0, 1e6);
  } catch (const roofline::cli::UsageError&) {
  }
  fuzz::expect_clean([&] { roofline::sim::parse_distribution(text, "prompt-dist"); });
  return 0;
}
