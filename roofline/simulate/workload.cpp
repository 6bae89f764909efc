#include "roofline/simulate/workload.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "common/csv_line.hpp"
#include "common/strict_number.hpp"
#include "common/text_file.hpp"
#include "roofline/simulate/error.hpp"
#include "roofline/simulate/random.hpp"

namespace roofline::sim {

Workload fixed_batch(std::int64_t batch, std::int64_t prompt, std::int64_t output) {
  Workload w;
  w.origin = "fixed batch";
  w.description = fmt::format("fixed batch: {} request{} of {} prompt and {} output tokens at t = 0", batch,
                              batch == 1 ? "" : "s", prompt, output);
  Request r;
  r.prompt_tokens = prompt;
  r.output_tokens = output;
  w.requests.assign(std::size_t(batch), r);
  return w;
}

namespace {

using common::split_csv_line;
using common::trim_blanks;

// The columns a trace may have; index into Columns::at.
enum Column { arrival, prompt, output, prefix_id, prefix_tokens, kColumns };
constexpr std::array<std::string_view, kColumns> kColumnNames = {"arrival_s", "prompt_tokens", "output_tokens",
                                                                 "prefix_id", "prefix_tokens"};

struct RowReader {
  const std::string& origin;
  std::int64_t line;
  SimError error(Column c, const std::string& problem) const {
    return SimError(fmt::format("trace {}:{}", origin, line), fmt::format("column '{}'", kColumnNames[c]), problem);
  }
  std::int64_t integer(Column c, std::string_view text, std::int64_t lo, std::int64_t hi) const {
    std::int64_t v = 0;
    if (const std::string problem = common::integer_in_range(text, lo, hi, v); !problem.empty())
      throw error(c, problem);
    return v;
  }
  double seconds(Column c, std::string_view text) const {
    constexpr double kMaxSeconds = 1e9;
    const auto [v, status] = common::parse_real(text);
    if (status == common::NumberStatus::out_of_range) throw error(c, fmt::format("'{}' is out of range", text));
    if (status == common::NumberStatus::malformed)
      throw error(c, fmt::format("expected a number of seconds, got '{}'", text));
    if (status == common::NumberStatus::not_finite || v < 0 || v > kMaxSeconds)
      throw error(c, fmt::format("must be in [0, {:g}] seconds, got {}", kMaxSeconds, text));
    return v;
  }
};

}  // namespace

namespace {

// The trace read line by line: the header fixes the columns, each later line is a request.
struct TraceParser {
  const std::string& origin;
  Workload w;
  std::array<int, kColumns> at{};  // field index of each column, -1 when absent
  std::size_t width = 0;
  bool have_header = false;
  std::unordered_map<std::string, std::int32_t> prefix_index;
  std::vector<std::int64_t> prefix_length, prefix_line;  // per prefix: its tokens, the line that first gave them

  void header(const std::vector<std::string_view>& fields, const std::string& where) {
    at.fill(-1);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto it = std::find(kColumnNames.begin(), kColumnNames.end(), fields[i]);
      if (it == kColumnNames.end())
        throw SimError(where, fmt::format("column '{}'", fields[i]),
                       "unknown column (known: arrival_s, prompt_tokens, output_tokens, prefix_id, prefix_tokens)");
      const auto c = std::size_t(it - kColumnNames.begin());
      if (at[c] >= 0) throw SimError(where, fmt::format("column '{}'", fields[i]), "appears twice");
      at[c] = int(i);
    }
    for (Column c : {arrival, prompt, output})
      if (at[c] < 0) throw SimError(where, fmt::format("column '{}'", kColumnNames[c]), "is required in the header");
    if ((at[prefix_id] < 0) != (at[prefix_tokens] < 0))
      throw SimError(where, "column 'prefix_id'", "prefix_id and prefix_tokens go together");
    width = fields.size();
    have_header = true;
  }

  // The request's shared prefix, when it names one: every request naming a prefix gives the same length.
  void prefix(Request& r, std::string_view id, std::string_view tokens, const RowReader& rd) {
    if (id.empty()) {
      if (!tokens.empty() && rd.integer(prefix_tokens, tokens, 0, 0) != 0)
        throw rd.error(prefix_tokens, "needs a prefix_id");
      return;
    }
    r.prefix_tokens = rd.integer(prefix_tokens, tokens, 1, r.prompt_tokens);
    auto [it, inserted] = prefix_index.try_emplace(std::string(id), std::int32_t(w.prefix_names.size()));
    if (inserted) {
      w.prefix_names.emplace_back(id);
      prefix_length.push_back(r.prefix_tokens);
      prefix_line.push_back(rd.line);
    }
    r.prefix = it->second;
    const auto k = std::size_t(r.prefix);
    if (prefix_length[k] != r.prefix_tokens)
      throw rd.error(prefix_tokens, fmt::format("prefix '{}' has {} tokens on line {}, {} here", id, prefix_length[k],
                                                prefix_line[k], r.prefix_tokens));
  }

  void request(const std::vector<std::string_view>& fields, std::int64_t line_no, const std::string& where) {
    if (fields.size() != width)
      throw SimError(where, "", fmt::format("expected {} fields as in the header, got {}", width, fields.size()));
    const RowReader rd{origin, line_no};
    Request r;
    r.line = line_no;
    r.arrival_s = rd.seconds(arrival, fields[std::size_t(at[arrival])]);
    r.prompt_tokens = rd.integer(prompt, fields[std::size_t(at[prompt])], 1, kMaxTokens);
    r.output_tokens = rd.integer(output, fields[std::size_t(at[output])], 1, kMaxTokens);
    if (r.prompt_tokens + r.output_tokens > kMaxTokens)
      throw rd.error(output, fmt::format("prompt + output = {} tokens exceeds {}", r.prompt_tokens + r.output_tokens,
                                         kMaxTokens));
    if (at[prefix_id] >= 0) prefix(r, fields[std::size_t(at[prefix_id])], fields[std::size_t(at[prefix_tokens])], rd);
    if (w.requests.size() == std::size_t(kMaxRequests))
      throw SimError(where, "", fmt::format("more than {} requests", kMaxRequests));
    w.requests.push_back(r);
  }
};

}  // namespace

Workload parse_trace(const std::string& text, const std::string& origin) {
  TraceParser p{origin, {}, {}, 0, false, {}, {}, {}};
  p.w.origin = origin;
  std::int64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view raw(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string_view line = trim_blanks(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = fmt::format("trace {}:{}", origin, line_no);
    if (line.find('"') != std::string_view::npos) throw SimError(where, "", "quoted CSV fields are not supported");
    if (!p.have_header) p.header(split_csv_line(line), where);
    else p.request(split_csv_line(line), line_no, where);
  }
  Workload& w = p.w;
  if (!p.have_header) throw SimError(fmt::format("trace {}", origin), "", "is empty (expected a header line)");
  if (w.requests.empty()) throw SimError(fmt::format("trace {}", origin), "", "has a header but no requests");
  std::stable_sort(w.requests.begin(), w.requests.end(),
                   [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  w.description = fmt::format("trace {}: {} requests over {:.3g} s", origin, w.requests.size(),
                              w.requests.back().arrival_s - w.requests.front().arrival_s);
  if (!w.prefix_names.empty()) w.description += fmt::format(", {} shared prefixes", w.prefix_names.size());
  return std::move(p.w);
}

std::string to_csv(const Workload& w) {
  const bool prefixes = !w.prefix_names.empty();
  std::string out = prefixes ? "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n"
                             : "arrival_s,prompt_tokens,output_tokens\n";
  for (const Request& r : w.requests) {
    out += fmt::format("{:.9f},{},{}", r.arrival_s, r.prompt_tokens, r.output_tokens);
    if (prefixes) {
      if (r.prefix >= 0) out += fmt::format(",{},{}", w.prefix_names[std::size_t(r.prefix)], r.prefix_tokens);
      else out += ",,";
    }
    out += '\n';
  }
  return out;
}

Workload load_trace(const std::string& path) {
  const auto text = common::read_text_file(path);
  if (!text) throw SimError(fmt::format("trace {}", path), "", "cannot be read");
  return parse_trace(*text, path);
}

Distribution parse_distribution(const std::string& text, const std::string& option) {
  std::vector<std::string_view> p;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    p.push_back(std::string_view(text).substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  auto number = [&](std::string_view s) {
    const auto [v, status] = common::parse_real(s);
    if (status != common::NumberStatus::ok)
      throw OptionError(option, fmt::format("expected a number, got '{}' in '{}'", s, text));
    return v;
  };
  auto tokens = [&](std::string_view s) {
    const double v = number(s);
    if (v != std::floor(v) || v < 1 || v > double(kMaxTokens))
      throw OptionError(option, fmt::format("token counts are integers in [1, {}], got '{}'", kMaxTokens, s));
    return v;
  };
  Distribution d;
  d.text = text;
  if (p[0] == "fixed" && p.size() == 2) {
    d.kind = Distribution::Kind::fixed;
    d.a = d.b = tokens(p[1]);
  } else if (p[0] == "uniform" && p.size() == 3) {
    d.kind = Distribution::Kind::uniform;
    d.a = tokens(p[1]);
    d.b = tokens(p[2]);
    if (d.a > d.b) throw OptionError(option, fmt::format("uniform:A:B needs A <= B, got '{}'", text));
  } else if (p[0] == "lognormal" && p.size() == 3) {
    d.kind = Distribution::Kind::lognormal;
    d.a = tokens(p[1]);
    d.b = number(p[2]);
    if (d.b < 0 || d.b > 4)
      throw OptionError(option, fmt::format("lognormal sigma must be in [0, 4], got '{}'", p[2]));
  } else {
    throw OptionError(option,
                      fmt::format("unknown distribution '{}' (known: fixed:N, uniform:A:B, lognormal:MEAN:SIGMA)", text));
  }
  return d;
}

namespace {

std::int64_t draw(const Distribution& d, Rng& rng) {
  double v = d.a;
  switch (d.kind) {
    case Distribution::Kind::fixed: break;
    case Distribution::Kind::uniform: v = d.a + std::floor(rng.uniform() * (d.b - d.a + 1)); break;
    case Distribution::Kind::lognormal: {
      // exp(mu + sigma z) has mean exp(mu + sigma^2 / 2): mu = ln(MEAN) - sigma^2 / 2 gives the stated mean.
      const double mu = std::log(d.a) - d.b * d.b / 2;
      v = std::round(std::exp(mu + d.b * rng.normal()));
      break;
    }
  }
  return std::int64_t(std::clamp(v, 1.0, double(kMaxTokens)));
}

}  // namespace

Workload generate(const Generator& g) {
  Workload w;
  w.origin = "generated";
  for (std::int64_t i = 0; i < g.prefixes && g.prefix_tokens > 0; ++i) w.prefix_names.push_back(fmt::format("p{}", i));
  Rng rng(g.seed);
  double t = 0;
  const bool all_at_once = std::isinf(g.rate_per_s);
  w.requests.reserve(std::size_t(g.requests));
  for (std::int64_t i = 0; i < g.requests; ++i) {
    Request r;
    if (!all_at_once) t += rng.exponential(g.rate_per_s);  // Poisson process: exponential gaps
    r.arrival_s = t;
    r.prompt_tokens = draw(g.prompt, rng);
    r.output_tokens = draw(g.output, rng);
    if (g.prefix_tokens > 0) {
      r.prefix = std::int32_t(std::min<double>(std::floor(rng.uniform() * double(g.prefixes)), double(g.prefixes - 1)));
      r.prefix_tokens = g.prefix_tokens;
      r.prompt_tokens = std::min(r.prompt_tokens + g.prefix_tokens, kMaxTokens - 1);  // the prefix, then its own text
    }
    r.output_tokens = std::min(r.output_tokens, kMaxTokens - r.prompt_tokens);
    w.requests.push_back(r);
  }
  w.description =
      fmt::format("generated: {} requests, {} arrivals, prompt {}, output {}, seed {}", g.requests,
                  all_at_once ? std::string("all at t = 0") : fmt::format("Poisson at {:g}/s", g.rate_per_s),
                  g.prompt.text, g.output.text, g.seed);
  if (g.prefix_tokens > 0)
    w.description += fmt::format(", {} shared prefix{} of {} tokens", g.prefixes, g.prefixes == 1 ? "" : "es",
                                 g.prefix_tokens);
  return w;
}

}  // namespace roofline::sim
