// What the simulated server is asked to do: requests with an arrival time, prompt and output lengths, and
// optionally a shared prefix (a common system prompt) that prefix caching can reuse. From a fixed batch, a
// trace file (CSV) or a seeded generator (Poisson arrivals, length distributions).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace roofline::sim {

// Limits of one request; prompt + output stays within opmodel's context limit (2^24 tokens).
inline constexpr std::int64_t kMaxTokens = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxRequests = 10'000'000;

struct Request {
  double arrival_s = 0;
  std::int64_t prompt_tokens = 1;
  std::int64_t output_tokens = 1;  // tokens generated, the first by the prefill step
  std::int32_t prefix = -1;        // index into Workload::prefix_names; -1: no shared prefix
  std::int64_t prefix_tokens = 0;  // leading prompt tokens shared with every request of the same prefix
  std::int64_t line = 0;           // line in the trace file (0 when not from a file), for error messages
  bool prefilled = false;          // the prompt's KV and the first output token arrive with the request (the
                                   // decode pool of a disaggregated server): it only decodes
};

struct Workload {
  std::vector<Request> requests;          // in arrival order (ties keep their file order)
  std::vector<std::string> prefix_names;  // prefix index -> the trace's prefix_id
  std::string description;                // one line, for the report
  std::string origin;                     // trace path, "generated" or "fixed batch"
};

// `batch` identical requests arriving together at t = 0.
Workload fixed_batch(std::int64_t batch, std::int64_t prompt, std::int64_t output);

// The workload as a trace CSV that parse_trace reads back (arrival times to the nanosecond); the prefix
// columns only when some request has a prefix.
std::string to_csv(const Workload& w);

// A CSV with a header naming the columns, in any order: arrival_s, prompt_tokens, output_tokens, and
// optionally prefix_id and prefix_tokens. Blank lines and lines starting with '#' are skipped. Throws
// SimError naming origin:line and the column.
Workload parse_trace(const std::string& text, const std::string& origin);
Workload load_trace(const std::string& path);

// Token counts drawn from fixed:N, uniform:A:B (integers, inclusive) or lognormal:MEAN:SIGMA (mean in
// tokens, sigma of the underlying normal), rounded and clamped to [1, 2^24].
struct Distribution {
  enum class Kind { fixed, uniform, lognormal };
  Kind kind = Kind::fixed;
  double a = 1, b = 1;  // fixed: N; uniform: A, B; lognormal: MEAN, SIGMA
  std::string text;     // as given
};
// Throws SimError("option --NAME", ...) for an unknown kind or bad parameters.
Distribution parse_distribution(const std::string& text, const std::string& option);

struct Generator {
  double rate_per_s = std::numeric_limits<double>::infinity();  // Poisson arrivals; infinity: all at t = 0
  std::int64_t requests = 1;
  Distribution prompt, output;
  std::int64_t prefix_tokens = 0;  // > 0: each prompt starts with one of `prefixes` shared prefixes of this length
  std::int64_t prefixes = 1;
  std::uint64_t seed = 1;
};
// The same generator and seed give the same workload on every platform (own sampling on mt19937_64).
Workload generate(const Generator& g);

}  // namespace roofline::sim
