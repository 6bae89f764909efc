#include "common/quantile.hpp"

#include <algorithm>
#include <cmath>

namespace common {

double quantile_of_sorted(std::span<const double> v, double q) {
  const double rank = q * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - double(lo));
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return quantile_of_sorted(v, q);
}

}  // namespace common
