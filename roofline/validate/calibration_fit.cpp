#include "roofline/validate/calibration_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "opmodel/op_names.hpp"

namespace roofline {

namespace {

struct Sample {
  double compute_s, memory_s, measured_s;
};

// argmin over a >= 0 of sum |a - d_i| w_i: the weighted median of d (clamped at 0).
double weighted_median_overhead(std::vector<std::pair<double, double>>& dw) {
  std::sort(dw.begin(), dw.end());
  double total = 0;
  for (const auto& [d, w] : dw) total += w;
  double acc = 0;
  for (const auto& [d, w] : dw) {
    acc += w;
    if (acc >= total / 2) return std::max(d, 0.0);
  }
  return 0;
}

struct Candidate {
  double loss = std::numeric_limits<double>::infinity();
  double ce = 1, me = 1, overhead = 0;
};

Candidate evaluate(std::span<const Sample> samples, double ce, double me) {
  std::vector<std::pair<double, double>> dw;
  dw.reserve(samples.size());
  for (const Sample& s : samples)
    dw.emplace_back(s.measured_s - std::max(s.compute_s / ce, s.memory_s / me), 1 / s.measured_s);
  Candidate c{0, ce, me, weighted_median_overhead(dw)};
  for (const Sample& s : samples)
    c.loss += std::abs(c.overhead + std::max(s.compute_s / ce, s.memory_s / me) - s.measured_s) / s.measured_s;
  // Where the loss is flat in an efficiency (no row depends on it) this tie-break holds it near 1.
  c.loss += 1e-9 * double(samples.size()) * (std::log(ce) * std::log(ce) + std::log(me) * std::log(me));
  return c;
}

// Grid search over log efficiencies in [lo, hi]^2, then five times over +-1 step around the best (a
// resolution of 1e-5 in the efficiencies).
Candidate search(std::span<const Sample> samples) {
  const double lo = std::log(1e-3), hi = std::log(10.0);
  int steps = 64;
  Candidate best;
  double centre_c = (lo + hi) / 2, centre_m = centre_c, half = (hi - lo) / 2;
  for (int round = 0; round < 6; ++round) {
    const double step = 2 * half / (steps - 1);
    for (int i = 0; i < steps; ++i)
      for (int j = 0; j < steps; ++j) {
        const Candidate c = evaluate(samples, std::exp(centre_c - half + i * step), std::exp(centre_m - half + j * step));
        if (c.loss < best.loss) best = c;
      }
    centre_c = std::log(best.ce);
    centre_m = std::log(best.me);
    half = step;
    steps = 17;
  }
  return best;
}

// Projections the engine runs as more than one GEMV or GEMM call: MLA's absorbed q_absorb and o_absorb (a gather and
// a product per head, 16 calls an op), and the MoE router (its GEMV, then the top-k and the grouping of rows by
// expert). Sharing the dense projections' fit, they were the worst-expected ops of the MoE and MLA sweeps (held-out
// medians 24-44%, against 3-14% for every other op; `validate --sweep` on docs/examples' MoE and MLA layers).
bool composite_projection(std::string_view op) {
  return op == opmodel::op::q_absorb || op == opmodel::op::o_absorb || op == opmodel::op::router;
}

}  // namespace

hardware::EfficiencyFit fit_selector(ValidationKind kind, std::string_view op, std::string_view weights, Phase phase) {
  // One fit per kernel the engine runs: GEMM and GEMV per weight format (each format has its own inner
  // loop), attention per phase (tiled prefill, split-position decode), each element-wise op and each composite
  // projection (composite_projection) its own. The weight format and phase also decide what ran just before an op
  // and so the caches it starts from (in the sweeps, a 16K-element RMSNorm after a bf16 GEMV once took twice its
  // time after an fp32 one, at every context length), so every fit is also per weight format and phase.
  hardware::EfficiencyFit f;
  f.kind = kind;
  f.weights = std::string(weights);
  f.phase = std::string(to_string(phase));
  if (kind == ValidationKind::elementwise || composite_projection(op)) f.op = std::string(op);
  return f;
}

Calibration fit_calibration(std::span<const ValidationRow> rows, std::string source) {
  std::vector<std::pair<hardware::EfficiencyFit, std::vector<Sample>>> groups;
  for (const auto& r : rows) {
    if (r.measured_s.median <= 0) continue;
    const hardware::EfficiencyFit key = fit_selector(r.kind, r.op, r.kernel_weights, r.step.phase);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), {key, {}});
    it->second.push_back({r.compute_s, r.memory_s, r.measured_s.median});
  }
  Calibration c;
  c.source = std::move(source);
  for (auto& [fit, samples] : groups) {
    const Candidate best = search(samples);
    fit.compute_efficiency = best.ce;
    fit.memory_efficiency = best.me;
    fit.overhead_s = best.overhead;
    fit.points = std::int64_t(samples.size());
    c.fits.push_back(fit);
  }
  return c;
}

void apply_calibration(const Calibration& c, std::span<ValidationRow> rows) {
  for (auto& r : rows)
    if (const auto* f = c.find({r.kind, r.op, r.kernel_weights, to_string(r.step.phase)}))
      r.expected_s = expected_time(*f, r.compute_s, r.memory_s);
}

}  // namespace roofline
