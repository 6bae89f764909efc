// Calibration: an achievable-efficiency model per op kind, fitted from validation rows:
//   expected time = overhead_s + bound / efficiency
// by least squares on the relative residual ((expected - measured) / measured, so short and long calls weigh
// alike, as the accuracy figures do). A negative overhead is not physical: the fit then has none.
#pragma once

#include <span>
#include <vector>

#include "roofline/validation.hpp"

namespace roofline {

// Fits every kind present in rows (a kind with one distinct bound gets no overhead).
Calibration fit_calibration(std::span<const ValidationRow> rows);
// Sets expected_s of each row whose kind the calibration has.
void apply_calibration(const Calibration& c, std::span<ValidationRow> rows);

}  // namespace roofline
