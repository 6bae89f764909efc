#include "engine/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "engine/error.hpp"

namespace engine {

void validate(const SamplerOptions& o) {
  auto bad = [](const char* field, double v, const char* range) {
    throw EngineError("sampler", field, fmt::format("{} is outside {}", v, range));
  };
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) bad("temperature", o.temperature, "[0, inf)");
  if (o.top_k < 0) bad("top_k", double(o.top_k), "[0, vocab]");
  if (!(o.top_p > 0 && o.top_p <= 1)) bad("top_p", o.top_p, "(0, 1]");
  if (!(o.repetition_penalty > 0) || !std::isfinite(o.repetition_penalty))
    bad("repetition_penalty", o.repetition_penalty, "(0, inf)");
  if (!std::isfinite(o.presence_penalty)) bad("presence_penalty", o.presence_penalty, "finite values");
  if (!std::isfinite(o.frequency_penalty)) bad("frequency_penalty", o.frequency_penalty, "finite values");
}

Sampler::Sampler(const SamplerOptions& o, std::int64_t vocab, std::uint64_t stream)
    : o_(o), vocab_(vocab), rng_(o.seed * 0x9e3779b97f4a7c15ull + stream), counts_(std::size_t(vocab), 0) {}

std::int32_t Sampler::sample(float* logits, std::span<const std::int32_t> prompt,
                             std::span<const std::int32_t> output) {
  if (o_.repetition_penalty != 1) {
    std::fill(counts_.begin(), counts_.end(), 0);
    for (auto t : prompt) counts_[std::size_t(t)] = 1;
    for (auto t : output) counts_[std::size_t(t)] = 1;
    const auto p = float(o_.repetition_penalty);
    for (std::int64_t v = 0; v < vocab_; ++v)
      if (counts_[std::size_t(v)]) logits[v] = logits[v] > 0 ? logits[v] / p : logits[v] * p;
  }
  if (o_.presence_penalty != 0 || o_.frequency_penalty != 0) {
    std::fill(counts_.begin(), counts_.end(), 0);
    for (auto t : output) ++counts_[std::size_t(t)];
    for (std::int64_t v = 0; v < vocab_; ++v)
      if (const auto n = counts_[std::size_t(v)])
        logits[v] -= float(o_.presence_penalty) + float(o_.frequency_penalty) * float(n);
  }
  if (o_.temperature == 0) return std::int32_t(std::max_element(logits, logits + vocab_) - logits);

  for (std::int64_t v = 0; v < vocab_; ++v) logits[v] = float(logits[v] / o_.temperature);
  order_.resize(std::size_t(vocab_));
  std::iota(order_.begin(), order_.end(), 0);
  const auto by_logit = [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::int64_t keep = vocab_;
  if (o_.top_k > 0 && o_.top_k < vocab_) {
    keep = o_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), by_logit);
  } else if (o_.top_p < 1) {
    std::sort(order_.begin(), order_.end(), by_logit);
  }  // else: the full distribution, in vocabulary order (no sort needed)
  // softmax over the kept tokens
  float top = logits[order_[0]];
  for (std::int64_t i = 1; i < keep; ++i) top = std::max(top, logits[order_[std::size_t(i)]]);
  std::vector<double> prob(static_cast<std::size_t>(keep));
  double sum = 0;
  for (std::int64_t i = 0; i < keep; ++i) sum += prob[std::size_t(i)] = std::exp(double(logits[order_[std::size_t(i)]] - top));
  for (auto& p : prob) p /= sum;
  if (o_.top_p < 1) {
    double cumulative = 0;
    std::int64_t n = 0;
    while (n < keep && cumulative < o_.top_p) cumulative += prob[std::size_t(n++)];
    keep = std::max<std::int64_t>(1, n);
  }
  double total = 0;
  for (std::int64_t i = 0; i < keep; ++i) total += prob[std::size_t(i)];
  const double u = std::uniform_real_distribution<double>(0, total)(rng_);
  double acc = 0;
  for (std::int64_t i = 0; i < keep; ++i) {
    acc += prob[std::size_t(i)];
    if (u < acc) return order_[std::size_t(i)];
  }
  return order_[std::size_t(keep - 1)];
}

}  // namespace engine
