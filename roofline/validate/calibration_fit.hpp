// Fitting a calibration: an achievable roofline per kernel class (hardware/calibration.hpp), fitted from
// validation rows and applied to them (core/expected_time.hpp applies it to `analyze`'s and `simulate`'s ops):
//   expected = overhead_s + max(compute_s / compute_efficiency, memory_s / memory_efficiency)
// Fitted per kernel (fit_selector says which) on the rows that kernel ran.
//
// Objective: the sum of |expected - measured| / measured, the loss whose minimiser is the median relative
// error the accuracy is judged by, and which one noisy sample cannot drag. For fixed efficiencies the best
// overhead is then the weighted median of (measured - roof time) with weights 1 / measured (clamped at 0:
// a negative overhead is not physical); the two efficiencies are searched on a log grid, refined five times.
// An efficiency no row's time depends on (all rows on one side of the ridge) is held at 1 where it can be.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "roofline/validate/validation.hpp"

namespace roofline {

// The fit an op of this class, name, weight dtype and phase is fitted under (the fields it narrows to).
hardware::EfficiencyFit fit_selector(ValidationKind kind, std::string_view op, std::string_view weights, Phase phase);

// Fits every (kind, weights) present in rows. source: what was measured (stored with the fits).
Calibration fit_calibration(std::span<const ValidationRow> rows, std::string source = {});

// Sets expected_s of each row the calibration has a fit for.
void apply_calibration(const Calibration& c, std::span<ValidationRow> rows);

}  // namespace roofline
