// A request trace CSV (simulate --trace), written back as CSV and read again when it parses.
#include "fuzz_support.hpp"
#include "roofline/simulate/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_clean([&] {
    const roofline::sim::Workload w = roofline::sim::parse_trace(fuzz::text_of(data, size), "fuzz.csv");
    const roofline::sim::Workload again = roofline::sim::parse_trace(roofline::sim::to_csv(w), "again.csv");
    if (again.requests.size() != w.requests.size()) __builtin_trap();
  });
  return 0;
}
