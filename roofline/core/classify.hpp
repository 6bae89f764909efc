// Placing an operator under a device's roofs.
//   intensity  I = FLOPs / bytes                      (FLOP/B)
//   attainable P = min(peak, I * bandwidth)           (FLOP/s)
//   time       t = max(FLOPs / peak, bytes / bandwidth), and the larger term names the bound.
// The roof of an op is the peak of its compute precision: its dtype on the matrix units, fp32 on the
// vector units for element-wise work. Bandwidth is the main memory's (HBM/DRAM).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "hardware/profile.hpp"
#include "opmodel/op_cost.hpp"

namespace roofline {

enum class Bound { memory, compute };
std::string_view to_string(Bound b);

// Matrix ops run at their compute dtype; fp32 GEMMs use the non-tensor fp32 peak (TF32 is opt-in
// in every framework, so it is not assumed). Vector ops run at fp32. fp8_block runs at fp8, mxfp4 and nvfp4 at fp4.
hardware::Precision precision_of(opmodel::Unit unit, opmodel::DType compute);
inline hardware::Precision precision_of(const opmodel::OpCost& op) { return precision_of(op.unit, op.compute); }

// A profile's roofs, flattened for the hot path.
struct Roofs {
  std::array<double, hardware::kAllPrecisions.size()> peak_flops_per_s{};  // 0 where the profile has none
  double bytes_per_s = 0;
  const hardware::Profile* profile = nullptr;  // for error messages

  static Roofs of(const hardware::Profile& p);
  // Peak of p; throws hardware::ProfileError naming the precisions the profile has.
  double peak(hardware::Precision p) const {
    double v = peak_flops_per_s[static_cast<std::size_t>(p)];
    return v > 0 ? v : profile->require_peak(p);
  }
  double ridge(hardware::Precision p) const { return peak(p) / bytes_per_s; }  // FLOP/B
  bool has(hardware::Precision p) const { return peak_flops_per_s[static_cast<std::size_t>(p)] > 0; }
  // The precision op runs at here: its compute dtype's, or, for block-float weights on a part without tensor
  // cores for their format, the up-converted one (mxfp4 on Hopper runs bf16, fp8_block on Ampere fp16/bf16).
  hardware::Precision precision_for(const opmodel::OpCost& op) const {
    const hardware::Precision p = precision_of(op);
    return op.upconvert && !has(p) ? precision_of(op.unit, *op.upconvert) : p;
  }
};

struct OpPoint {
  opmodel::OpCost cost;
  hardware::Precision precision = hardware::Precision::fp32;
  double intensity = 0;               // FLOP/B
  double attainable_flops_per_s = 0;  // min(peak, I * bandwidth)
  Bound bound = Bound::memory;
  double time_s = 0;                  // one instance
  double total_time_s() const { return time_s * double(cost.count); }
};

OpPoint classify(const opmodel::OpCost& op, const Roofs& roofs);

}  // namespace roofline
