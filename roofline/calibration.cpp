#include "roofline/calibration.hpp"

#include <algorithm>
#include <cmath>

namespace roofline {

namespace {

KindFit fit_kind(ValidationKind kind, std::span<const ValidationRow> rows) {
  // Weighted least squares of y = a + b x with weights 1 / y^2: the normal equations in closed form.
  double sw = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
  std::int64_t n = 0;
  for (const auto& r : rows) {
    if (r.kind != kind) continue;
    const double x = r.predicted_s, y = r.measured_s.median, w = 1 / (y * y);
    sw += w;
    sx += w * x;
    sxx += w * x * x;
    sy += w * y;
    sxy += w * x * y;
    ++n;
  }
  KindFit f;
  f.kind = kind;
  f.points = n;
  const double det = sw * sxx - sx * sx;
  double a = 0, b = sxy / sxx;  // through the origin
  if (n >= 2 && det > 1e-12 * sw * sxx) {
    const double a2 = (sy * sxx - sx * sxy) / det, b2 = (sw * sxy - sx * sy) / det;
    if (a2 >= 0 && b2 > 0) {
      a = a2;
      b = b2;
    }
  }
  f.overhead_s = a;
  f.efficiency = 1 / b;
  return f;
}

}  // namespace

Calibration fit_calibration(std::span<const ValidationRow> rows) {
  Calibration c;
  for (ValidationKind k : kValidationKinds)
    if (std::any_of(rows.begin(), rows.end(), [&](const ValidationRow& r) { return r.kind == k; }))
      c.fits.push_back(fit_kind(k, rows));
  return c;
}

void apply_calibration(const Calibration& c, std::span<ValidationRow> rows) {
  for (auto& r : rows)
    if (const KindFit* f = c.find(r.kind)) r.expected_s = f->overhead_s + r.predicted_s / f->efficiency;
}

}  // namespace roofline
