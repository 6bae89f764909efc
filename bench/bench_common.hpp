// What the benchmarks share: the spread of repeated timings, and timing a whole process.
#pragma once

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace bench {

struct Spread {
  double min, median, max;
};

// v non-empty; the median of an even count is the mean of the middle two.
inline Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return {v.front(), n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.back()};
}

// Wall milliseconds of `repetitions` runs of args[0] with args (posix_spawn, then wait); empty, with the
// reason printed, when the program cannot start or exits non-zero.
inline std::vector<double> process_ms(std::vector<std::string> args, int repetitions) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<double> ms;
  for (int r = 0; r < repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid;
    if (posix_spawn(&pid, args[0].c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      fmt::print("  cannot run {}\n", args[0]);
      return {};
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fmt::print("  {} failed\n", args[0]);
      return {};
    }
    ms.push_back(dt.count());
  }
  return ms;
}

}  // namespace bench
