// Calibration: how close to a device's roofs its kernels come, per kernel class, as fitted by
// `roofline validate --sweep` (roofline/validate/calibration_fit.hpp fits it; roofline/core/expected_time.hpp
// applies it):
//   expected time = overhead_s + max(compute time / compute_efficiency, memory time / memory_efficiency)
// that is, the roofline with each roof lowered to the fraction the kernels attain, plus a fixed cost per call
// (thread fork/join, loop set-up, launch). Stored in the profile's "calibration" field; see the README's
// "Hardware profiles" schema.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hardware {

// GEMV: a linear of a few rows (the weights streamed once); GEMM: a larger one; attention; element-wise
// (norms, activations, residual adds, rotary embedding, embedding lookup).
enum class KernelClass { gemm, gemv, attention, elementwise };
inline constexpr KernelClass kKernelClasses[] = {KernelClass::gemm, KernelClass::gemv, KernelClass::attention,
                                                 KernelClass::elementwise};
std::string_view to_string(KernelClass k);
std::optional<KernelClass> parse_kernel_class(std::string_view s);

// One fitted kernel: a kernel class, narrowed (optionally) to one op, one weight dtype and one phase.
struct EfficiencyFit {
  KernelClass kind = KernelClass::gemm;
  std::string op;                     // op name ("rope", "attention", ...); empty: any
  std::string weights;                // weight dtype ("fp32", "int8", ...); empty: any
  std::string phase;                  // "prefill" or "decode"; empty: any
  double compute_efficiency = 1;      // attained fraction of the compute roof, > 0
  double memory_efficiency = 1;       // attained fraction of the bandwidth roof, > 0
  double overhead_s = 0;              // fixed cost per call, >= 0
  std::int64_t points = 0;            // measurements it was fitted on
  bool operator==(const EfficiencyFit&) const = default;
};

// An op to find a fit for.
struct FitQuery {
  KernelClass kind = KernelClass::gemm;
  std::string_view op, weights, phase;
};

struct Calibration {
  std::string source;  // what was measured, how, when
  std::vector<EfficiencyFit> fits;
  // The most specific fit whose every given field matches the query (ties: the first); null when none.
  const EfficiencyFit* find(const FitQuery& q) const;
  bool operator==(const Calibration&) const = default;
};

// Parses the profile's "calibration" object; errors are ProfileError(origin, "calibration.fits[i].field", ...).
Calibration parse_calibration(const nlohmann::json& j, const std::string& origin);
nlohmann::json to_json(const Calibration& c);

}  // namespace hardware
