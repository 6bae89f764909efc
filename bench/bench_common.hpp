// What the benchmarks share: timing a call, the spread and quantiles of repeated timings, seeded data, and timing a
// whole process.
#pragma once

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
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

// Wall seconds of one call of f.
inline double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The q-quantile (0 <= q <= 1) of v, v non-empty: the element nearest rank q (n - 1) of the sorted values.
inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::size_t(q * double(v.size() - 1) + 0.5)];
}

// n values in [-0.05, 0.05) from a xorshift seeded by `seed`: the same data on every host and run.
inline std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  std::uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = float(double(s >> 11) * 0x1.0p-53 * 2 - 1) * 0.05f;
  }
  return v;
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
