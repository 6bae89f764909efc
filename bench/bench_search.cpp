// Speed of `roofline search` (issue 18: at least 1,000 candidate deployments of a 2,000-request workload for
// Llama-3-70B on 8 H100s in under 10 s on the 2-core development machine): the README's search, run whole as a
// process on every core, repeated; the median wall time, with min and max, and the candidates it went through;
// then once with --exhaustive (no reuse, no early stop), which must make the same choice.
// Run: build/bench/bench_search [path/to/roofline]
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_common.hpp"

namespace {

// The README's example.
const char* const kArgs =
    "search --model llama-3-70b --hw h100-sxm --gpus 8 --requests 2000 --rate 20 --isl lognormal:1024:0.6 "
    "--osl lognormal:256:0.6 --ttft 1 --tpot 0.03 --time-model calibrated";

struct Run {
  double seconds = 0;
  std::string out;
  bool ok = false;
};

Run run(const std::string& binary, const std::string& extra = "") {
  Run r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = popen((binary + " " + kArgs + extra + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return r;
}

std::string line_starting(const std::string& text, const std::string& prefix) {
  const auto at = text.find(prefix);
  if (at == std::string::npos) return "(not found)";
  return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary = argc > 1 ? argv[1] : ROOFLINE_BIN;
  constexpr int kRepetitions = 3;
  fmt::print("roofline {}\n{} hardware threads\n", kArgs, std::thread::hardware_concurrency());
  std::vector<double> seconds;
  Run last;
  for (int i = 0; i < kRepetitions; ++i) {
    last = run(binary);
    if (!last.ok) {
      fmt::print("the search failed:\n{}\n", last.out);
      return 1;
    }
    seconds.push_back(last.seconds);
  }
  const bench::Spread s = bench::spread(seconds);
  fmt::print("{}\n{}\n", line_starting(last.out, "candidates:"), line_starting(last.out, "choice:"));
  fmt::print("whole process: median {:.2f} s (min {:.2f}, max {:.2f}; {} runs)  target < 10 s: {}\n", s.median, s.min,
             s.max, kRepetitions, s.median < 10 ? "met" : "MISSED");
  // Once without the reuse of runs and the early stop: the time they save, and the same choice.
  const Run full = run(binary, " --exhaustive");
  if (!full.ok) {
    fmt::print("the exhaustive search failed:\n{}\n", full.out);
    return 1;
  }
  const bool same = line_starting(full.out, "choice:") == line_starting(last.out, "choice:");
  fmt::print("--exhaustive, once: {:.2f} s, {}\n", full.seconds, same ? "the same choice" : "A DIFFERENT CHOICE");
  return same ? 0 : 1;
}
