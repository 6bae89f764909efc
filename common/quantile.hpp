// Quantiles of a sample, linearly interpolated between order statistics (numpy's default): quantile q sits at
// rank q (n - 1). One definition for validation's error statistics and the simulator's latency percentiles.
#pragma once

#include <span>
#include <vector>

namespace common {

// sorted: ascending and non-empty; q in [0, 1].
double quantile_of_sorted(std::span<const double> sorted, double q);
// v non-empty (sorted here, hence the copy); q in [0, 1].
double quantile(std::vector<double> v, double q);

}  // namespace common
