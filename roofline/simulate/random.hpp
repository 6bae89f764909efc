// Seeded random numbers that are the same on every platform: mt19937_64 is specified bit for bit by the
// standard, the transforms below are our own (std:: distributions differ between library implementations).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace roofline::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1): the top 53 bits of one draw, scaled by 2^-53.
  double uniform() { return double(engine_() >> 11) * 0x1.0p-53; }
  // Exponential with the given rate, by inverting its CDF: -ln(1 - u) / rate.
  double exponential(double rate) { return -std::log1p(-uniform()) / rate; }
  // Standard normal by Box-Muller: sqrt(-2 ln(1 - u1)) cos(2 pi u2).
  double normal() {
    const double r = std::sqrt(-2.0 * std::log1p(-uniform()));
    return r * std::cos(2.0 * std::numbers::pi * uniform());
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace roofline::sim
