#include "hardware/calibration.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hardware/error.hpp"

namespace hardware {

std::string_view to_string(KernelClass k) {
  switch (k) {
    case KernelClass::gemm: return "gemm";
    case KernelClass::gemv: return "gemv";
    case KernelClass::attention: return "attention";
    case KernelClass::elementwise: return "elementwise";
  }
  return "elementwise";
}

std::optional<KernelClass> parse_kernel_class(std::string_view s) {
  for (KernelClass k : kKernelClasses)
    if (to_string(k) == s) return k;
  return std::nullopt;
}

const EfficiencyFit* Calibration::find(const FitQuery& q) const {
  const EfficiencyFit* best = nullptr;
  int best_fields = -1;
  for (const auto& f : fits) {
    if (f.kind != q.kind || (!f.op.empty() && f.op != q.op) || (!f.weights.empty() && f.weights != q.weights) ||
        (!f.phase.empty() && f.phase != q.phase))
      continue;
    const int fields = int(!f.op.empty()) + int(!f.weights.empty()) + int(!f.phase.empty());
    if (fields > best_fields) {
      best = &f;
      best_fields = fields;
    }
  }
  return best;
}

namespace {

using nlohmann::json;

double number(const json& j, const std::string& key, const std::string& field, const std::string& origin) {
  const auto it = j.find(key);
  if (it == j.end()) throw ProfileError(origin, field, "is required");
  if (!it->is_number()) throw ProfileError(origin, field, fmt::format("must be a number, got {}", it->type_name()));
  const double v = it->get<double>();
  if (!std::isfinite(v)) throw ProfileError(origin, field, "must be finite");
  return v;
}

EfficiencyFit fit_of(const json& j, const std::string& field, const std::string& origin) {
  if (!j.is_object()) throw ProfileError(origin, field, fmt::format("must be a JSON object, got {}", j.type_name()));
  for (const auto& [k, v] : j.items())
    if (k != "kind" && k != "op" && k != "weights" && k != "phase" && k != "compute_efficiency" &&
        k != "memory_efficiency" && k != "overhead_s" && k != "points")
      throw ProfileError(origin, field + "." + k,
                         "unknown field (expected kind, op, weights, phase, compute_efficiency, memory_efficiency, "
                         "overhead_s, points)");
  EfficiencyFit f;
  const auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string()) throw ProfileError(origin, field + ".kind", "is required (a string)");
  const auto k = parse_kernel_class(kind->get<std::string>());
  if (!k)
    throw ProfileError(origin, field + ".kind",
                       fmt::format("unknown kernel class '{}' (known: gemm, gemv, attention, elementwise)",
                                   kind->get<std::string>()));
  f.kind = *k;
  for (auto [key, slot] : {std::pair{"op", &f.op}, {"weights", &f.weights}, {"phase", &f.phase}}) {
    const auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string() || it->get<std::string>().empty())
      throw ProfileError(origin, field + "." + key, "must be a non-empty string (leave it out to match any)");
    *slot = it->get<std::string>();
  }
  if (!f.phase.empty() && f.phase != "prefill" && f.phase != "decode")
    throw ProfileError(origin, field + ".phase", fmt::format("must be prefill or decode, got '{}'", f.phase));
  // An efficiency above 1 is possible (a roof measured low) but not by orders of magnitude.
  for (auto [key, slot] : {std::pair{"compute_efficiency", &f.compute_efficiency}, {"memory_efficiency", &f.memory_efficiency}}) {
    *slot = number(j, key, field + "." + key, origin);
    if (*slot <= 0 || *slot > 100)
      throw ProfileError(origin, field + "." + key, fmt::format("must be in (0, 100], got {}", *slot));
  }
  f.overhead_s = number(j, "overhead_s", field + ".overhead_s", origin);
  if (f.overhead_s < 0 || f.overhead_s > 1e3)
    throw ProfileError(origin, field + ".overhead_s", fmt::format("must be in [0, 1000] seconds, got {}", f.overhead_s));
  if (j.contains("points")) {
    const double p = number(j, "points", field + ".points", origin);
    if (p != std::floor(p) || p < 0 || p > 1e12)
      throw ProfileError(origin, field + ".points", fmt::format("must be a non-negative integer, got {}", p));
    f.points = std::int64_t(p);
  }
  return f;
}

}  // namespace

Calibration parse_calibration(const json& j, const std::string& origin) {
  if (!j.is_object())
    throw ProfileError(origin, "calibration", fmt::format("must be a JSON object, got {}", j.type_name()));
  for (const auto& [k, v] : j.items())
    if (k != "source" && k != "fits") throw ProfileError(origin, "calibration." + k, "unknown field (expected source, fits)");
  Calibration c;
  if (const auto s = j.find("source"); s != j.end()) {
    if (!s->is_string()) throw ProfileError(origin, "calibration.source", "must be a string");
    c.source = s->get<std::string>();
  }
  const auto fits = j.find("fits");
  if (fits == j.end() || !fits->is_array() || fits->empty())
    throw ProfileError(origin, "calibration.fits", "is required: a non-empty array");
  for (std::size_t i = 0; i < fits->size(); ++i) {
    const std::string field = fmt::format("calibration.fits[{}]", i);
    EfficiencyFit f = fit_of((*fits)[i], field, origin);
    for (const auto& g : c.fits)
      if (g.kind == f.kind && g.op == f.op && g.weights == f.weights && g.phase == f.phase)
        throw ProfileError(origin, field,
                           fmt::format("a second fit for kind {} op '{}' weights '{}' phase '{}'", to_string(f.kind),
                                       f.op, f.weights, f.phase));
    c.fits.push_back(std::move(f));
  }
  return c;
}

nlohmann::json to_json(const Calibration& c) {
  json fits = json::array();
  for (const auto& f : c.fits) {
    json x = {{"kind", to_string(f.kind)}};
    if (!f.op.empty()) x["op"] = f.op;
    if (!f.weights.empty()) x["weights"] = f.weights;
    if (!f.phase.empty()) x["phase"] = f.phase;
    x["compute_efficiency"] = f.compute_efficiency;
    x["memory_efficiency"] = f.memory_efficiency;
    x["overhead_s"] = f.overhead_s;
    x["points"] = f.points;
    fits.push_back(x);
  }
  json j = {{"fits", fits}};
  if (!c.source.empty()) j["source"] = c.source;
  return j;
}

}  // namespace hardware
